"""One headless LibreOffice process driven over a UNO pipe.

An instance is owned by one thread at a time (the pool guarantees it); the pyuno bridge releases
the GIL during remote calls, so instances in different threads convert in parallel.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from doc_templates.libreoffice.errors import ConversionError, InstanceCrashed, InstanceTimeout
from doc_templates.libreoffice.pdfcheck import check_pdf

__all__ = ["PROFILE_PREFIX", "SOFFICE", "Instance"]

log = logging.getLogger(__name__)

SOFFICE = os.environ.get("XIBU_SOFFICE", "/usr/lib/libreoffice/program/soffice")
# The owner's pid is part of every profile dir name, so a later pool can find and kill instances
# that an owner killed with SIGKILL left behind (atexit never ran for them).
PROFILE_PREFIX = "xibu-lo-"
_START_TIMEOUT_S = 60.0


_uno_init_lock = threading.RLock()
_uno_local: Any = None


def _local_context() -> Any:
    """Call with _uno_init_lock held: pyuno's first getComponentContext() is not thread-safe."""
    global _uno_local
    if _uno_local is None:
        import uno

        _uno_local = uno.getComponentContext()
    return _uno_local


#: PDF export settings. By default LibreOffice resamples every image above 300 dpi and may store it
#: as JPEG: the QR code (drawn at ~430 dpi, 10 pixels a module) came out resampled to 7 pixels a
#: module with grey edges, and resampling was half of the export's time. Images are kept as drawn.
PDF_EXPORT = {"ReduceImageResolution": False, "UseLosslessCompression": True}


def _pdf_filter_data() -> Any:
    import uno

    return uno.Any("[]com.sun.star.beans.PropertyValue", _props(**PDF_EXPORT))


def _props(**values: Any) -> tuple[Any, ...]:
    import uno
    from com.sun.star.beans import PropertyValue

    del uno  # imported for its side effect: it makes the com.sun.star modules importable
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name = name
        prop.Value = value
        out.append(prop)
    return tuple(out)


def _is_bridge_failure(exc: BaseException) -> bool:
    """Tell a dead or disposed bridge from a complaint about the document.

    pyuno raises UNO exceptions as Python classes named after the IDL type; a lost connection
    shows up as DisposedException or a plain RuntimeException with a "Binary URP bridge" message.
    """
    name = type(exc).__name__
    if name in {"DisposedException"}:
        return True
    return name == "RuntimeException" and "bridge" in str(exc).lower()


class Instance:
    """A soffice process with its own profile, restartable in place."""

    def __init__(self, index: int, env: Mapping[str, str] | None, base_dir: Path) -> None:
        self.index = index
        self._env = dict(env) if env is not None else None
        self._dir = Path(tempfile.mkdtemp(prefix=f"inst{index}-", dir=base_dir))
        self._profile = self._dir / "profile"
        self._proc: subprocess.Popen[bytes] | None = None
        self._desktop: Any = None
        self._timed_out = threading.Event()
        self.docs_since_start = 0
        self.starts = 0

    # -- process lifecycle ------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def soffice_bin_pids(self) -> list[int]:
        """Pids of soffice.bin under this instance (the wrapper execs oosplash, which forks it)."""
        if self._proc is None:
            return []
        try:
            root = psutil.Process(self._proc.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        pids = []
        for p in procs:
            with contextlib.suppress(psutil.Error):
                # A killed soffice.bin stays a zombie until oosplash reaps it: that is not alive.
                if p.name() == "soffice.bin" and p.status() != psutil.STATUS_ZOMBIE:
                    pids.append(p.pid)
        return pids

    def rss_mb(self) -> float:
        if self._proc is None:
            return 0.0
        total = 0
        try:
            root = psutil.Process(self._proc.pid)
            for p in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
        except psutil.NoSuchProcess:
            return 0.0
        return total / 2**20

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and bool(self.soffice_bin_pids())

    def responsive(self) -> bool:
        """Alive and answering over the bridge: tells "LibreOffice refused this file" from a crash."""
        if self._desktop is None or not self.alive():
            return False
        try:
            self._desktop.getFrames()
        except Exception:
            return False
        return True

    def start(self) -> None:
        pipe = f"xibu{os.getpid()}_{uuid.uuid4().hex[:12]}"
        args = [
            SOFFICE,
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            "--nofirststartwizard",
            f"-env:UserInstallation={self._profile.as_uri()}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ]
        began = time.monotonic()
        # Own session = own process group, so one killpg takes oosplash and soffice.bin together.
        self._proc = subprocess.Popen(
            args,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._timed_out.clear()
        self._desktop = self._connect(pipe)
        self.docs_since_start = 0
        self.starts += 1
        log.info(
            "instance %d started (pid %d) in %.2fs", self.index, self._proc.pid, time.monotonic() - began
        )

    def _connect(self, pipe: str) -> Any:
        url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            try:
                # pyuno looks methods up lazily and that lookup races between threads
                # (AttributeError: createInstanceWithContext), so connecting is serialised.
                with _uno_init_lock:
                    local = _local_context()
                    smgr = local.ServiceManager
                    resolver = smgr.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
                    ctx = resolver.resolve(url)
                    return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
            except Exception as exc:  # NoConnectException until soffice listens
                if self._proc is not None and self._proc.poll() is not None:
                    raise InstanceCrashed(
                        f"soffice exited during start-up ({self._proc.returncode})"
                    ) from exc
                if time.monotonic() > deadline:
                    self.kill()
                    raise InstanceCrashed("soffice did not accept a UNO connection in time") from exc
                time.sleep(0.05)

    def kill(self) -> None:
        """Kill the whole process group and reap it; safe to call twice or from a timer thread."""
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        # soffice.bin may have left the group (it does not today); kill it by pid as well.
        for pid in self.soffice_bin_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def stop(self, polite_s: float = 5.0) -> None:
        """Ask LibreOffice to quit, then make sure the group is gone either way."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None and self._desktop is not None:
            timer = threading.Timer(polite_s, self.kill)
            timer.start()
            try:
                self._desktop.terminate()
            except Exception:  # the bridge goes away under the call: that is success here
                pass
            finally:
                timer.cancel()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=polite_s)
        self.kill()
        self._desktop = None
        self._proc = None

    def restart(self) -> None:
        self.stop(polite_s=2.0)
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    # -- conversion ---------------------------------------------------------------------------
    def _on_timeout(self) -> None:
        self._timed_out.set()
        log.warning("instance %d timed out; killing pid %s", self.index, self.pid)
        self.kill()

    def convert(self, docx: bytes, name: str, timeout_s: float) -> bytes:
        """Convert one document; raise InstanceCrashed/InstanceTimeout for the pool to retry.

        A hung call cannot be interrupted from Python, so a timer kills the process under it:
        the bridge then fails the pending call and this thread gets control back. Every UNO call,
        the health checks included, runs under that timer.
        """
        if self._desktop is None or not self.alive():
            raise InstanceCrashed(f"instance {self.index} is not running")
        src = self._dir / "in.docx"
        dst = self._dir / "out.pdf"
        src.write_bytes(docx)
        dst.unlink(missing_ok=True)
        timer = threading.Timer(timeout_s, self._on_timeout)
        timer.daemon = True
        timer.start()
        try:
            self._convert_file(src, dst, name)
        except (ConversionError, InstanceCrashed):
            if self._timed_out.is_set():
                raise InstanceTimeout(f"instance {self.index}: no answer in {timeout_s:.0f}s") from None
            raise
        except Exception as exc:
            if self._timed_out.is_set():
                raise InstanceTimeout(f"instance {self.index}: no answer in {timeout_s:.0f}s") from exc
            if _is_bridge_failure(exc) or not self.responsive():
                raise InstanceCrashed(f"instance {self.index}: {type(exc).__name__}") from exc
            raise ConversionError(name, f"LibreOffice 无法打开或转换（{type(exc).__name__}）") from exc
        finally:
            timer.cancel()
        if self._timed_out.is_set():
            raise InstanceTimeout(f"instance {self.index}: no answer in {timeout_s:.0f}s")
        self.docs_since_start += 1
        pdf = dst.read_bytes()
        check_pdf(pdf, name)
        return pdf

    def _convert_file(self, src: Path, dst: Path, name: str) -> None:
        props = _props(
            Hidden=True,
            ReadOnly=True,
            # Without a forced filter, type detection falls back to plain text and turns any
            # garbage into a "successful" PDF of mojibake.
            FilterName="MS Word 2007 XML",
            RepairPackage=False,
        )
        doc = self._desktop.loadComponentFromURL(src.as_uri(), "_blank", 0, props)
        if doc is None:
            if not self.responsive():
                raise InstanceCrashed(f"instance {self.index} died while loading")
            raise ConversionError(name, "LibreOffice 无法打开此文件（文件可能已损坏或不是 DOCX）")
        try:
            doc.storeToURL(
                dst.as_uri(), _props(FilterName="writer_pdf_Export", FilterData=_pdf_filter_data())
            )
        finally:
            with contextlib.suppress(Exception):
                doc.close(True)
        if not dst.exists() or dst.stat().st_size == 0:
            # A corrupt input can produce no output and no exception.
            if not self.responsive():
                raise InstanceCrashed(f"instance {self.index} died without output")
            raise ConversionError(name, "LibreOffice 未生成 PDF（文件可能已损坏）")
