"""A pool of persistent LibreOffice instances, run the way Gotenberg and Carbone run theirs.

Why a pool: a fresh ``soffice --convert-to`` costs ~0.9 s of start-up per call, and one call for
many files silently stops after ~246 of them. Persistent instances pay start-up once, but grow
(~1.1 GB, a third slower) if never restarted, so each is recycled after N documents or above a
memory bound.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Queue
from types import FrameType, TracebackType

import psutil

from doc_templates.libreoffice.errors import ConversionError, InstanceCrashed, InstanceTimeout
from doc_templates.libreoffice.instance import PROFILE_PREFIX, Instance

__all__ = ["ConversionResult", "ConverterPool", "reap_orphans"]

log = logging.getLogger(__name__)

# Strong references: a pool dropped without close() must still be closed at exit.
_live_pools: set[ConverterPool] = set()
_OWNER_RE = re.compile(re.escape(PROFILE_PREFIX) + r"(\d+)-")


@dataclass(frozen=True)
class ConversionResult:
    """One document's outcome in a batch: exactly one of ``pdf`` and ``error`` is set."""

    name: str
    pdf: bytes | None
    error: ConversionError | None = None


@dataclass
class PoolStats:
    """Counters that tests and the bench read to see what the pool did."""

    converted: int = 0
    failed: int = 0
    crashes: int = 0
    timeouts: int = 0
    recycles: int = 0


class ConverterPool:
    """DOCX bytes in, PDF bytes out, over ``size`` persistent soffice processes.

    ``env`` is laid over ``os.environ`` for the soffice processes (e.g. ``FONTCONFIG_FILE``).
    Use it as a context manager: leaving the block stops every process it started.
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        recycle_after: int = 200,
        max_rss_mb: float = 700.0,
        timeout_s: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.size = max(1, size if size is not None else (os.cpu_count() or 1))
        self.recycle_after = recycle_after
        self.max_rss_mb = max_rss_mb
        self.timeout_s = timeout_s
        self._env = {**os.environ, **env} if env is not None else None
        self.instances: list[Instance] = []
        self._idle: Queue[Instance] = Queue()
        self._base: Path | None = None
        self._lock = threading.Lock()
        self.stats = PoolStats()

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> ConverterPool:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        reap_orphans()
        _install_exit_hooks()
        self._base = Path(tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{os.getpid()}-"))
        self.instances = [Instance(i, self._env, self._base) for i in range(self.size)]
        _live_pools.add(self)
        try:
            _run_all([inst.start for inst in self.instances])
        except BaseException:
            self.close()
            raise
        for inst in self.instances:
            self._idle.put(inst)
        log.info("pool started with %d instance(s)", self.size)

    def close(self) -> None:
        """Stop politely, kill what remains, reap, remove the profiles. Idempotent."""
        _run_all([inst.close for inst in self.instances])
        self.instances = []
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None
        _live_pools.discard(self)

    def kill_now(self) -> None:
        """Signal-handler path: no UNO calls, just kill every process group."""
        for inst in list(self.instances):
            inst.kill()

    # -- conversion ---------------------------------------------------------------------------
    def convert(self, docx: bytes, name: str) -> bytes:
        """Convert one document on the next free instance; raise ConversionError naming it."""
        if not self.instances:
            raise RuntimeError("ConverterPool is not started")
        inst = self._idle.get()
        try:
            return self._convert_on(inst, docx, name)
        finally:
            self._idle.put(inst)

    def _convert_on(self, inst: Instance, docx: bytes, name: str) -> bytes:
        for attempt in (1, 2):
            try:
                if not inst.alive():  # died between documents: still a crash
                    self._count("crashes")
                    self._restart(inst, "found dead")
                pdf = inst.convert(docx, name, self.timeout_s)
            except ConversionError:
                self._count("failed")
                raise
            except InstanceCrashed as exc:
                kind = "timeouts" if isinstance(exc, InstanceTimeout) else "crashes"
                self._count(kind)
                log.warning("instance %d lost on attempt %d: %s", inst.index, attempt, exc)
                self._restart(inst, kind)
                if attempt == 2:
                    self._count("failed")
                    raise ConversionError(name, "LibreOffice 连续两次崩溃或超时，已放弃") from exc
                continue
            self._count("converted")
            self._maybe_recycle(inst)
            return pdf
        raise AssertionError("unreachable")

    def convert_many(self, items: Iterable[tuple[str, bytes]]) -> Iterator[ConversionResult]:
        """Convert a batch across all instances, yielding results in input order.

        One bad document gives a result with ``error`` set; the batch goes on. At most two
        documents per instance are held in memory, so a lazy iterable of any length is fine.
        """
        window = 2 * self.size
        pending: deque[tuple[str, Future[bytes]]] = deque()
        with ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="lo-batch") as ex:
            for name, docx in items:
                pending.append((name, ex.submit(self.convert, docx, name)))
                while len(pending) >= window:
                    yield _result(*pending.popleft())
            while pending:
                yield _result(*pending.popleft())

    # -- upkeep -------------------------------------------------------------------------------
    def _maybe_recycle(self, inst: Instance) -> None:
        if inst.docs_since_start >= self.recycle_after:
            self._count("recycles")
            self._restart(inst, f"recycle after {inst.docs_since_start} docs")
            return
        rss = inst.rss_mb()
        if rss > self.max_rss_mb:
            self._count("recycles")
            self._restart(inst, f"recycle at {rss:.0f} MB RSS")

    def _restart(self, inst: Instance, why: str) -> None:
        """Restart in place; a failed start is logged, and the next document tries again."""
        log.info("restarting instance %d: %s", inst.index, why)
        try:
            inst.restart()
        except InstanceCrashed as exc:
            log.error("instance %d failed to restart: %s", inst.index, exc)

    def _count(self, field: str) -> None:
        with self._lock:
            setattr(self.stats, field, getattr(self.stats, field) + 1)

    def soffice_pids(self) -> list[int]:
        return [pid for inst in self.instances for pid in inst.soffice_bin_pids()]

    def rss_mb(self) -> float:
        return sum(inst.rss_mb() for inst in self.instances)


def _result(name: str, fut: Future[bytes]) -> ConversionResult:
    try:
        return ConversionResult(name, fut.result())
    except ConversionError as exc:
        return ConversionResult(name, None, exc)


def _run_all(calls: list[Callable[[], None]]) -> None:
    """Run start/stop calls side by side: each instance takes ~1 s, and they are independent."""
    with ThreadPoolExecutor(max_workers=max(1, len(calls))) as ex:
        futures = [ex.submit(c) for c in calls]
    for fut in futures:  # every call has finished; now surface the first failure
        fut.result()


def reap_orphans() -> int:
    """Kill soffice processes of ours whose owning Python process is gone (it died by SIGKILL).

    atexit and signal handlers cannot run in an owner killed outright, so the next pool started on
    the machine cleans up after it.
    """
    killed = 0
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        try:
            if proc.info["name"] not in {"soffice.bin", "oosplash"}:
                continue
            cmd = " ".join(proc.info["cmdline"] or [])
            match = _OWNER_RE.search(cmd)
            if not match or psutil.pid_exists(int(match.group(1))):
                continue
            proc.kill()
            killed += 1
        except psutil.Error:
            continue
    if killed:
        log.warning("killed %d soffice process(es) left by a dead owner", killed)
    # Their profiles too (~3 MB each); only after the kill, so nothing still writes there.
    for path in Path(tempfile.gettempdir()).glob(f"{PROFILE_PREFIX}*"):
        match = _OWNER_RE.match(path.name)
        if match and not psutil.pid_exists(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
    return killed


_hooks_installed = False


def _kill_all_pools() -> None:
    for pool in list(_live_pools):
        with contextlib.suppress(Exception):
            pool.kill_now()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _kill_all_pools()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_exit_hooks() -> None:
    """atexit always; SIGTERM/SIGHUP only where nobody else has claimed them (main thread only)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_atexit_close)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, _on_signal)


def _atexit_close() -> None:
    for pool in list(_live_pools):
        with contextlib.suppress(Exception):
            pool.close()
