"""End to end: band CSV exports on disk -> minutes store -> daily store (``evaluation.publish.results_store``).

Prints rows/s per core for the build and, measured in the same run on the same
files, two baselines: DuckDB's bare read of the CSVs (one thread) and the numpy
pass (``signals.process`` on the same minutes already in memory, sorted, with
categorical ids). Then the same files shaped like real dumps (rows out of
order, duplicated minutes, damaged lines) through the bare read and the build,
the no-op incremental re-run, peak memory of two cohort
sizes (each build in its own process; buckets scale with the cohort so a
partition holds the same number of people), and projections for one Seoul day
(331M rows: 230k participants x 1,440 minutes) and a year, on this machine and
on N single-core Dask workers (linear: tasks are independent per file and partition).

    python benchmarks/bench_pipeline.py [--participants 60] [--days 7]

Ratios are the figures to compare between machines; absolute numbers move with
the load of a shared machine.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from evaluation import store as build, ingest, signals  # noqa: E402
from evaluation.synth import exports as sx  # noqa: E402

SEOUL_DAY = 331_000_000
READ = {"demo": True, "pseudonymise_ids": False}
PER_BUCKET = 15  # participants per bucket: partitions stay the same size whatever the cohort


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _warm(sample: str) -> None:
    from evaluation import store as build, signals  # noqa: F401

    signals.process(pd.read_parquet(sample).iloc[:5000])


def write(n: int, days: int, folder: Path, seed: int = 7) -> int:
    people = pd.read_parquet(ROOT / "data_samples" / "participants.parquet")
    cohort = people.iloc[:n]
    shutil.rmtree(folder, ignore_errors=True)
    return sx.write_exports(cohort, folder / "exports", start="2023-03-06", days=days, truth=folder / "truth", seed=seed, block=25)["rows"]


def real_shaped(src: Path, dst: Path, seed: int = 11) -> tuple[int, int]:
    """Copies of the band CSVs as real platform dumps arrive: 5% of rows moved out of order (re-synced
    chunks appended late), 1% duplicated minutes, 0.05% damaged lines (an unparseable time, text in
    steps, a cut-short line). Returns (data lines, damaged lines)."""
    rng = np.random.default_rng(seed)
    shutil.rmtree(dst, ignore_errors=True)
    lines_total = damaged = 0
    for f in sorted(src.rglob("*.csv")):
        head, *body = f.read_text().splitlines()
        body = np.array(body, dtype=object)
        n = len(body)
        late = rng.random(n) < 0.05
        body = np.concatenate([body[~late], body[late]])
        dup = body[rng.random(len(body)) < 0.01]
        body = np.concatenate([body, dup])
        bad = np.flatnonzero(rng.random(len(body)) < 0.0005)
        for i, k in zip(bad, rng.integers(0, 3, len(bad))):
            parts = body[i].split(",")
            body[i] = (",".join([parts[0], "2023-13-45 25:61:00", *parts[2:]]) if k == 0 else
                       ",".join([*parts[:2], "many", *parts[3:]]) if k == 1 else ",".join(parts[:2]))
        out = dst / f.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join([head, *body]) + "\n")
        lines_total += len(body)
        damaged += len(bad)
    return lines_total, damaged


# the child's own high-water RSS (MiB): getrusage's ru_maxrss would include this (large) parent's,
# which Linux carries across fork and exec
HWM = "next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) / 1024"


def peak_rss_build(folder: Path, n_buckets: int) -> tuple[float, float]:
    """(peak RSS MiB, seconds) of a from-scratch build in a fresh process."""
    code = (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from evaluation import store as build\n"
        "t = time.time(); build.build_store(%r, %r, n_buckets=%d, read_kwargs={'demo': True, 'pseudonymise_ids': False})\n"
        "print(%s, time.time() - t)\n"
    ) % (str(ROOT / "src"), str(folder / "exports"), str(folder / "store-mem"), n_buckets, HWM)
    shutil.rmtree(folder / "store-mem", ignore_errors=True)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    shutil.rmtree(folder / "store-mem", ignore_errors=True)
    return float(out[0]), float(out[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=100)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--workers", type=int, nargs="*", default=[8, 32, 128])
    args = ap.parse_args()
    data = ROOT / "benchmarks" / ".data" / "pipeline"
    n, days = args.participants, args.days
    n_buckets = max(1, n // PER_BUCKET)
    rows = write(n, days, data / "a")
    files = sorted(str(f) for f in (data / "a" / "exports").rglob("*.csv"))
    mb = sum(os.path.getsize(f) for f in files) / 2**20
    print(f"input: {len(files)} band CSV files, {rows:,} rows, {mb:,.0f} MiB; {n} participants x {days} days; "
          f"{n_buckets} buckets; {os.cpu_count()} cores (machine shared: compare ratios)")

    # baseline 1: DuckDB reads and parses the same files, one thread
    import duckdb

    con = duckdb.connect(config={"threads": 1})
    c0, t0 = cpu(), time.time()
    got = con.sql(
        "select count(*), sum(steps), count(heart_rate), max(ts) from read_csv("
        + "[" + ",".join(f"'{f}'" for f in files) + "], header=true, "
        "columns={'participant_id': 'VARCHAR', 'ts': 'TIMESTAMP', 'steps': 'INTEGER', 'heart_rate': 'DOUBLE'})"
    ).fetchall()[0]
    t_duck, c_duck = time.time() - t0, cpu() - c0
    assert got[0] == rows
    signals.process(pd.read_parquet(ROOT / "data_samples" / "minutes_sample.parquet").iloc[:5000])  # compile the kernels first

    # the build: one core, in this process
    store = data / "a" / "store"
    shutil.rmtree(store, ignore_errors=True)
    c0, t0 = cpu(), time.time()
    res = build.build_store(data / "a" / "exports", store, n_buckets=n_buckets, read_kwargs=READ)
    t_build, c_build = time.time() - t0, cpu() - c0
    assert res.rows_in == rows and res.manifest["rows"]["balanced"]
    stages = res.manifest["timings"]

    # baseline 2: the numpy pass on the same minutes in memory (sorted, categorical ids), warm
    minutes = ingest.read_exports(files, **READ).minutes.sort_values(["participant_id", "ts"], kind="stable")
    minutes["participant_id"] = minutes["participant_id"].astype("category")
    signals.process(minutes.iloc[:1000])
    c0, t0 = cpu(), time.time()
    signals.process(minutes)
    t_np, c_np = time.time() - t0, cpu() - c0

    # no-op re-run
    t0 = time.time()
    again = build.build_store(data / "a" / "exports", store, n_buckets=n_buckets, read_kwargs=READ)
    t_noop = time.time() - t0
    assert not again.changed_anything

    # the daily routine: the store holds the earlier days, one new day of exports arrives
    days_dirs = sorted(p for p in (data / "a" / "exports" / "band").iterdir() if p.is_dir())
    inc = data / "inc"
    shutil.rmtree(inc, ignore_errors=True)
    shutil.copytree(data / "a" / "exports", inc / "exports", ignore=shutil.ignore_patterns(days_dirs[-1].name))
    build.build_store(inc / "exports", inc / "store", n_buckets=n_buckets, read_kwargs=READ)
    shutil.copytree(days_dirs[-1], inc / "exports" / "band" / days_dirs[-1].name)
    c0, t0 = cpu(), time.time()
    day_res = build.build_store(inc / "exports", inc / "store", n_buckets=n_buckets, read_kwargs=READ)
    t_day, c_day = time.time() - t0, cpu() - c0
    day_rows = con.sql("select count(*) from read_csv([" + ",".join(
        f"'{f}'" for f in sorted(days_dirs[-1].glob("*.csv"))) + "], header=true)").fetchall()[0][0]
    assert day_res.files_new == len(list(days_dirs[-1].glob("*.csv")))

    # the same files shaped like real dumps (out of order, duplicated, damaged): bare read and build
    r_lines, r_bad = real_shaped(data / "a" / "exports", data / "r" / "exports")
    r_files = sorted(str(f) for f in (data / "r" / "exports").rglob("*.csv"))
    c0 = cpu()
    con.sql("select count(*), sum(steps), count(heart_rate), max(ts) from read_csv("
            + "[" + ",".join(f"'{f}'" for f in r_files) + "], header=true, ignore_errors=true, "
            "columns={'participant_id': 'VARCHAR', 'ts': 'TIMESTAMP', 'steps': 'INTEGER', 'heart_rate': 'DOUBLE'})").fetchall()
    c_rduck = cpu() - c0
    c0, t0 = cpu(), time.time()
    rres = build.build_store(data / "r" / "exports", data / "r" / "store", n_buckets=n_buckets, read_kwargs=READ)
    t_rbuild, c_rbuild = time.time() - t0, cpu() - c0
    assert rres.rows_in == r_lines and rres.manifest["rows"]["balanced"] and rres.rows_quarantined >= r_bad

    # the same build on a Dask LocalCluster of one single-threaded worker per core: measured wall time
    # on this machine (cluster start-up excluded: it is paid once per scheduled run, not per day)
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=os.cpu_count(), threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            Client(lc) as client:
        client.run(_warm, str(ROOT / "data_samples" / "minutes_sample.parquet"))  # imports and compiled kernels, as in this process
        shutil.rmtree(data / "a" / "store-dask", ignore_errors=True)
        t0 = time.time()
        build.build_store(data / "a" / "exports", data / "a" / "store-dask", n_buckets=n_buckets, read_kwargs=READ, client=client)
        t_dask = time.time() - t0
    pd.testing.assert_frame_equal(build.read_daily(store), build.read_daily(data / "a" / "store-dask"))

    per_core = rows / c_build  # CPU seconds: the build runs on one core, and CPU time survives a loaded machine
    print(f"\n{'':<34}{'wall s':>8}{'CPU s':>8}{'rows/s/core (CPU)':>19}{'x bare read (CPU)':>19}")
    for label, t, c in (("DuckDB bare read (1 thread)", t_duck, c_duck), ("numpy pass (signals.process)", t_np, c_np),
                        ("build end to end (1 core)", t_build, c_build)):
        print(f"{label:<34}{t:>8.2f}{c:>8.2f}{rows / c:>19,.0f}{c / c_duck:>19.1f}")
    print("  build stages (wall s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print(f"real-shaped copy ({r_lines:,} lines: 5% out of order, 1% duplicated, {r_bad} damaged -> "
          f"{rres.rows_quarantined:,} quarantined with reasons):")
    print(f"{'  DuckDB bare read (ignore_errors)':<34}{'':>8}{c_rduck:>8.2f}{r_lines / c_rduck:>19,.0f}{c_rduck / c_duck:>19.1f}")
    print(f"{'  build end to end (1 core)':<34}{t_rbuild:>8.2f}{c_rbuild:>8.2f}{r_lines / c_rbuild:>19,.0f}{c_rbuild / c_duck:>19.1f}"
          f"   ({c_rbuild / c_rduck:.1f}x its own bare read; {c_rbuild / c_build:.2f}x the clean build)")
    print(f"daily routine (one new day, {day_rows:,} rows, onto {len(days_dirs) - 1} stored days): {t_day:.2f} s wall, "
          f"{c_day:.2f} CPU s = {day_rows / c_day:,.0f} rows/s/core ({c_day / (c_duck * day_rows / rows):.1f}x its bare read); "
          f"{day_res.daily_partitions} daily partitions recomputed (the new date and the one before it, whose halo grew)")
    print(f"no-op incremental re-run: {t_noop:.2f} s ({len(files)} files, {res.manifest['partitions']['daily']} daily partitions)")

    # bounded memory: the same days, twice the people, twice the buckets
    base = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); import evaluation.store, evaluation.ingest; "
                           "print(%s)" % (str(ROOT / "src"), HWM)],
                          capture_output=True, text=True, check=True).stdout.strip()
    print(f"\npeak memory of a from-scratch build (fresh process; after imports alone: {float(base):,.0f} MiB):")
    for k, folder in ((1, data / "a"), (2, data / "b"), (4, data / "c")):
        if k > 1:
            write(k * n, days, folder, seed=7 + k)
        mib, secs = peak_rss_build(folder, n_buckets * k)
        print(f"  {k * n:>5} participants, {n_buckets * k:>3} buckets: peak RSS {mib:,.0f} MiB ({secs:.1f} s)")

    print(f"\nDask LocalCluster, {os.cpu_count()} workers on this machine: {t_dask:.2f} s wall = {rows / t_dask:,.0f} rows/s "
          f"({t_build / t_dask:.2f}x the one-core build); one Seoul day at that rate: {SEOUL_DAY / (rows / t_dask) / 60:.1f} min "
          f"(DuckDB's bare read alone on {os.cpu_count()} cores: {SEOUL_DAY / (rows / c_duck * (os.cpu_count() or 1)) / 60:.1f} min)")
    day_core = day_rows / c_day
    print("\nprojections at the measured per-core rates (tasks independent per file and partition; the daily routine's"
          " rate for a new day, the bulk rate for a year loaded at once):")
    for label, cores in [("this machine", os.cpu_count() or 1)] + [(f"{w} Dask workers", w) for w in args.workers]:
        day = SEOUL_DAY / (day_core * cores)
        print(f"  {label:<18} ({cores:>3} cores): one Seoul day {day / 60:8.1f} min; a year in bulk "
              f"{365 * SEOUL_DAY / (per_core * cores) / 3600:8.1f} h")
    print(f"  cores needed for one Seoul day in 2 minutes: {SEOUL_DAY / (day_core * 120):.0f} "
          f"(DuckDB's bare read alone: {SEOUL_DAY / (rows / c_duck * 120):.1f})")
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
