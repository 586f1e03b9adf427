"""Bench: 1,315 one-page notices, batched (render_many → one conversion per chunk → split) vs one by one.

Run: ``.venv/bin/python -m bench.batch_convert [--docs 1315] [--chunks 25,50,100] [--single 100]``

Per chunk: ``render_many`` (one docxtpl pass), one LibreOffice conversion, ``split_documents``.
Two worker threads, one per LibreOffice instance, so each instance converts one chunk at a time;
the Python stages share one core (GIL) while LibreOffice runs in its own processes. Stage columns
are summed per-chunk wall time divided by documents (ms/doc). Peak RSS covers this process and the
soffice processes, sampled every 100 ms. Names are invented.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil

from doc_templates.batch_render import render_many
from doc_templates.context import build_context
from doc_templates.convert import ConverterPool
from doc_templates.fonts import libreoffice_env
from doc_templates.kinds import NOTICE
from doc_templates.pdf_split import split_documents
from doc_templates.render import render_docx
from doc_templates.samples import sample
from service.documents.codes import new_code

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "一乙二十丁厂七卜人入八九几儿了力乃刀又三于干亏士工土才寸下大丈与万上小口巾山千乞川亿个勺久凡及夕丸么广亡门义之尸弓己已子卫也女飞刃习叉马乡丰王井开夫天无元专云扎艺木五支厅不太犬区历尤友匹车巨牙屯比互切瓦"


def notice_contexts(count: int) -> list[dict[str, Any]]:
    base = sample("notice")
    out = []
    for i in range(count):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + GIVEN[(i * 13 + 5) % len(GIVEN)]
        meta = dataclasses.replace(base.meta, code=new_code(), number=f"内蒙西部办〔2020〕第{i + 1:04d}号")
        data = dataclasses.replace(base, meta=meta, person=dataclasses.replace(base.person, name=name))
        out.append(build_context(data))
    return out


class PeakRss:
    """Samples RSS of this process + the pool's soffice processes in a background thread."""

    def __init__(self, pool: ConverterPool) -> None:
        self.pool, self.peak_mb, self._stop = pool, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process(os.getpid())
        while not self._stop.is_set():
            try:
                total = me.memory_info().rss / 2**20 + self.pool.rss_mb()
            except psutil.Error:
                total = 0.0
            self.peak_mb = max(self.peak_mb, total)
            self._stop.wait(0.1)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_batched(pool: ConverterPool, contexts: list[dict[str, Any]], k: int) -> dict[str, float]:
    stages = {"render": 0.0, "convert": 0.0, "split": 0.0}
    lock = threading.Lock()
    chunks = [contexts[i : i + k] for i in range(0, len(contexts), k)]

    def one(index: int, chunk: list[dict[str, Any]]) -> int:
        t0 = time.perf_counter()
        docx = render_many(NOTICE, chunk)
        t1 = time.perf_counter()
        pdf = pool.convert(docx, f"chunk-{index}.docx")
        t2 = time.perf_counter()
        parts = split_documents(pdf, len(chunk), NOTICE.parties)
        t3 = time.perf_counter()
        with lock:
            stages["render"] += t1 - t0
            stages["convert"] += t2 - t1
            stages["split"] += t3 - t2
        return len(parts)

    with PeakRss(pool) as rss:
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=pool.size) as ex:
            done = sum(ex.map(one, range(len(chunks)), chunks))
        wall = time.perf_counter() - start
    assert done == len(contexts)
    n = len(contexts)
    return {"k": k, "docs_s": n / wall, "wall": wall, "peak_mb": rss.peak_mb} | {
        f"{s}_ms": v * 1000 / n for s, v in stages.items()
    }


def run_single(pool: ConverterPool, contexts: list[dict[str, Any]]) -> dict[str, float]:
    stages = {"render": 0.0, "convert": 0.0}
    lock = threading.Lock()

    def one(index: int, ctx: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        docx = render_docx(NOTICE, ctx)
        t1 = time.perf_counter()
        pool.convert(docx, f"single-{index}.docx")
        t2 = time.perf_counter()
        with lock:
            stages["render"] += t1 - t0
            stages["convert"] += t2 - t1

    with PeakRss(pool) as rss:
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=pool.size) as ex:
            list(ex.map(one, range(len(contexts)), contexts))
        wall = time.perf_counter() - start
    n = len(contexts)
    return {"k": 1, "docs_s": n / wall, "wall": wall, "peak_mb": rss.peak_mb, "split_ms": 0.0} | {
        f"{s}_ms": v * 1000 / n for s, v in stages.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1315)
    parser.add_argument("--chunks", default="25,50,100")
    parser.add_argument("--single", type=int, default=100)
    args = parser.parse_args()
    contexts = notice_contexts(args.docs)
    rows = []
    with ConverterPool(size=2, env=libreoffice_env()) as pool:
        pool.convert(render_docx(NOTICE, contexts[0]), "warm-up.docx")
        if args.single:
            rows.append(("one by one", run_single(pool, contexts[: args.single])))
        for k in (int(x) for x in args.chunks.split(",")):
            rows.append((f"batched K={k}", run_batched(pool, contexts, k)))
        recycles = pool.stats.recycles
    print(
        f"{'mode':<16}{'docs':>6}{'docs/s':>8}{'wall s':>8}{'render':>8}{'convert':>9}{'split':>7}{'peak MB':>9}"
    )
    print(f"{'':<16}{'':>6}{'':>8}{'':>8}{'ms/doc':>8}{'ms/doc':>9}{'ms/doc':>7}")
    for label, r in rows:
        n = args.single if label == "one by one" else args.docs
        print(
            f"{label:<16}{n:>6}{r['docs_s']:>8.1f}{r['wall']:>8.1f}{r['render_ms']:>8.1f}"
            f"{r['convert_ms']:>9.1f}{r['split_ms']:>7.1f}{r['peak_mb']:>9.0f}"
        )
    print(f"pool recycles: {recycles}")


if __name__ == "__main__":
    main()
