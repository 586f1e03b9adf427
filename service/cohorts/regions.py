"""The leagues/cities (盟市) and banners/counties (旗县) of Inner Mongolia, shipped as data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).parent / "data" / "inner-mongolia.json"


@dataclass(frozen=True)
class League:
    code: str
    name: str
    counties: tuple[str, ...]


@dataclass(frozen=True)
class Regions:
    name: str
    leagues: tuple[League, ...]

    def league(self, name: str) -> League | None:
        return self._by_name().get(name)

    def league_of(self, county: str) -> list[str]:
        return [lg.name for lg in self.leagues if county in lg.counties]

    def _by_name(self) -> dict[str, League]:
        return {lg.name: lg for lg in self.leagues}


@lru_cache
def regions() -> Regions:
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    return Regions(
        name=raw["region"],
        leagues=tuple(League(lg["code"], lg["name"], tuple(lg["counties"])) for lg in raw["leagues"]),
    )
