"""The LibreOffice pool against a real LibreOffice: crashes, hangs, corrupt input, recycling, clean exit."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import psutil
import pytest
from docx import Document

from doc_templates.convert import ConversionError, ConverterPool, reap_orphans

pytestmark = pytest.mark.slow

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"


def person(i: int) -> str:
    return f"{SURNAMES[i % len(SURNAMES)]}志愿者{i:04d}"


def make_docx(i: int) -> bytes:
    doc = Document()
    doc.add_heading("西部计划志愿者录用通知书", level=1)
    doc.add_paragraph(f"{person(i)}同志：")
    doc.add_paragraph("经研究，决定录用你为大学生志愿服务西部计划志愿者，请按时到内蒙古自治区报到。")
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "服务县"
    table.cell(0, 1).text = "阿拉善左旗"
    table.cell(1, 0).text = "编号"
    table.cell(1, 1).text = f"NM-{i:04d}"
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    # pdftotext puts a space between CJK and Latin runs; the tests compare text without spaces.
    return "".join(out.stdout.decode().split())


def our_soffice_pids(pool: ConverterPool) -> list[int]:
    return pool.soffice_pids()


def assert_own_content(results: list, count: int) -> None:
    assert [r.name for r in results] == [f"doc-{i}.docx" for i in range(count)]
    for i, r in enumerate(results):
        assert r.error is None, r.error
        assert r.pdf is not None
        assert f"NM-{i:04d}" in pdf_text(r.pdf)


def test_converts_chinese_documents_to_searchable_pdfs() -> None:
    with ConverterPool(size=2) as pool:
        pdfs = [pool.convert(make_docx(i), f"doc-{i}.docx") for i in range(4)]
    for i, pdf in enumerate(pdfs):
        assert pdf.startswith(b"%PDF")
        text = pdf_text(pdf)
        assert person(i) in text
        assert "西部计划" in text


def test_passes_the_callers_environment_to_soffice() -> None:
    with ConverterPool(size=1, env={"XIBU_TEST_MARK": "pool-env"}) as pool:
        (pid,) = pool.soffice_pids()
        assert psutil.Process(pid).environ().get("XIBU_TEST_MARK") == "pool-env"


def test_batch_completes_when_an_instance_is_killed_midway() -> None:
    count = 60
    with ConverterPool(size=2) as pool:
        victim = pool.instances[0].soffice_bin_pids()[0]

        def kill_when_busy() -> None:
            while pool.stats.converted < 15:
                time.sleep(0.01)
            os.kill(victim, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_busy)
        killer.start()
        results = list(pool.convert_many((f"doc-{i}.docx", make_docx(i)) for i in range(count)))
        killer.join()
        assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == psutil.STATUS_ZOMBIE
        assert pool.stats.crashes >= 1
        assert pool.instances[0].starts == 2
    assert_own_content(results, count)


def truncated_docx() -> bytes:
    whole = make_docx(999)
    assert zipfile.is_zipfile(io.BytesIO(whole))
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    "bad",
    [pytest.param(os.urandom(20_000), id="random-bytes"), pytest.param(truncated_docx(), id="truncated-zip")],
)
def test_corrupt_docx_is_named_and_the_batch_goes_on(bad: bytes) -> None:
    items = [(f"doc-{i}.docx", make_docx(i)) for i in range(6)]
    items.insert(3, ("坏文件-张三.docx", bad))
    with ConverterPool(size=2) as pool:
        with pytest.raises(ConversionError, match=re.escape("坏文件-张三.docx")) as info:
            pool.convert(bad, "坏文件-张三.docx")
        assert info.value.name == "坏文件-张三.docx"
        results = list(pool.convert_many(items))
        # Corrupt input is not a crash: no restart, no retry.
        assert pool.stats.crashes == 0
        assert all(inst.starts == 1 for inst in pool.instances)
    bad_result = results.pop(3)
    assert bad_result.pdf is None
    assert bad_result.error is not None
    assert "坏文件-张三.docx" in str(bad_result.error)
    assert_own_content(results, 6)


def test_instance_is_recycled_after_n_documents() -> None:
    with ConverterPool(size=1, recycle_after=5) as pool:
        first = pool.soffice_pids()
        results = list(pool.convert_many((f"doc-{i}.docx", make_docx(i)) for i in range(12)))
        assert pool.stats.recycles == 2
        assert pool.instances[0].starts == 3
        assert pool.soffice_pids() != first
    assert_own_content(results, 12)


def test_hung_instance_is_killed_restarted_and_the_document_retried() -> None:
    with ConverterPool(size=1, timeout_s=4) as pool:
        (pid,) = pool.soffice_pids()
        os.kill(pid, signal.SIGSTOP)
        try:
            pdf = pool.convert(make_docx(7), "doc-7.docx")
        finally:
            if psutil.pid_exists(pid):
                os.kill(pid, signal.SIGCONT)
        assert pool.stats.timeouts == 1
        assert pool.soffice_pids() != [pid]
    assert "NM-0007" in pdf_text(pdf)


def test_no_soffice_process_survives_shutdown() -> None:
    pool = ConverterPool(size=2)
    with pool:
        pool.convert(make_docx(1), "doc-1.docx")
        pids = pool.soffice_pids()
        group_pids = [inst.pid for inst in pool.instances]
        profile_dirs = [str(inst._dir) for inst in pool.instances]
    assert len(pids) == 2
    for pid in [*pids, *group_pids]:
        assert pid is not None
        assert not psutil.pid_exists(pid), f"soffice process {pid} outlived the pool"
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        assert not any(d in cmd for d in profile_dirs), f"left behind: {proc.pid} {proc.info['name']}"
    assert not any(Path(d).exists() for d in profile_dirs)


def test_convert_before_start_is_refused() -> None:
    with pytest.raises(RuntimeError):
        ConverterPool(size=1).convert(make_docx(0), "doc-0.docx")


def test_instances_of_an_owner_killed_outright_are_reaped_by_the_next_pool() -> None:
    script = (
        "import sys, time\n"
        "from doc_templates.convert import ConverterPool\n"
        "pool = ConverterPool(size=1)\n"
        "pool.start()\n"
        "print(*pool.soffice_pids(), flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        orphan = int(owner.stdout.readline())
    finally:
        owner.kill()  # SIGKILL: no atexit, no signal handler
        owner.wait()
    assert psutil.pid_exists(orphan)
    assert reap_orphans() >= 1
    if psutil.pid_exists(orphan):
        psutil.wait_procs([psutil.Process(orphan)], timeout=10)
    assert not psutil.pid_exists(orphan) or psutil.Process(orphan).status() == psutil.STATUS_ZOMBIE
    assert not list(Path(tempfile.gettempdir()).glob(f"xibu-lo-{owner.pid}-*"))
