"""Invented people for the batch tests: names that share no character with each other."""

from __future__ import annotations

import dataclasses
import subprocess
from typing import Any

from doc_templates.context import DocumentData, build_context
from doc_templates.samples import SAMPLE_PERSON, sample

# Invented; chosen so that no two names share a character. The last is the sample's rare name (𠮷).
NAMES = ("柏翠鸥", "葛琼鹭", "寇霜燕", "简韵鹃", "闵黛鹂", "单绮鹊", SAMPLE_PERSON.name)
CODES = (
    "7KQ3-M9XD-2HFA-0RTV",
    "GTTB-DS26-70ZS-C6GP",
    "A2B4-C6D8-E9F1-G3H5",
    "K7M2-N4P6-Q8R1-S3T5",
    "V2W4-X6Y8-Z1A3-B5C7",
    "D9E2-F4G6-H8J1-K3M5",
    "P2Q4-R6S8-T1V3-W5X7",
)


def people_data(kind: str, count: int = len(NAMES)) -> list[DocumentData]:
    base = sample(kind)
    out = []
    for i in range(count):
        meta = dataclasses.replace(
            base.meta, code=CODES[i], number=base.meta.number.replace("0001", f"{i + 1:04d}")
        )
        person = dataclasses.replace(base.person, name=NAMES[i])
        out.append(dataclasses.replace(base, meta=meta, person=person))
    return out


def contexts(kind: str, count: int = len(NAMES)) -> list[dict[str, Any]]:
    return [build_context(d) for d in people_data(kind, count)]


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-q", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return "".join(out.decode().split())
