"""The dashboards as a service, served for real on loopback (no browser): token leaks, access, kernel
ownership, the kernel cap, lifecycle (SIGTERM/SIGINT) and, behind ``slow``, a soak with abandoned tabs.

The server runs over an empty output root: every dashboard then renders its "no run yet" message, which
still takes a kernel per page -- all these tests need. Culling is shortened with a config override
(``--MappingKernelManager.cull_idle_timeout``) so the soak returns to idle in seconds; ``voila.json``
keeps the service settings (60 s).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import psutil
import pytest

from evaluation.dashboards import _serve

TOKEN = "svc-test-token-7c1e5a"
KERNEL_RE = re.compile(r'"kernelId": "([0-9a-f-]{36})"')
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Reply:
    status: int
    headers: dict
    body: str


class Visitor:
    """One browser's worth of cookies, speaking plain HTTP (redirects are not followed)."""

    def __init__(self, base: str):
        self.base, self.jar = base, CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, path: str, *, method: str = "GET", data: bytes | None = None,
                headers: dict | None = None, timeout: float = 120) -> Reply:
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=timeout) as r:
                return Reply(r.status, dict(r.headers), r.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as e:
            return Reply(e.code, dict(e.headers), e.read().decode("utf-8", "replace"))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def login(self) -> None:
        r = self.request(f"/voila/render/cost.ipynb?token={TOKEN}")
        assert r.status == 302, r

    def open_page(self, name: str = "cost") -> str:
        """Load a live dashboard (its kernel is handed to this visitor); returns the kernel id."""
        if not any(c.name.startswith("username-") for c in self.jar):
            self.login()
        r = self.request(f"/voila/render/{name}.ipynb?live=1")
        assert r.status == 200, (r.status, r.body[:300])
        return KERNEL_RE.search(r.body).group(1)

    def shutdown(self, kernel_id: str) -> int:
        """What the page's ``beforeunload`` beacon sends."""
        body = f"_xsrf={self.cookie('_xsrf') or ''}".encode()
        return self.request(f"/voila/api/shutdown/{kernel_id}", method="POST", data=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"}).status


def _websocket(url: str, cookie: str | None, *, read: bool) -> tuple[int, str | None]:
    """Open a websocket; (101, first message or None) on success, (HTTP status, None) when refused."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def go():
        req = HTTPRequest(url, headers={"Cookie": cookie} if cookie else {})
        try:
            ws = await websocket_connect(req)
        except HTTPClientError as e:
            return e.code, None
        msg = await asyncio.wait_for(ws.read_message(), 20) if read else None
        ws.close()
        await asyncio.sleep(0.2)
        return 101, msg

    return asyncio.run(go())


def _health(base: str) -> dict:
    with urllib.request.urlopen(base + "/voila/health", timeout=10) as r:
        return json.load(r)


def _wait_health(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard server exited with {proc.returncode}")
        try:
            _health(base)
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(base)


def _wait_until(predicate, timeout: float, step: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def _kernel_alive(kernel_id: str) -> bool:
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(kernel_id in part for part in p.info["cmdline"] or []):
                return True
        except psutil.Error:
            continue
    return False


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _server_and_kernels(pid: int) -> tuple[int, list[int]]:
    """RSS of the server process itself (bytes) and of each kernel process under it (bytes); a
    short-lived helper (a snapshot render) is not a kernel and is left out."""
    root, *children = _tree(pid)
    sizes = []
    for p in children:
        try:
            if _is_kernel(p):
                sizes.append(p.memory_info().rss)
        except psutil.Error:
            pass
    return root.memory_info().rss, sizes


@dataclass
class Service:
    base: str
    proc: subprocess.Popen
    log: Path


def _start(tmp: Path, *, max_kernels: int, cull: int, extra: tuple[str, ...] = ()) -> Service:
    port = _free_port()
    log = tmp / "voila.log"
    (tmp / "outputs").mkdir(exist_ok=True)
    proc = _serve.start(port=port, output_root=tmp / "outputs", token=TOKEN, max_kernels=max_kernels,
                        extra=(f"--MappingKernelManager.cull_idle_timeout={cull}",
                               "--MappingKernelManager.cull_interval=2", *extra),
                        stdout=subprocess.DEVNULL, stderr=log.open("w"))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_health(base, proc)
    except Exception:
        _serve.stop(proc)
        raise
    return Service(base, proc, log)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    # culling after 30 s: long enough that no kernel a test holds is culled on a loaded machine
    svc = _start(tmp_path_factory.mktemp("dash-service"), max_kernels=3, cull=30)
    yield svc
    assert _serve.stop(svc.proc) == 0


def _cmdline(p: psutil.Process) -> str:
    """A process's command line, or "" once it has exited (a culled kernel can be a zombie for a moment)."""
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


def _is_kernel(p: psutil.Process) -> bool:
    return "ipykernel_launcher" in _cmdline(p)


def _environ(p: psutil.Process) -> dict[str, str]:
    try:
        return p.environ()
    except psutil.Error:
        return {}


def _no_visitor_kernels(base: str) -> bool:
    """Wait (up to the 30 s cull + a margin) until no kernel is handed to a visitor: the module's tests share
    one server with a cap of 3, and a test that failed half-way must not leave the next at the cap."""
    return _wait_until(lambda: _health(base)["kernels"]["visitors"] == 0, 60)


def test_command_line_and_kernels_never_carry_the_token(service):
    visitor = Visitor(service.base)
    kernel = visitor.open_page()
    try:
        procs = _tree(service.proc.pid)
        kernels = [p for p in procs if _is_kernel(p)]
        assert kernels, "no kernel found under the Voila process"
        for p in procs:  # what `ps` shows every local user
            assert TOKEN not in _cmdline(p)
        for p in kernels:  # notebook code can read its environment
            assert not any(TOKEN in v for v in _environ(p).values())
    finally:
        assert visitor.shutdown(kernel) == 204


@pytest.mark.parametrize("path", [
    "/", "/voila/render/overview.ipynb", f"/voila/render/overview.ipynb?token={TOKEN}x",
    "/voila/render/districts.ipynb?token=", "/login", "/voila/tree",
])
def test_without_a_valid_token_staff_get_the_bilingual_no_access_page(service, path):
    r = Visitor(service.base).request(path)
    assert r.status == 403, (path, r.status, r.headers.get("Location"))
    assert "접근 권한이 없습니다" in r.body and "link expired" in r.body
    assert "password" not in r.body.lower()  # not Jupyter's login / "Setup a Password" form


def test_token_login_redirects_to_a_token_free_address_with_a_cookie(service):
    v = Visitor(service.base)
    r = v.request(f"/voila/render/overview.ipynb?lang=ko&token={TOKEN}")
    assert r.status == 302 and r.headers["Location"] == "/voila/render/overview.ipynb?lang=ko"
    assert any(c.name.startswith("username-") and c.value for c in v.jar)
    page = v.request(r.headers["Location"])
    live = KERNEL_RE.search(page.body)
    if live:  # a live page took a kernel: give it back, the next tests count them
        assert v.shutdown(live.group(1)) == 204
    assert page.status == 200 and (live or "data-ev-static" in page.body)
    assert TOKEN not in page.body
    assert v.cookie("ev_visitor") and v.cookie("_xsrf")
    # the address alone, without the cookie, opens nothing
    assert Visitor(service.base).request(r.headers["Location"]).status == 403


@pytest.mark.parametrize("path", [
    "/voila/templates/..", "/voila/templates/x", "/voila/templates/seoul/static/../../../../etc/passwd",
    "/voila/templates//static/x", "/voila/templates/seoul/nostatic/x", "/voila/templates/nosuch/static/x.js",
    "/voila/static/../../../etc/passwd", "/voila/files/../voila.json", "/voila/files/overview.ipynb",
    "/voila/query/00000000-0000-0000-0000-000000000000", "/api/kernels/00000000-0000-0000-0000-000000000000",
    "/voila/api/shutdown/00000000-0000-0000-0000-000000000000", "/api/kernels", "/voila/api/contents/",
])
def test_unauthenticated_paths_answer_403_or_404_never_500(service, path):
    r = Visitor(service.base).request(path)
    assert r.status in (403, 404), (path, r.status, r.body[:200])


def test_query_socket_answers_only_the_page_its_kernel_was_handed_to(service):
    assert _no_visitor_kernels(service.base), _health(service.base)
    owner, other = Visitor(service.base), Visitor(service.base)
    kernel = owner.open_page()
    other_kernel = other.open_page()
    url = service.base.replace("http", "ws") + f"/voila/query/{kernel}"
    assert _websocket(url, None, read=False)[0] == 403
    assert _websocket(url, other.cookie_header(), read=False)[0] == 403
    status, message = _websocket(url, owner.cookie_header(), read=True)
    assert status == 101
    info = json.loads(message)
    assert info["SCRIPT_NAME"] == "/voila/render/cost.ipynb" and info["QUERY_STRING"] == "live=1"
    assert "token" not in message.lower()
    assert owner.shutdown(kernel) == 204 and other.shutdown(other_kernel) == 204


def test_one_visitor_cannot_use_or_shut_down_anothers_kernel(service):
    assert _no_visitor_kernels(service.base), _health(service.base)
    owner, other = Visitor(service.base), Visitor(service.base)
    kernel = owner.open_page()
    other_kernel = other.open_page()
    assert other.shutdown(kernel) == 403
    xsrf = {"X-XSRFToken": other.cookie("_xsrf")}
    assert other.request(f"/api/kernels/{kernel}", method="DELETE", headers=xsrf).status == 403
    assert other.request(f"/api/kernels/{kernel}").status == 403
    channels = service.base.replace("http", "ws") + f"/api/kernels/{kernel}/channels"
    assert _websocket(channels, other.cookie_header(), read=False)[0] == 403
    assert _kernel_alive(kernel)
    assert owner.request(f"/api/kernels/{kernel}").status == 200  # what the page itself asks
    assert owner.shutdown(kernel) == 204
    assert _wait_until(lambda: not _kernel_alive(kernel), 20)
    assert other.shutdown(other_kernel) == 204


def test_past_the_kernel_cap_staff_get_the_busy_page(service):
    # start from no visitor kernels (the tests above shut theirs; strays are culled after 30 s)
    assert _no_visitor_kernels(service.base), _health(service.base)
    assert _wait_until(lambda: "cost" in _health(service.base)["snapshots"], 90)
    cap = _health(service.base)["max_kernels"]
    visitors = [Visitor(service.base) for _ in range(cap + 1)]
    # opened together, then asked at once: opened one after another on a loaded machine, the first kernel
    # sat idle past the 30 s cull while the others rendered, and the extra visitor got its place
    with ThreadPoolExecutor(cap) as pool:
        kernels = list(pool.map(lambda v: v.open_page(), visitors[:cap]))
    visitors[cap].login()  # the token login itself is only a redirect, never refused for load
    assert _health(service.base)["kernels"]["visitors"] == cap
    busy = visitors[cap].request("/voila/render/cost.ipynb?live=1")
    assert busy.status == 503 and busy.headers.get("Retry-After") == "10"
    assert "잠시 후 다시 시도해 주세요" in busy.body and "http-equiv='refresh'" in busy.body
    # the address staff open still shows the default view at once; its live frame retries by itself
    snapshot = visitors[cap].request("/voila/render/cost.ipynb")
    assert snapshot.status == 200 and "data-ev-static" in snapshot.body and not KERNEL_RE.search(snapshot.body)
    assert visitors[0].shutdown(kernels[0]) == 204
    assert _wait_until(lambda: _health(service.base)["kernels"]["visitors"] < cap, 20)
    last = KERNEL_RE.search(visitors[cap].request("/voila/render/cost.ipynb?live=1").body).group(1)
    for v, k in [*zip(visitors[1:cap], kernels[1:]), (visitors[cap], last)]:
        assert v.shutdown(k) == 204


def test_static_default_view_is_served_at_once_when_no_kernel_is_ready(service):
    # rendered in a subprocess at start, alongside the pools
    assert _wait_until(lambda: "districts" in _health(service.base)["snapshots"], 90)
    v, w, kernels = Visitor(service.base), Visitor(service.base), []
    v.login()
    w.login()
    for _ in range(3):
        # asked while the first visitor's page still renders: its kernel left the pool, and the refill
        # (a kernel start and a pre-render) cannot be ready yet. Asked after that page was done, the
        # refill sometimes was, on a loaded machine
        before = _health(service.base)["kernels"]["visitors"]
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(v.open_page, "districts")
            _wait_until(lambda: _health(service.base)["kernels"]["visitors"] > before or first.done(), 60, 0.1)
            r = w.request("/voila/render/districts.ipynb?lang=ko")
            kernels.append(first.result())
        if "data-ev-static" in r.body:
            break
    assert r.status == 200 and "data-ev-static" in r.body and not KERNEL_RE.search(r.body)
    assert "아직 완료된 평가 실행이 없습니다" in r.body  # the same view the live dashboard shows (no run here)
    assert "data-render-ms=" in r.body  # the first-render marker the benchmark and staff see at once
    assert "src='/voila/render/districts.ipynb?lang=ko&amp;live=1'" in r.body  # the live page takes over
    assert TOKEN not in r.body
    assert all(v.shutdown(k) == 204 for k in kernels)


def test_the_log_never_holds_the_token(service):
    # runs last in this module: every request above (302 logins, 403s with a wrong token) is in the log
    Visitor(service.base).request(f"/voila/templates/x?token={TOKEN}")
    Visitor(service.base).request("/voila/render/nosuch.ipynb", headers={"Referer": f"/x?token={TOKEN}"})
    text = service.log.read_text()
    assert "GET /voila/render/" in text  # the access log is there ...
    assert TOKEN not in text  # ... without the token


def _cli(tmp_path: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, _serve.TOKEN_ENV: TOKEN,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    (tmp_path / "outputs").mkdir()
    return subprocess.Popen([sys.executable, "-m", "evaluation.cli", "dashboard", "--port", str(port),
                             "--output-root", str(tmp_path / "outputs")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _signal_stops_everything(tmp_path: Path, sig: int) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cli = _cli(tmp_path, port)
    try:
        _wait_health(base, cli)
        Visitor(base).open_page()  # one kernel handed out, the pools preheated
        tree = _tree(cli.pid)[1:]
        assert len([p for p in tree if _is_kernel(p)]) >= 2
        cli.send_signal(sig)
        out, _ = cli.communicate(timeout=90)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0
    assert TOKEN not in out  # a token from the environment is not printed (stdout goes to the journal)
    gone, alive = psutil.wait_procs(tree, timeout=10)
    assert not alive, [_cmdline(p) for p in alive]
    with pytest.raises(OSError):
        urllib.request.urlopen(base + "/voila/health", timeout=5)


def test_snapshot_walks_the_widget_tree_the_dashboard_builds(tmp_path):
    import ipywidgets as W

    from evaluation.dashboards import _static

    tree = W.VBox([W.HTML("<h2>제목</h2>"),
                   W.HBox([W.Dropdown(options=[("강남구", "11680")], description="자치구"),
                           W.ToggleButtons(options=[("한국어", "ko"), ("English", "en")], value="ko")],
                          layout=W.Layout(flex_flow="row wrap")),
                   W.Image(value=b"\x89PNG", format="png")])
    out = _static.widget_html(tree)
    assert "<h2>제목</h2>" in out and "flex-flow:row wrap" in out
    assert "자치구 <select disabled><option selected>강남구</option>" in out
    assert "<button disabled class=selected>한국어</button><button disabled>English</button>" in out
    assert "src='data:image/png;base64,iVBORw=='" in out
    text = _static.snapshot("cost", root=str(tmp_path))
    assert "아직 완료된 평가 실행이 없습니다" in text and "data-render-ms=" in text
    with pytest.raises(ValueError, match="unknown dashboard"):
        _static.snapshot("nosuch", root=str(tmp_path))


def test_sigterm_to_evaluation_dashboard_stops_voila_and_every_kernel(tmp_path):
    _signal_stops_everything(tmp_path, signal.SIGTERM)


@pytest.mark.slow
def test_sigint_to_evaluation_dashboard_stops_voila_and_every_kernel(tmp_path):
    _signal_stops_everything(tmp_path, signal.SIGINT)


@pytest.mark.slow
def test_soak_and_abandoned_tabs_return_to_idle_within_the_cull_interval(tmp_path):
    """N sequential visits (tab closed normally) and M abandoned tabs (socket dropped, no beacon): live
    kernels and RSS come back within 10% of the idle state within cull timeout + interval (+ refill)."""
    cull, interval, visits, abandoned = 10, 2, 15, 10
    svc = _start(tmp_path, max_kernels=100, cull=cull)
    try:
        def idle_pools():
            k = _health(svc.base)["kernels"]
            return k if k["visitors"] == 0 and k["pooled"] >= 4 else None

        idle = _wait_until(idle_pools, 120)
        assert idle, _health(svc.base)
        # idle after first use: one visit per dashboard loads what the server imports and caches lazily
        # (views index, templates), which is not a leak; the soak must then come back to this state
        for page in ("overview", "cost", "districts"):
            v = Visitor(svc.base)
            assert v.shutdown(v.open_page(page)) == 204
        idle = _wait_until(lambda: (idle_pools() or {}).get("total") == idle["total"] and idle_pools(), cull + interval + 60)
        assert idle, _health(svc.base)
        time.sleep(2)
        idle_server, idle_kernels = _server_and_kernels(svc.proc.pid)
        ws = svc.base.replace("http", "ws")
        for i in range(visits):
            v = Visitor(svc.base)
            kernel = v.open_page("overview" if i % 2 else "cost")
            assert v.shutdown(kernel) == 204
        for i in range(abandoned):
            v = Visitor(svc.base)
            kernel = v.open_page("districts" if i % 2 else "cost")
            status, _ = _websocket(f"{ws}/api/kernels/{kernel}/channels", v.cookie_header(), read=False)
            assert status == 101  # the tab connected, then vanished without its beacon
        assert _health(svc.base)["kernels"]["visitors"] >= 1
        # the culler needs at most timeout + interval; the pools refill after fill_delay (2 s) + a kernel start
        back = _wait_until(lambda: (idle_pools() or {}).get("total") == idle["total"], cull + interval + 60)
        assert back, _health(svc.base)
        time.sleep(2)
        server, kernels = _server_and_kernels(svc.proc.pid)
        # a leak is the server growing or a kernel process outliving its kernel; the pooled kernels are fresh
        # processes whose size depends on how far their preheat got, so their RSS is not compared
        print(f"server RSS {idle_server / 2**20:.0f} -> {server / 2**20:.0f} MiB; kernel processes "
              f"{len(idle_kernels)} ({sum(idle_kernels) / 2**20:.0f} MiB) -> {len(kernels)} ({sum(kernels) / 2**20:.0f} MiB)")
        assert len(kernels) == len(idle_kernels), (kernels, idle_kernels)
        assert server - idle_server <= 0.10 * idle_server, (server / 2**20, idle_server / 2**20)
    finally:
        assert _serve.stop(svc.proc) == 0


# -- kernel-free views (issue 23) ------------------------------------------------------------------------

def _tiny_run(root: Path, run_id: str, enrolled: int) -> Path:
    """A published run with one headline number and no tables (every dashboard draws its messages)."""
    run = root / "prog" / run_id
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"status": "ok", "run_id": run_id, "title": "시험 사업"}))
    (run / "results.json").write_text(json.dumps(
        {"nb": {"participants_enrolled": {"value": enrolled, "unit": "persons", "label": "참여자"}}}))
    link = root / "prog" / ".latest-tmp"
    link.symlink_to(run_id, target_is_directory=True)
    os.replace(link, root / "prog" / "latest")
    return run


def test_views_cover_every_state_of_every_dashboard(tmp_path):
    from evaluation.dashboards import _prerender
    from evaluation.reference import districts

    run = _tiny_run(tmp_path, "20240101T000000", 1234)
    result = _prerender.render_run(run)
    codes = list(districts.codes())
    assert len(codes) == 25
    # overview and districts: 2 languages x (all of Seoul + 25 gu); cost has no district menu: 2 languages
    assert result.pages == 2 * 26 + 2 * 26 + 2 and result.images == 0
    index = json.loads((run / "views" / "index.json").read_text(encoding="utf-8"))
    assert index["dashboards"]["overview"]["districts"] == codes
    for name, dash in index["dashboards"].items():
        for key, rel in dash["files"].items():
            assert (run / "views" / rel).is_file(), (name, key)
    ko, en = (run / "views" / "overview" / lang / "all.html" for lang in ("ko", "en"))
    assert "사업 현황 대시보드" in ko.read_text() and "1,234" in ko.read_text()
    assert "Programme overview" in en.read_text() and "1,234" in en.read_text()
    gangnam = (run / "views" / "overview" / "ko" / "11680.html").read_text()
    assert "<option value='11680' selected>강남구</option>" in gangnam
    assert "data-render-ms=" in gangnam and "<!--ev:programme-->" in gangnam  # the server fills the run menus
    assert "<button type='submit' name='lang' value='en'>English</button>" in gangnam
    assert not list(run.glob("views.tmp-*"))  # rendered aside, renamed into place


def test_views_are_served_without_a_kernel_and_published_runs_get_theirs(tmp_path):
    from evaluation.dashboards import _prerender

    root = tmp_path / "outputs"
    _prerender.render_run(_tiny_run(root, "20240101T000000", 1234))
    port = _free_port()
    log = tmp_path / "voila.log"
    proc = _serve.start(port=port, output_root=root, token=TOKEN, max_kernels=2,
                        stdout=subprocess.DEVNULL, stderr=log.open("w"))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_health(base, proc)
        assert _wait_until(lambda: _health(base)["views"]["ready"], 30)
        v = Visitor(base)
        v.login()
        r = v.request("/voila/render/overview.ipynb?lang=en&district=11680")
        assert r.status == 200 and "data-ev-view" in r.body and not KERNEL_RE.search(r.body)
        assert "Programme overview" in r.body and "<option value='11680' selected>Gangnam-gu</option>" in r.body
        assert "<select name='programme'" in r.body and "<option value='prog' selected>" in r.body  # its label is the English name in English (the folder key here: the title has no English)
        assert "2024-01-01 00:00 (latest)" in r.body
        assert r.headers.get("Cache-Control", "").startswith("no-cache")
        # values not in the run's index fall back to the default view; none becomes a path
        odd = v.request("/voila/render/overview.ipynb?lang=xx&district=../../etc&programme=..&run=..&indicator=%2F")
        assert odd.status == 200 and "사업 현황 대시보드" in odd.body and "<option value='' selected>서울 전체</option>" in odd.body
        assert v.request("/voila/views-img/prog/20240101T000000/0123456789abcdef0123.png").status == 404
        assert v.request("/voila/views-img/../../x/0123456789abcdef0123.png").status in (403, 404)
        assert Visitor(base).request("/voila/render/overview.ipynb?lang=en").status == 403  # no cookie, no view
        assert Visitor(base).request("/voila/views-img/prog/20240101T000000/0123456789abcdef0123.png").status == 403
        # every visitor of a view, even past the kernel cap (2), gets the page and no kernel is started
        for _ in range(5):
            assert "data-ev-view" in v.request("/voila/render/cost.ipynb").body
        # the views serve the only run: not even a preheated kernel was started
        time.sleep(3)
        assert _health(base)["kernels"] == {"visitors": 0, "pooled": 0, "total": 0}
        # ?live=1 is still the kernel-rendered dashboard
        kernel = v.open_page("cost")
        assert v.shutdown(kernel) == 204
        # a run published while the server is up, without views (e.g. their rendering failed): the server
        # serves it live, renders its views in the background, then serves them, with both runs in the menu
        _tiny_run(root, "20240201T000000", 5678)
        first = v.request("/voila/render/overview.ipynb")
        assert first.status == 200 and "data-ev-view" not in first.body
        assert _wait_until(lambda: "prog/20240201T000000" in _health(base)["views"]["rendered"], 120)
        r = v.request("/voila/render/overview.ipynb")
        assert "data-ev-view" in r.body and "5,678" in r.body
        assert "<option value='20240201T000000' selected>2024-02-01 00:00 (최신)</option>" in r.body
        older = v.request("/voila/render/overview.ipynb?run=20240101T000000")
        assert "1,234" in older.body and "<option value='20240101T000000' selected>2024-01-01 00:00</option>" in older.body
    finally:
        assert _serve.stop(proc) == 0


def test_a_published_run_renders_its_views(tmp_path):
    from tiny_project import make_project, write_params

    from evaluation import runs
    from evaluation.dashboards import _prerender

    root = make_project(tmp_path)
    result = runs.run(write_params(root), quiet=True)
    assert _prerender.has_views(result.run_dir)
    index = json.loads((result.run_dir / "views" / "index.json").read_text(encoding="utf-8"))
    assert index["run_id"] == result.run_dir.name and index["pages"] == 2 * 26 + 2 * 26 + 2


def test_shared_figures_change_nothing(demo_outputs):
    """The district-independent maps drawn once per indicator (``shared_figures``) give byte-identical pages.

    On the session's demo run, or on the runs in ``$EVALUATION_TEST_DEMO_OUTPUTS`` (e.g. ``outputs``)."""
    from evaluation.dashboards import _prerender, _static

    root = str(demo_outputs)

    def pages(shared: bool) -> list[str]:
        with (_prerender.shared_figures() if shared else contextlib.nullcontext({"shared": 0})) as counts:
            app = _prerender._build("districts", "ko", root)
            choice = next(v for _, v in app.choice.options if not v.startswith("official:"))  # has two maps
            app.choice.value = choice
            out = []
            for district in ("", "11305", "11680"):
                app.district.value = district
                # the page's render time is the one thing allowed to differ
                out.append(re.sub(r"data-render-ms='\d+'", "", _static.widget_html(app.widget)))
        assert (counts["shared"] > 0) == shared
        return out

    assert pages(True) == pages(False)
