"""Throughput of the Apple Health reader (records per second) on a generated ~100 MB export.

Writes an ``export.xml`` with ``vendors.write_synthetic`` (an Apple Watch plus an overlapping iPhone,
so the per-minute priority rule does real work; steps and heart rate), then measures, in the same
run on the same file:

* ``vendors.read_vendor(..., "apple_health_xml")`` -- parse, allocate, deduplicate, minutes out;
* the baseline: a bare ``xml.etree.ElementTree.iterparse`` pass that only counts ``Record``
  elements and clears them (the cheapest streaming read of the file in the standard library);
* for reference, a bare expat pass with a no-op start handler (the parser under both).

Prints records/s (wall and CPU; the reader is single-threaded, so CPU rate = rate per core) and the
reader/baseline ratio of times.

    .venv/bin/python benchmarks/bench_vendors.py [--mb 100] [--keep PATH]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

import numpy as np
import pandas as pd

from evaluation.ingest import vendors

BYTES_PER_MINUTE = 1_000  # watch steps + phone steps + heart rate, about 330 bytes a record


def timed(fn) -> tuple[float, float, object]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def bare_iterparse(path: Path) -> int:
    n = 0
    for _, el in ET.iterparse(path, events=("end",)):
        if el.tag == "Record":
            n += 1
        el.clear()
    return n


def bare_expat(path: Path) -> int:
    p = expat.ParserCreate()
    p.StartElementHandler = lambda tag, attrs: None
    with open(path, "rb") as fh:
        p.ParseFile(fh)
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=100.0, help="target export size in MB")
    ap.add_argument("--keep", type=Path, default=None, help="write the export here and keep it")
    args = ap.parse_args()
    n = int(args.mb * 1e6 / BYTES_PER_MINUTE)
    rng = np.random.default_rng(2024)
    ts = pd.date_range("2024-01-01", periods=n, freq="min", tz="Asia/Seoul")
    m = pd.DataFrame({"ts": ts, "steps": rng.integers(0, 130, n).astype(float), "heart_rate": rng.normal(75, 10, n).round(1)})
    m.loc[rng.random(n) < 0.1, "steps"] = np.nan
    m.loc[rng.random(n) < 0.1, "heart_rate"] = np.nan
    tmp = tempfile.TemporaryDirectory()
    path = args.keep or Path(tmp.name) / "export.xml"
    w, _, _ = timed(lambda: vendors.write_synthetic("apple_health_xml", m, path, participant_id="bench",
                                                     duplicate_source=True))
    size = os.path.getsize(path) / 1e6
    print(f"export: {size:,.1f} MB, {n:,} minutes over {n / 1440:,.0f} days, written in {w:.1f} s "
          f"(machine shared with other jobs: compare ratios, not absolute times)")

    bw, bc, n_rec = timed(lambda: bare_iterparse(path))
    ew, ec, _ = timed(lambda: bare_expat(path))
    rw, rc, vf = timed(lambda: vendors.read_vendor(path, "apple_health_xml", participant_id="bench"))
    assert vf.records_in == n_rec
    print(f"records: {n_rec:,}; minutes out: {len(vf.frame):,}; dropped {vf.dropped}")
    print(f"{'pass':<34}{'wall s':>8}{'cpu s':>8}{'records/s (wall)':>18}{'records/s (cpu)':>17}{'MB/s':>8}")
    for name, wall, cpu in (("ElementTree.iterparse (baseline)", bw, bc), ("bare expat, no-op handler", ew, ec),
                            ("vendors.read_vendor apple", rw, rc)):
        print(f"{name:<34}{wall:>8.2f}{cpu:>8.2f}{n_rec / wall:>18,.0f}{n_rec / cpu:>17,.0f}{size / wall:>8.1f}")
    print(f"ratio reader / baseline: {rw / bw:.2f}x wall, {rc / bc:.2f}x cpu "
          f"(< 1 means the full reader is faster than a bare iterparse pass)")
    tmp.cleanup()


if __name__ == "__main__":
    main()
