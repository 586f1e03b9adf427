"""``xibu issue …``: issue a cohort's notices as a batch, or single documents of any kind."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

if TYPE_CHECKING:
    from service.documents.batches import Progress as BatchProgress
    from service.documents.converter import Converter
    from storage.archive import Archive

issue_app = typer.Typer(help="签发文书", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


@issue_app.command("notices")
def issue_notices(
    cohort: str = typer.Option(..., "--cohort", help="年度，如 2020-2021"),
    out: Path | None = typer.Option(None, "--out", help="把本批次的PDF写入该目录（或 .zip 文件）"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的结果"),
    queue: bool = typer.Option(
        False, "--queue", help="交给后台 worker 处理（xibu worker），本命令只显示进度"
    ),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="重试本批次中失败的条目"),
    parallel: int = typer.Option(
        0, "--parallel", help="并行数：本机进程数，或 --queue 时的 worker 任务数；缺省为CPU核数"
    ),
    chunk: int = typer.Option(50, "--chunk", min=1, max=500, help="每次领取、合并转换并提交的条目数"),
) -> None:
    """为年度内每名志愿者签发确认通知书。可重复运行：中断后再次运行会继续，不会重复签发。"""
    from service.config import get_settings
    from service.documents import batches
    from storage.db import session_scope

    with session_scope() as session:
        batch = batches.start_batch(session, cohort)
        batch_id = batch.id
        assert batch_id is not None
        batches.release_dead_claims(session, batch_id)
        if retry_failed:
            batches.retry_failed(session, batch_id)
    parallel = parallel or os.cpu_count() or 1
    if queue:
        from service.documents.tasks import issue_batch

        for _ in range(parallel):
            issue_batch(batch_id)
        final = _watch(batch_id)
    elif parallel > 1:
        final = _run_in_processes(batch_id, parallel, chunk)
    else:
        from service.documents.converter import close_shared_converter, shared_converter
        from storage.archive import Archive as ArchiveStore

        try:
            final = _run_here(batch_id, shared_converter(), ArchiveStore.at(get_settings().data_dir), chunk)
        finally:
            close_shared_converter()
    if out is not None:
        from service.documents.export import write_batch

        count = write_batch(batch_id, out)
        _err.print(f"已写出{count}份PDF到 {out}")
    _report(final, as_json)
    if final.failed:
        raise typer.Exit(1)


def _bar() -> Progress:
    return Progress(
        TextColumn("签发确认通知书"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("失败 {task.fields[failed]}"),
        TextColumn("{task.fields[rate]:.1f} 份/秒"),
        TimeRemainingColumn(),
        console=_err,
        disable=False,
    )


def _run_here(batch_id: int, converter: Converter, archive: Archive, chunk: int) -> BatchProgress:
    from service.documents import batches
    from service.documents.sealing import region_sealer
    from storage.db import session_scope

    with session_scope() as session:
        sealer = region_sealer(session)
    with session_scope() as session:
        start = batches.progress(session, batch_id)
    with _bar() as bar:
        task = bar.add_task(
            "", total=start.total, completed=start.done + start.failed, failed=start.failed, rate=0.0
        )

        def show(p: batches.Progress) -> None:
            bar.update(task, completed=p.done + p.failed, failed=p.failed, rate=p.rate)

        return batches.run_batch(batch_id, converter, archive, chunk=chunk, sealer=sealer, on_progress=show)


def _run_in_processes(batch_id: int, processes: int, chunk: int) -> BatchProgress:
    """One process per core, each with its own LibreOffice instance: rendering, splitting and
    signing are Python work under a GIL, so threads alone would leave a core idle."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_lane_process, args=(batch_id, chunk), daemon=True) for _ in range(processes)]
    for proc in procs:
        proc.start()
    try:
        final = _watch(batch_id, until=lambda: not any(p.is_alive() for p in procs))
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.terminate()
    if final.status != "finished":  # a lane died: finish here, as a resumed run would
        from service.config import get_settings
        from service.documents import batches
        from service.documents.converter import close_shared_converter, shared_converter
        from storage.archive import Archive as ArchiveStore
        from storage.db import session_scope

        with session_scope() as session:
            batches.release_dead_claims(session, batch_id)
        try:
            final = _run_here(batch_id, shared_converter(), ArchiveStore.at(get_settings().data_dir), chunk)
        finally:
            close_shared_converter()
    return final


def _lane_process(batch_id: int, chunk: int) -> None:
    """A child process: dies with its parent, converts on one LibreOffice instance of its own."""
    _die_with_parent()
    os.environ["XIBU_CONVERTERS"] = "1"
    from service.config import get_settings
    from service.documents import batches
    from service.documents.converter import close_shared_converter, shared_converter
    from service.documents.sealing import region_sealer
    from storage.archive import Archive as ArchiveStore
    from storage.db import session_scope

    with session_scope() as session:
        sealer = region_sealer(session)
    try:
        batches.run_batch(
            batch_id, shared_converter(), ArchiveStore.at(get_settings().data_dir), chunk=chunk, sealer=sealer
        )
    finally:
        close_shared_converter()


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the parent dies, so a killed batch leaves no lane running on its own."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() == 1:
        os._exit(1)


def _watch(batch_id: int, until: Callable[[], bool] | None = None) -> BatchProgress:
    from service.documents import batches
    from storage.db import session_scope

    with _bar() as bar:
        task = bar.add_task("", total=None, failed=0, rate=0.0)
        while True:
            with session_scope() as session:
                p = batches.progress(session, batch_id)
            bar.update(task, total=p.total, completed=p.done + p.failed, failed=p.failed, rate=p.rate)
            if p.status == "finished" or (until is not None and until()):
                return p
            time.sleep(0.5)


def _report(p: BatchProgress, as_json: bool) -> None:
    if as_json:
        _out.out(
            json.dumps(
                {
                    "batch_id": p.batch_id,
                    "status": p.status,
                    "total": p.total,
                    "done": p.done,
                    "failed": p.failed,
                },
                ensure_ascii=False,
            )
        )
        return
    _out.print(f"批次{p.batch_id}：共{p.total}份，已签发{p.done}份，失败{p.failed}份")
    if p.failed:
        from service.documents.batches import failures
        from storage.db import session_scope

        with session_scope() as session:
            for row, message in failures(session, p.batch_id):
                _err.print(f"  条目{row}：{message}")


@issue_app.command("document")
def issue_document(
    kind: str = typer.Option(..., "--kind", help="notice | agreement | appraisal | evaluation | certificate"),
    cohort: str = typer.Option(..., "--cohort", help="年度，如 2020-2021"),
    id_number: str = typer.Option(..., "--id-number", help="志愿者身份证号"),
    year: int | None = typer.Option(None, "--year", help="服务年度（协议、考核表），缺省为第1年"),
    reissue: str | None = typer.Option(None, "--reissue", help="重新签发并替代现有文书，需说明原因"),
    out: Path | None = typer.Option(None, "--out", help="把PDF写到该文件"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的结果"),
) -> None:
    """为一名志愿者签发一份任意类型的文书。"""
    import getpass

    from service.audit.service import Actor
    from service.config import get_settings
    from service.documents import service
    from service.documents.converter import close_shared_converter, shared_converter
    from service.errors import AppError
    from storage.archive import Archive as ArchiveStore
    from storage.db import session_scope

    archive = ArchiveStore.at(get_settings().data_dir)
    try:
        with session_scope() as session:
            term = service.find_term(session, cohort, id_number)
            assert term.id is not None
            doc = service.issue_one(
                session, archive, shared_converter(), kind, term.id, year=year, reissue_reason=reissue,
                actor=Actor(f"命令行（{getpass.getuser()}）"),
            )  # fmt: skip
    except AppError as exc:
        _err.print(exc.message)
        raise typer.Exit(2) from None
    finally:
        close_shared_converter()
    if out is not None:
        out.write_bytes(archive.get(doc.current_sha256))
    if as_json:
        summary = {"id": doc.id, "kind": doc.kind, "number": doc.number, "code": doc.verification_code}
        _out.out(json.dumps(summary | {"sha256": doc.current_sha256}, ensure_ascii=False))
    else:
        _out.print(f"已签发 {doc.number}，验证码 {doc.verification_code}")
