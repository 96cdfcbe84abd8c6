"""Load benchmark: the overview dashboard opened from N concurrent browser contexts.

Serves the dashboards with Voila exactly as `evaluation dashboard` does (voila.json,
preheated kernels) over the latest demo run (run `make demo` first, or pass
--output-root), then opens the overview from ``--contexts`` (default 10) headless
Chromium contexts at once and prints the time to first render (first KPI card
visible) as median and p95, plus the peak resident memory of Voila and its
kernels. The baseline in the same run is a single context opening the page
alone, so the ratio shows what concurrency costs.

    .venv/bin/python benchmarks/bench_dashboards.py [--contexts 10] [--pool-size N]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from evaluation.dashboards import voila_command, voila_env  # noqa: E402

TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


class PeakMemory(threading.Thread):
    """Samples the RSS of a process tree every 100 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc, self.peak, self.stop = psutil.Process(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)


def cpu_seconds(pattern: str) -> float:
    """Total CPU seconds used so far by processes whose command line contains ``pattern``."""
    total = 0.0
    for p in psutil.process_iter(["cmdline", "cpu_times"]):
        try:
            if pattern in " ".join(p.info["cmdline"] or []):
                total += sum(p.info["cpu_times"][:2])
        except (psutil.Error, TypeError):
            continue
    return total


def open_pages(browser, url: str, n: int) -> list[float]:
    """Open ``url`` in ``n`` fresh contexts at once; seconds until the first KPI card shows, per context."""
    contexts = [browser.new_context() for _ in range(n)]
    pages = [c.new_page() for c in contexts]
    starts = []
    for p in pages:
        starts.append(time.perf_counter())
        p.goto(url, wait_until="commit", timeout=180_000)
    times = []
    for p, t0 in zip(pages, starts):
        p.wait_for_selector(".ev-card, .ev-msg", timeout=180_000)
        times.append(time.perf_counter() - t0)
    for c in contexts:
        c.close()
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, default=10)
    ap.add_argument("--output-root", default=str(ROOT / "outputs"))
    ap.add_argument("--pool-size", type=int, default=None, help="override voila.json's default preheated pool size")
    ap.add_argument("--settle", type=float, default=30.0, help="seconds to let the kernel pools fill before measuring")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    port = free_port()
    cmd = voila_command(port=port, token=TOKEN)
    if args.pool_size is not None:
        cmd.append(f"--pool_size={args.pool_size}")
    server = subprocess.Popen(cmd, cwd=ROOT, env=voila_env(args.output_root),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mem = PeakMemory(server.pid)
    mem.start()
    try:
        wait(f"http://127.0.0.1:{port}/")
        time.sleep(args.settle)  # let the preheated pools fill, as they are on a long-running server
        url = f"http://127.0.0.1:{port}/voila/render/overview.ipynb?token={TOKEN}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"])
            single = open_pages(browser, url, 1)[0]
            time.sleep(args.settle)  # the pool refills the kernel the baseline used
            cpu0 = cpu_seconds("chromium"), cpu_seconds("voila") + cpu_seconds("ipykernel_launcher")
            times = sorted(open_pages(browser, url, args.contexts))
            cpu1 = cpu_seconds("chromium"), cpu_seconds("voila") + cpu_seconds("ipykernel_launcher")
            browser.close()
    finally:
        mem.stop.set()
        server.terminate()
        server.wait(timeout=30)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    median = statistics.median(times)
    print(f"overview dashboard, {args.contexts} concurrent contexts, {os.cpu_count()} cores")
    print(f"  single context (baseline): {single:.2f} s to first render")
    print(f"  concurrent: median {median:.2f} s, p95 {p95:.2f} s, max {times[-1]:.2f} s")
    print(f"  ratio p95 / single: {p95 / single:.1f}x")
    print(f"  peak memory, Voila + kernels: {mem.peak / 2**20:,.0f} MiB")
    print(f"  CPU during the burst: browser {cpu1[0] - cpu0[0]:.1f} s, Voila + kernels {cpu1[1] - cpu0[1]:.1f} s "
          "(browser and server share these 2 cores here)")
    print(f"  goal p95 < 5 s: {'met' if p95 < 5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
