"""Public verification: code lookups against the running service, next to a bare FastAPI endpoint.

Run: ``.venv/bin/python bench/verify.py [--seconds 10] [--clients 50] [--documents 20]``, and with
``--postgres URL`` (or XIBU_BENCH_DATABASE_URL) once more on PostgreSQL (its tables are dropped first).

Each database gets a fresh temporary data folder: our CA, a small invented cohort with its
appraisals, and sealed 服务证书 and 确认通知书 issued through the registry (real LibreOffice and
signatures). Then, one after the other on the same machine, each in its own uvicorn process (one
worker, the same options): the real service (``service.main:app``, rate limits raised so the
limiter runs but never refuses), and a bare FastAPI app whose one endpoint returns a small JSON
object. 50 concurrent clients (``wrk``, one thread; a Python client if wrk is missing) ask for the
issued codes in turn for N seconds after a short warm-up. Target: service ≥ 0.5× the bare
endpoint's requests/s and p99 < 50 ms.

The upload-validation half of the issue's benchmark (ms per three-signature agreement against
raw pyHanko) goes in :func:`upload_validation_rows`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COHORT = "2020-2021"

BARE_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/bare/{code}")
async def bare(code: str) -> dict[str, str]:
    return {"status": "有效", "code": code}
"""

WRK_SCRIPT = """
paths = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %%d %%d %%d %%d %%f %%f %%f\\n", summary.requests, summary.duration,
    non2xx, errors, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


# --------------------------------------------------------------------------------------------
# Set-up (child process: its own settings and database)


def _setup(url: str, data_dir: Path, documents: int) -> None:
    """Child process: schema, CA, cohort, appraisals, sealed documents; prints the codes as JSON."""
    os.environ["XIBU_DATABASE_URL"] = url
    os.environ["XIBU_DATA_DIR"] = str(data_dir)
    sys.path.insert(0, str(ROOT))
    from sqlmodel import select

    from bench._common import invented_cohort
    from doc_templates.convert import ConverterPool
    from doc_templates.fonts import libreoffice_env
    from service.documents import service as registry
    from service.documents.converter import PoolConverter
    from storage.archive import Archive
    from storage.db import session_scope
    from storage.models import Appraisal, ServiceTerm

    invented_cohort(url, max(1, documents // 2), seed=5, cohort=COHORT)
    archive = Archive.at(data_dir)
    codes: list[str] = []
    with ConverterPool(size=1, env=libreoffice_env()) as pool, session_scope() as session:
        converter = PoolConverter(pool)
        for term in session.exec(select(ServiceTerm)).all():
            assert term.id is not None
            for year in range(1, term.agreed_years + 1):
                session.add(Appraisal(term_id=term.id, service_year=year, grade="合格"))
            session.flush()
            for kind in ("certificate", "notice"):
                codes.append(registry.issue_one(session, archive, converter, kind, term.id).verification_code)
    print(json.dumps(codes[:documents]))


# --------------------------------------------------------------------------------------------
# Servers and load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(app: str, env: dict[str, str], app_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [
        sys.executable, "-m", "uvicorn", app, "--app-dir", str(app_dir), "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, base
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{app} exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wrk(base: str, paths: list[str], seconds: float, clients: int, tmp: Path) -> dict[str, float]:
    script = tmp / "paths.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths), encoding="utf-8")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "-s", str(script), base],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    requests, duration_us, non2xx, errors, p50, p99, worst = line.split()[1:]
    return {
        "requests": int(requests),
        "rps": int(requests) / (int(duration_us) / 1e6),
        "non2xx": int(non2xx),
        "errors": int(errors),
        "p50_ms": float(p50) / 1000,
        "p99_ms": float(p99) / 1000,
        "max_ms": float(worst) / 1000,
    }


async def _python_load(base: str, paths: list[str], seconds: float, clients: int) -> dict[str, float]:
    """A fallback load generator (slower than the servers it measures: prefer wrk)."""
    import httpx

    latencies: list[float] = []
    bad = 0
    stop = time.perf_counter() + seconds

    async def client(n: int, http: httpx.AsyncClient) -> None:
        nonlocal bad
        i = n
        while time.perf_counter() < stop:
            started = time.perf_counter()
            r = await http.get(paths[i % len(paths)])
            latencies.append(time.perf_counter() - started)
            bad += r.status_code >= 300
            i += clients

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(n, http) for n in range(clients)))
        elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "non2xx": bad,
        "errors": 0,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": q[98] * 1000,
        "max_ms": max(latencies) * 1000,
    }


def _load(base: str, paths: list[str], seconds: float, clients: int, tmp: Path) -> dict[str, float]:
    if shutil.which("wrk"):
        return _wrk(base, paths, seconds, clients, tmp)
    return asyncio.run(_python_load(base, paths, seconds, clients))


def _measure(
    app: str, app_dir: Path, env: dict[str, str], paths: list[str], args: argparse.Namespace, tmp: Path
) -> dict[str, float]:
    import psutil

    proc, base = _start(app, env, app_dir)
    try:
        _load(base, paths, min(3.0, args.seconds), args.clients, tmp)  # warm-up: imports, caches, pool
        server = psutil.Process(proc.pid)
        before = server.cpu_times()
        result = _load(base, paths, args.seconds, args.clients, tmp)
        after = server.cpu_times()
        cpu = (after.user - before.user) + (after.system - before.system)
        result["cpu_ms"] = cpu * 1000 / max(result["requests"], 1)
        return result
    finally:
        _stop(proc)


def lookup_rows(url: str, label: str, args: argparse.Namespace) -> list[tuple[str, str, dict[str, float]]]:
    """Code lookups on one database: the service and the bare endpoint, measured one after the other."""
    with tempfile.TemporaryDirectory(prefix="xibu-bench-verify-") as name:
        tmp = Path(name)
        data_dir = tmp / "data"
        env = {
            **os.environ,
            "XIBU_DATABASE_URL": url,
            "XIBU_DATA_DIR": str(data_dir),
            "XIBU_ENVIRONMENT": "development",
            "XIBU_MASTER_KEY": os.environ.get("XIBU_MASTER_KEY", "bench-master-key-not-for-production-0123"),
            "XIBU_SECRET_KEY": os.environ.get("XIBU_SECRET_KEY", "bench-secret-key-not-for-production-0123"),
            "XIBU_CACHE_DIR": os.environ.get(
                "XIBU_CACHE_DIR", str(Path(tempfile.gettempdir()) / "xibu-test-cache")
            ),
            # The limiter stays in the path (it is part of the cost) but never refuses the bench.
            "XIBU_VERIFY_LOOKUPS_PER_MINUTE": "1000000000",
            "XIBU_VERIFY_LOOKUP_BURST": "1000000000",
        }
        out = subprocess.run(
            [sys.executable, __file__, "--setup", url, str(data_dir), str(args.documents)],
            check=True, capture_output=True, text=True, env=env,
        )  # fmt: skip
        codes = json.loads(out.stdout.strip().splitlines()[-1])
        (tmp / "bare.py").write_text(BARE_APP, encoding="utf-8")
        bare = _measure("bare:app", tmp, env, [f"/bare/{c}" for c in codes], args, tmp)
        service = _measure("service.main:app", ROOT, env, [f"/api/v1/verify/{c}" for c in codes], args, tmp)
    return [(label, "bare FastAPI endpoint", bare), (label, "GET /api/v1/verify/{code}", service)]


def upload_validation_rows(args: argparse.Namespace) -> list[str]:
    """The issue's second half: upload validation, ms per three-signature agreement against raw
    pyHanko ``validate_pdf_signature`` over the same file (target ≤ 1.5×).

    Measured by ``bench/verify_upload.py`` in a process of its own (its own data folder and
    database), whose table lines are returned to print after the lookups.
    """
    out = subprocess.run(
        [sys.executable, "-m", "bench.verify_upload", "--agreements", "10", "--rounds", "5"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=1800,
    )  # fmt: skip
    lines = out.stdout.strip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("upload validation")), 0)
    return ["", *lines[start:]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per server")
    parser.add_argument("--clients", type=int, default=50, help="concurrent connections")
    parser.add_argument("--documents", type=int, default=20, help="issued codes the clients cycle through")
    parser.add_argument(
        "--postgres", default=os.environ.get("XIBU_BENCH_DATABASE_URL"), help="also on this PostgreSQL URL"
    )
    args = parser.parse_args()
    rows: list[tuple[str, str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="xibu-bench-db-") as name:
        rows += lookup_rows(f"sqlite:///{Path(name) / 'bench.db'}", "SQLite", args)
    if args.postgres:
        rows += lookup_rows(args.postgres, "PostgreSQL", args)
    tool = "wrk, 1 thread" if shutil.which("wrk") else "Python httpx client"
    print(
        f"code lookups: {args.clients} concurrent clients ({tool}), {args.seconds:g} s per server, "
        f"{args.documents} codes, one uvicorn worker each, {os.cpu_count()} cores"
    )
    print(
        f"{'database':<11} {'endpoint':<28} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'non-2xx':>8} {'errors':>7} {'server CPU ms/req':>18}"
    )
    for label, what, r in rows:
        print(
            f"{label:<11} {what:<28} {r['requests']:>9} {r['rps']:>8.0f} {r['p50_ms']:>7.1f} "
            f"{r['p99_ms']:>7.1f} {r['max_ms']:>7.1f} {r['non2xx']:>8} {r['errors']:>7} {r['cpu_ms']:>18.3f}"
        )
    for label in dict.fromkeys(label for label, _, _ in rows):
        bare, service = (r for lb, _, r in rows if lb == label)
        ratio = service["rps"] / bare["rps"]
        verdict = "met" if ratio >= 0.5 and service["p99_ms"] < 50 and not service["non2xx"] else "NOT met"
        print(
            f"{label}: service / bare = {ratio:.2f} req/s (target ≥ 0.5), p99 {service['p99_ms']:.1f} ms "
            f"(target < 50): {verdict}; by server CPU per request {bare['cpu_ms'] / service['cpu_ms']:.2f}"
        )
    print(
        "server CPU ms/req is the uvicorn process's own CPU time over the measured seconds: on a shared "
        "machine the steadier figure."
    )
    for line in upload_validation_rows(args):
        print(line)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--setup":
        _setup(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
