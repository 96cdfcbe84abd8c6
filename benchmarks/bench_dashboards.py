"""Load benchmark of the dashboards as a service (loopback only, bounded in count and time).

Serves the dashboards exactly as ``evaluation dashboard`` does (``dashboards._serve.start``: voila.json,
preheated pools, culling after 60 s, the kernel cap) over the latest demo run (``make demo`` first, or
``--output-root``); a run published by ``evaluation run`` carries its kernel-free views (issue 23), so
visitors get pre-rendered pages; ``--no-views`` serves a kernel per visitor, as before, for the ratio.

1. **bursts** of 1, 10 and 30 viewers opening the overview at once in headless Chromium (at ``nice 19``,
   so the server's work goes first). *First screen*: from a tab's navigation request until the frame
   showing the page's render marker (``[data-render-ms]``) was painted; stamped in the page, because asking
   ten tabs one after another would add each question's round trip, and all tabs are sent off at once.
   *Every control*: until every menu answers (a view: its form is bound,
   ``[data-ev-ready]``; a snapshot: the live widgets took over). *Switch*: on views, every tab then chooses
   a district, then English, at once: seconds until the new state's page is there. Peak live kernels and
   server RSS (Voila + kernels) are sampled every 0.25 s. Before each burst, the same number of fresh tabs
   open a one-line page from a static server (the *browser floor*): what starting the tabs alone costs on these
   cores; the first screen is also given as a ratio to it. The same bursts with plain HTTP clients
   ("server only") come first. Ratios are against the single viewer measured in the same run.
2. **soak**: ``--visits`` sequential visits as served (a kernel's tab is closed with the page's beacon),
   then the browser bursts again.
3. **abandoned tabs**: ``--abandoned`` visitors that load a live page (``?live=1``), connect to their
   kernel and vanish without the beacon; the culler must take the kernels back. Prints how long until
   live kernels and RSS are back within 10% of idle.

For each: p50, p95, max, errors, live kernels and RSS of Voila + kernels afterwards.

    .venv/bin/python benchmarks/bench_dashboards.py [--bursts 1,10,30] [--visits 200] [--abandoned 50] [--no-views]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, wait
from http.cookiejar import CookieJar
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from evaluation.dashboards import _serve  # noqa: E402

TOKEN = "bench-token-" + os.urandom(6).hex()
KERNEL_RE = re.compile(r'"kernelId": "([0-9a-f-]{36})"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Visitor:
    """One browser's cookies over plain HTTP."""

    def __init__(self, base: str):
        self.base, self.jar = base, CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open_page(self, name: str, live: bool = True) -> str | None:
        """Log in with the token (302 to the token-free page, followed) and load it; returns the kernel id
        (None: the static snapshot was served)."""
        query = "live=1&" if live else ""
        with self.opener.open(f"{self.base}/voila/render/{name}.ipynb?{query}token={TOKEN}", timeout=300) as r:
            body = r.read().decode()
        found = KERNEL_RE.search(body)
        if found is None and "data-ev-static" not in body and "data-ev-view" not in body:
            raise RuntimeError("neither a live page, a kernel-free view nor the static snapshot")
        return found.group(1) if found else None

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def close_tab(self, kernel_id: str) -> None:
        data = f"_xsrf={self.cookie('_xsrf')}".encode()
        req = urllib.request.Request(f"{self.base}/voila/api/shutdown/{kernel_id}", data=data, method="POST")
        self.opener.open(req, timeout=60).read()

    def abandon(self, kernel_id: str) -> None:
        """Connect to the kernel like the page does, then drop the socket without the unload beacon."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        async def go():
            url = f"{self.base.replace('http', 'ws')}/api/kernels/{kernel_id}/channels"
            ws = await websocket_connect(HTTPRequest(url, headers={
                "Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar)}))
            ws.close()
            await asyncio.sleep(0.1)

        asyncio.run(go())


def health(base: str) -> dict:
    with urllib.request.urlopen(base + "/voila/health", timeout=30) as r:
        return json.load(r)["kernels"]


def rss_mib(pid: int) -> float:
    total = 0
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def cpu_of(pids: set[int]) -> float:
    """CPU seconds (user + system) of the given processes and their descendants (live ones)."""
    total = 0.0
    seen = set()
    procs = []
    if pids:
        for pid in pids:
            try:
                p = psutil.Process(pid)
                procs += [p, *p.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
    for p in procs:
        if p.pid in seen:
            continue
        seen.add(p.pid)
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


SETTLE = 20.0


def wait_idle(base: str, pooled: int, timeout: float, settle: float | None = None) -> float | None:
    """Seconds until no visitor kernel is left and the pools are full again (None: not within timeout).

    A pooled kernel counts as soon as it started, while it still executes the notebook: ``settle``
    seconds more let the pre-rendering finish, as on a server that has been up for a while."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        k = health(base)
        if k["visitors"] == 0 and k["pooled"] >= pooled:
            took = time.perf_counter() - t0
            time.sleep(SETTLE if settle is None else settle)
            return took
        time.sleep(1)
    return None


class Peak:
    """Samples live kernels and server RSS every 0.25 s while a burst runs; keeps the maxima."""

    def __init__(self, base: str, pid: int):
        self.base, self.pid = base, pid
        self.kernels = self.visitors = 0
        self.rss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                k = health(self.base)
                self.kernels, self.visitors = max(self.kernels, k["total"]), max(self.visitors, k["visitors"])
            except OSError:
                pass
            self.rss = max(self.rss, rss_mib(self.pid))
            self._stop.wait(0.25)

    def __enter__(self) -> "Peak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def text(self) -> str:
        return f"  peak: kernels {self.kernels} (visitors {self.visitors}), RSS {self.rss:,.0f} MiB"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))] if s else float("nan")


def row(label: str, times: list[float], errors: int, base: str, pid: int, extra: str = "") -> None:
    k = health(base)
    if times:
        stats = f"p50 {statistics.median(times):6.2f} s  p95 {pct(times, 0.95):6.2f} s  max {max(times):6.2f} s"
    else:
        stats = "no successful sample"
    print(f"  {label:<34} {stats}  errors {errors:3d}  kernels {k['total']:3d} "
          f"(visitors {k['visitors']}, pooled {k['pooled']})  RSS {rss_mib(pid):7,.0f} MiB{extra}", flush=True)



# stamps, in the page and on the wall clock, when the frame that shows the first-render marker has been painted
# (``__evFirst``: the marker parsed, then two animation frames, the usual test that a frame reached the
# screen) and when every control answers in a painted frame (``__evReady``: a view's bound form, or a
# snapshot's live frame shown)
STAMP_JS = """(() => {
  const painted = (name) => requestAnimationFrame(() => requestAnimationFrame(() => {
    if (!window[name]) window[name] = performance.timeOrigin + performance.now();
  }));
  let first = false, ready = false;
  const check = () => {
    if (!first && document.querySelector('[data-render-ms]')) { first = true; painted('__evFirst'); }
    const f = document.getElementById('ev-live');
    const now = (document.body && document.body.hasAttribute('data-ev-ready')) ||
                (f ? f.style.visibility === 'visible' : !!document.querySelector('[data-render-ms]'));
    if (!ready && now) { ready = true; painted('__evReady'); }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true});
  document.addEventListener('DOMContentLoaded', check);
})();"""
FLOOR_PAGE = "<html><head><meta charset='utf-8'></head><body><h1 data-render-ms='0'>서울</h1></body></html>"


def floor_server() -> str:
    """A static server of :data:`FLOOR_PAGE` (a thread of this process): the browser's own floor."""
    import http.server

    class Floor(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = FLOOR_PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Floor)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_port}/"


def browser_burst(browser, base: str, n: int, budget: float, switch: bool = True, url: str | None = None):
    """n contexts navigate at once. Seconds to the first-render marker (kernel-free view, static snapshot or
    live page) and until every control answers (a view: at once; a snapshot: when the live widgets took
    over), per context; then, on views, each tab switches district and language (seconds to the new state's
    page). Waiting stops when ``budget`` seconds are spent (then: errors)."""
    contexts = [browser.new_context(locale="ko-KR") for _ in range(n)]
    for c in contexts:
        c.add_init_script(STAMP_JS)
    pages = [c.new_page() for c in contexts]
    url = url or f"{base}/voila/render/overview.ipynb?token={TOKEN}"
    times, errors, lock = [], 0, threading.Lock()
    starts = []
    for p in pages:  # every tab asked at once: the navigation starts without waiting for the previous tab's
        starts.append(time.time())
        p.evaluate("u => { window.location.href = u; }", url)
    deadline = time.perf_counter() + budget
    live, live_errors, static = [], 0, 0
    for p, t0 in zip(pages, starts):
        try:
            p.wait_for_function("() => !!window.__evFirst", timeout=max(1.0, deadline - time.perf_counter()) * 1000,
                                polling=100)
            with lock:
                times.append(_stamped(p, "__evFirst", t0))
            static += p.query_selector("#ev-live") is not None
        except Exception:
            errors += 1
    for p, t0 in zip(pages, starts):
        try:
            p.wait_for_function("() => !!window.__evReady", timeout=max(1.0, deadline - time.perf_counter()) * 1000,
                                polling=100)
            live.append(_stamped(p, "__evReady", t0))
        except Exception:
            live_errors += 1
    switched, switch_errors = [], 0
    views = [p for p in pages if _is_view(p)]
    if switch and views:
        # every tab chooses a district at once, then English: each answer is the pre-rendered page of the new state
        for step in ("district", "lang"):
            t_switch = []
            for p in views:
                try:
                    if step == "district":
                        p.select_option("select[name=district]", index=(hash(p) % 25) + 1, timeout=30_000, no_wait_after=True)
                    else:
                        p.click("button[name=lang][value=en]", timeout=30_000, no_wait_after=True)
                    t_switch.append((p, time.perf_counter()))
                except Exception:
                    switch_errors += 1
            for p, ts in t_switch:
                try:
                    pattern = re.compile(r"district=11" if step == "district" else r"lang=en")
                    p.wait_for_url(pattern, wait_until="domcontentloaded",
                                   timeout=max(1.0, deadline + 60 - time.perf_counter()) * 1000)
                    p.wait_for_selector("body[data-ev-ready]", state="attached", timeout=30_000)
                    switched.append(time.perf_counter() - ts)
                except Exception:
                    switch_errors += 1
    for p in pages:  # closing with the unload beacon, as a tab that is closed normally
        try:
            p.close(run_before_unload=True)
        except Exception:
            pass
    time.sleep(2)
    for c in contexts:
        c.close()
    return times, live, errors, live_errors, static, switched, switch_errors


def _stamped(page, name: str, t0: float) -> float:
    """Seconds from the navigation's request (``t0``, wall clock) to when the page itself saw the moment
    (:data:`STAMP_JS`); the tabs are asked one after another, and each question's round trip on a busy
    machine would otherwise be counted as the page's time."""
    stamp = page.evaluate(f"() => window.{name}")
    return max(0.0, stamp / 1000 - t0)


def _is_view(page) -> bool:
    try:
        return page.evaluate("() => document.body.hasAttribute('data-ev-view')")
    except Exception:
        return False


def http_burst(base: str, n: int, name: str = "overview", live: bool = False,
               budget: float = 240) -> tuple[list[float], int]:
    """n visitors load the page at once over HTTP (no browser); seconds until the full page arrived.
    ``live``: always the kernel-rendered page (``?live=1``), never the static snapshot."""

    def one(_):
        v = Visitor(base)
        t0 = time.perf_counter()
        try:
            kernel = v.open_page(name, live=live)
        except Exception:
            return None
        dt = time.perf_counter() - t0
        try:
            if kernel:
                v.close_tab(kernel)
        except Exception:
            pass
        return dt

    ex = ThreadPoolExecutor(n)
    futures = [ex.submit(one, i) for i in range(n)]
    done, _ = wait(futures, timeout=budget)
    ex.shutdown(wait=False, cancel_futures=True)  # a request still hanging after the budget is an error
    results = [f.result() for f in done]
    return [r for r in results if r is not None], n - len([r for r in results if r is not None])


def browser_bursts(args, base: str, server, bursts: list[int], pooled: int, label: str) -> None:
    from playwright.sync_api import sync_playwright

    def browsers() -> set[int]:  # Playwright's driver and its Chromium: our children but the server
        return {c.pid for c in psutil.Process().children() if c.pid != server.pid}

    print(f"bursts, overview dashboard, {label} (Chromium at nice 19; first screen = the page's [data-render-ms] "
          "marker; controls = every control answers; switch = a district, then English, chosen in every tab at once)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"])
        single = single_live = None
        floor_url = floor_server()
        for n in bursts:
            # the browser's own floor in the same run: n fresh tabs on a one-line page from a static server;
            # --repeat bursts of n, their samples pooled: with 10 tabs one burst's p95 is its slowest tab
            floor, floor_errors = [], 0
            times, live, switched, errors, live_errors, static, switch_errors = [], [], [], 0, 0, 0, 0
            cpu_server = cpu_browser = 0.0
            with Peak(base, server.pid) as peak:
                for i in range(args.repeat):
                    if i:
                        wait_idle(base, pooled, 180)
                    f, _, fe, *_ = browser_burst(browser, base, n, args.burst_budget, switch=False, url=floor_url)
                    floor, floor_errors = floor + f, floor_errors + fe
                    cpu_server0, cpu_browser0 = cpu_of({server.pid}), cpu_of(browsers())
                    t, lv, e, le, st, sw, swe = browser_burst(browser, base, n, args.burst_budget, switch=not args.no_switch)
                    cpu_server += cpu_of({server.pid}) - cpu_server0
                    cpu_browser += cpu_of(browsers()) - cpu_browser0
                    times, live, switched = times + t, live + lv, switched + sw
                    errors, live_errors, static, switch_errors = errors + e, live_errors + le, static + st, switch_errors + swe
            row(f"{n:2d} at once: browser floor", floor, floor_errors, base, server.pid, "  (a one-line page, static server)")
            single = single or (statistics.median(times) if times else None)
            single_live = single_live or (statistics.median(live) if live else None)
            ratio = f"  p95/single {pct(times, 0.95) / single:5.1f}x" if single and times else ""
            floor_ratio = f", p95/floor {pct(times, 0.95) / pct(floor, 0.95):4.2f}x" if floor and times else ""
            row(f"{n:2d} at once: first screen", times, errors, base, server.pid,
                f"  ({static} snapshot)  CPU server {cpu_server:5.1f} s, browsers {cpu_browser:5.1f} s{ratio}{floor_ratio}")
            ratio = f"  p95/single {pct(live, 0.95) / single_live:5.1f}x" if single_live and live else ""
            row(f"{n:2d} at once: every control", live, live_errors, base, server.pid, ratio + peak.text())
            if switched or switch_errors:
                row(f"{n:2d} at once: switch answered", switched, switch_errors, base, server.pid)
            wait_idle(base, pooled, 180)
        browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output-root", default=str(ROOT / "outputs"))
    ap.add_argument("--bursts", default="1,10,30", help="viewer counts for the concurrent bursts")
    ap.add_argument("--visits", type=int, default=200, help="sequential visits of the soak (0: skip)")
    ap.add_argument("--abandoned", type=int, default=50, help="abandoned tabs (0: skip)")
    ap.add_argument("--no-views", action="store_true",
                    help="serve without the kernel-free views (a kernel per visitor, as before issue 23)")
    ap.add_argument("--no-browser", action="store_true", help="HTTP-only bursts (no Chromium)")
    ap.add_argument("--no-http", action="store_true", help="browser bursts only")
    ap.add_argument("--no-switch", action="store_true", help="browser bursts without the district/language switch")
    ap.add_argument("--repeat", type=int, default=1, help="browser bursts of each size, samples pooled (a steadier p95)")
    ap.add_argument("--log", default=os.devnull, help="file for Voila's log (tokens are redacted)")
    ap.add_argument("--max-seconds", type=float, default=900, help="stop the soak when this budget is spent")
    ap.add_argument("--burst-budget", type=float, default=150, help="seconds a browser burst may wait in all")
    ap.add_argument("--settle", type=float, default=SETTLE, help="seconds for the pools to pre-render between bursts")
    args = ap.parse_args()
    globals()["SETTLE"] = args.settle
    bursts = [int(x) for x in args.bursts.split(",") if x]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    max_kernels = max(bursts + [args.abandoned, 4]) + 4
    if args.no_views:
        os.environ[_serve.VIEWS_ENV] = "0"
    server = _serve.start(port=port, output_root=args.output_root, token=TOKEN, max_kernels=max_kernels,
                          stdout=open(os.devnull, "w"), stderr=open(args.log, "w"))
    started = time.perf_counter()
    mode = "kernel per visitor (views off)" if args.no_views else "kernel-free views"
    try:
        for _ in range(300):
            try:
                health(base)
                break
            except OSError:
                time.sleep(0.5)
        with urllib.request.urlopen(base + "/voila/health", timeout=30) as r:
            views_ready = json.load(r).get("views", {}).get("ready")
        # voila.json preheats overview 2, districts 1, cost 1; none when the views serve every latest run
        pooled = 0 if views_ready else 4
        ready = wait_idle(base, pooled, 300)
        print(f"dashboards service, {mode}, {os.cpu_count()} cores (shared with other work), output root {args.output_root}")
        print(f"  start until pools full: {time.perf_counter() - started:.1f} s;  idle: "
              f"{health(base)['total']} kernels, RSS {rss_mib(server.pid):,.0f} MiB  (ready={ready is not None}, "
              f"views ready={views_ready})")
        idle_rss = rss_mib(server.pid)
        idle_total = health(base)["total"]

        for live in () if args.no_http else ((False,) if not args.no_views else (True, False)):
            print("bursts, overview, server only (plain HTTP, until the whole page arrived): "
                  + ("kernel per viewer (?live=1)" if live else "as served"))
            single = None
            for n in bursts:
                cpu0 = cpu_of({server.pid})
                with Peak(base, server.pid) as peak:
                    times, errors = http_burst(base, n, live=live, budget=args.burst_budget)
                cpu = cpu_of({server.pid}) - cpu0
                single = single or (statistics.median(times) if times else None)
                ratio = f"  p95/single {pct(times, 0.95) / single:5.1f}x" if single and times else ""
                row(f"{n:2d} at once", times, errors, base, server.pid, f"  server CPU {cpu:5.1f} s{ratio}" + peak.text())
                wait_idle(base, pooled, 180)

        if not args.no_browser:
            os.nice(19)  # Chromium inherits the lowest priority; the server started before keeps its own
            browser_bursts(args, base, server, bursts, pooled, "fresh server")

        if args.visits:
            times, errors, t0 = [], 0, time.perf_counter()
            names = ("overview", "districts", "cost")
            with Peak(base, server.pid) as peak:
                for i in range(args.visits):
                    if time.perf_counter() - t0 > args.max_seconds:
                        break
                    v, s = Visitor(base), time.perf_counter()
                    try:
                        kernel = v.open_page(names[i % 3], live=False)
                        times.append(time.perf_counter() - s)
                        if kernel:
                            v.close_tab(kernel)
                    except Exception:
                        errors += 1
            print(f"soak: {len(times) + errors} sequential visits as served (a kernel's tab is closed) in "
                  f"{time.perf_counter() - t0:.0f} s, page load:")
            row("right after the soak", times, errors, base, server.pid, peak.text())
            back = wait_idle(base, pooled, 180, settle=0)
            row("idle again", [], 0, base, server.pid,
                f"  after {back if back is not None else float('nan'):.0f} s  (RSS {rss_mib(server.pid) / idle_rss:4.2f}x idle)")
            if not args.no_browser:
                browser_bursts(args, base, server, bursts, pooled, f"after the {len(times) + errors}-visit soak")

        if args.abandoned:
            times, errors, t0 = [], 0, time.perf_counter()
            for i in range(args.abandoned):
                if health(base)["visitors"] >= max_kernels - 1:
                    break
                v, s = Visitor(base), time.perf_counter()
                try:
                    kernel = v.open_page(("overview", "districts", "cost")[i % 3])
                    times.append(time.perf_counter() - s)
                    v.abandon(kernel)
                except Exception:
                    errors += 1
            print(f"abandoned tabs (live pages, ?live=1): {len(times) + errors} visitors left without closing "
                  f"({time.perf_counter() - t0:.0f} s), page load:")
            row("right after", times, errors, base, server.pid)
            t_back = time.perf_counter()
            back = None
            while time.perf_counter() - t_back < 240:
                k = health(base)
                if k["visitors"] == 0 and k["total"] <= idle_total and abs(rss_mib(server.pid) - idle_rss) <= 0.1 * idle_rss:
                    back = time.perf_counter() - t_back
                    break
                time.sleep(1)
            row("back to idle (within 10%)", [], 0, base, server.pid,
                f"  after {back if back is not None else float('nan'):.0f} s (cull 60 s + interval 15 s);"
                f"  RSS {rss_mib(server.pid) / idle_rss:4.2f}x idle")
    finally:
        tree = psutil.Process(server.pid).children(recursive=True) if server.poll() is None else []
        t = time.perf_counter()
        code = _serve.stop(server)
        print(f"stop (SIGTERM): exit {code} in {time.perf_counter() - t:.1f} s; "
              f"processes left of {len(tree)}: {sum(p.is_running() for p in tree)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
