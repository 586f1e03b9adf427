"""End-to-end browser tests: the real app under uvicorn and a real job worker, each in its own
process, over the test database and data folder; Debian's Chromium driven by Playwright.

Chromium comes from the system (``apt-get install chromium``, done by ``scripts/bootstrap.sh`` with
``XIBU_WITH_TEST_TOOLS=1``); Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import get_settings
from tests.conftest import _KEEP, TEST_DATABASE_URL

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
DATABASE = "postgresql" if TEST_DATABASE_URL.startswith("postgresql") else "sqlite"
ARTIFACTS = Path(os.environ.get("XIBU_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "web" / DATABASE
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
# Chromium as root in a container, on a machine without network: no sandbox, no background calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveApp:
    url: str
    processes: list[subprocess.Popen[bytes]]
    log: Path

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_up(app: LiveApp, deadline: float) -> None:
    while time.monotonic() < deadline:
        for proc in app.processes:
            if proc.poll() is not None:
                pytest.fail(f"a process of the live app exited ({proc.returncode}):\n{app.tail()}")
        try:
            if httpx.get(f"{app.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the app did not answer within the start-up time:\n{app.tail()}")


def _empty_database() -> None:
    from sqlmodel import SQLModel

    from storage.db import get_engine

    with get_engine().begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name not in _KEEP:
                conn.execute(table.delete())


@pytest.fixture(scope="module")
def live_app(migrated_url: str, pki_ready: object) -> Iterator[LiveApp]:
    """``uvicorn service.main:app`` and ``xibu worker`` on the test database; emptied afterwards."""
    from service.jobs import queue
    from service.pki.service import stamp_fonts

    stamp_fonts()  # the shared font cache, so the first signature in the app does not build it
    queue().flush()  # jobs left by other tests name rows that are gone
    shutil.rmtree(get_settings().outbox_dir, ignore_errors=True)  # so are their messages (ids get reused)
    _empty_database()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "live-app.log"
    env = {**os.environ, "XIBU_PUBLIC_URL": url, "XIBU_CONVERTERS": "1", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-m", "service", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    app = LiveApp(url, [server, worker], log)
    try:
        _wait_until_up(app, time.monotonic() + 60)
        yield app
    finally:
        for proc in app.processes:
            proc.terminate()
        for proc in app.processes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        _empty_database()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing: run scripts/test.sh (it installs Debian's chromium), or apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def outbox(document_id: int | None = None) -> list[dict[str, Any]]:
    folder = get_settings().outbox_dir
    messages = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    return [m for m in messages if document_id is None or m["document_id"] == document_id]


def wait_for_message(
    document_id: int, party: str, purpose: str, *, seen: int = 0, timeout: float = 15
) -> dict[str, Any]:
    """The newest ``purpose`` message to ``party`` once there are more than ``seen`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in outbox(document_id) if m["party"] == party and m["purpose"] == purpose]
        if len(found) > seen:
            return found[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {purpose} message for {party} in the outbox: {outbox(document_id)}")
        time.sleep(0.1)


class Pages:
    """Screenshots of every page at phone and desktop widths, with the checks each must pass there."""

    def __init__(self) -> None:
        self.count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("*.png"):
            old.unlink()

    def check(self, page: Any, name: str) -> None:
        """At 375 px and at desktop width: no sideways scrolling, every field labelled; a screenshot each."""
        self.count += 1
        original = page.viewport_size
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            page.wait_for_load_state("load")
            overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {label} width"
            unlabelled = page.evaluate(
                """() => [...document.querySelectorAll('input, select, textarea')]
                    .filter(el => el.type !== 'hidden' && !el.labels.length && !el.getAttribute('aria-label'))
                    .map(el => el.name || el.id)"""
            )
            assert not unlabelled, f"{name}: fields without a label: {unlabelled}"
            page.screenshot(path=str(ARTIFACTS / f"{self.count:02d}-{name}-{label}.png"), full_page=True)
        if original:
            page.set_viewport_size(original)
