"""The Voila process of ``evaluation dashboard``: Voila's own app with the service's guards added.

Run as ``python -m evaluation.dashboards NOTEBOOK_DIR`` by :func:`evaluation.dashboards.serve`
(never by hand). It is Voila, configured from ``voila.json``, plus what a service that stays up for weeks
needs and Voila 0.5 does not do by itself:

* the token comes from ``$EVALUATION_DASHBOARD_TOKEN`` (removed from the environment on start, so the
  kernels never see it), never from the command line that ``ps`` shows;
* a page request that logs in with ``?token=`` is redirected to the same page without it once the login
  cookie is set: the token then never reaches a kernel's ``QUERY_STRING`` (which Voila's
  ``/voila/query/<kernel>`` websocket hands out), the browser history or a ``Referer``;
* access logs are scrubbed of tokens (jupyter_server's request logger, and a filter on every log handler);
* a visitor without a valid token gets a Korean / English "no access" page with status 403 (no redirect
  to Jupyter's English login form); malformed template paths answer 404, never 500;
* each visitor gets an opaque cookie; every kernel handed out (from the preheated pool or started for the
  request) is recorded against it, and only that visitor may use, query or shut it down
  (``/voila/api/shutdown/<id>``, ``/api/kernels/<id>``, its channels and ``/voila/query/<id>``);
* kernels handed to visitors are capped (``$EVALUATION_DASHBOARD_MAX_KERNELS``); past the cap a Korean
  "busy, retry in a moment" page answers 503 and retries by itself;
* idle kernels with no browser connected are culled by jupyter_server's own culler (settings in
  ``voila.json``), and every kernel is shut down on SIGTERM and SIGINT;
* ``/voila/health`` answers 200 with the kernel counts and needs no token (for systemd / the proxy).

These are subclasses of Voila's handlers rather than a proxy in front of Voila, because the kernel ids,
the login cookie and the pools live inside Voila's process.
"""
from __future__ import annotations

import contextvars
import html
import json
import logging
import os
import re
import secrets
import sys
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import tornado.ioloop
import tornado.web
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Integer

from ._serve import HEALTH_PATH, MAX_KERNELS_ENV, SNAPSHOTS_ENV, TOKEN_ENV, VIEWS_ENV

VISITOR_COOKIE = "ev_visitor"
_TOKEN_RE = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)

_visitor: contextvars.ContextVar[str | None] = contextvars.ContextVar("ev_visitor", default=None)
_owners: dict[str, str] = {}
"""kernel id -> visitor cookie of the page it was handed to."""

PAGES = {
    "denied": ("접근 권한이 없습니다", "No access / link expired",
               "이 링크가 만료되었거나 올바르지 않습니다. 재단 담당자에게 새 링크를 요청하세요.",
               "This link has expired or is not valid. Ask the foundation's contact for a new link."),
    "busy": ("잠시 후 다시 시도해 주세요", "Busy, please retry in a moment",
             "지금 대시보드를 보는 사람이 많습니다. 이 페이지는 10초 후 자동으로 다시 시도합니다.",
             "Many people are viewing the dashboards right now. This page retries by itself in 10 seconds."),
    "missing": ("페이지를 찾을 수 없습니다", "Page not found", "주소를 확인해 주세요.", "Check the address."),
    "error": ("일시적인 오류가 발생했습니다", "Something went wrong",
              "잠시 후 다시 시도해 주세요. 계속되면 재단 담당자에게 알려 주세요.",
              "Please retry in a moment; if it persists, tell the foundation's contact."),
}


def page(kind: str, *, refresh: int | None = None) -> str:
    """A small bilingual page (Korean first) with no Jupyter chrome."""
    ko, en, ko_text, en_text = PAGES[kind]
    meta = f"<meta http-equiv='refresh' content='{refresh}'>" if refresh else ""
    return (f"<!DOCTYPE html><html lang='ko'><head><meta charset='utf-8'>{meta}<title>{html.escape(ko)}</title>"
            "<style>body{font-family:'NanumGothic','Noto Sans KR',sans-serif;max-width:640px;margin:80px auto;"
            "color:#1f2328;padding:0 16px} p{color:#57606a}</style></head><body>"
            f"<h1>{html.escape(ko)}</h1><p>{html.escape(ko_text)}</p><hr>"
            f"<h2 lang='en'>{html.escape(en)}</h2><p lang='en'>{html.escape(en_text)}</p></body></html>")


def redact(text: str) -> str:
    """``token=...`` -> ``token=[redacted]`` anywhere in a log line."""
    return _TOKEN_RE.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Scrub tokens from every record (message and arguments) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is
            return True
        if "token=" in message.lower():
            record.msg, record.args = redact(message), None
        return True


def install_log_redaction() -> None:
    """Add :class:`RedactTokens` to the service's loggers and to every handler they write through."""
    flt = RedactTokens()
    for name in ("", "tornado.access", "tornado.application", "tornado.general", "Voila", "ServerApp"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(flt)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactTokens) for f in handler.filters):
                handler.addFilter(flt)


def _without_token(uri: str) -> str:
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "token"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _visitor_of(handler: tornado.web.RequestHandler) -> str | None:
    raw = handler.get_secure_cookie(VISITOR_COOKIE)
    return raw.decode() if raw else None


def _owns(handler: tornado.web.RequestHandler, kernel_id: str) -> bool:
    owner = _owners.get(kernel_id)
    return owner is not None and owner == _visitor_of(handler)


def _pooled_ids(kernel_manager: Any) -> set[str]:
    """Kernels waiting in Voila's preheated pools (not handed to anyone yet)."""
    out = set()
    for pool in getattr(kernel_manager, "_pools", {}).values():
        for task in pool:
            if task.done() and not task.cancelled() and task.exception() is None:
                out.add(task.result()["kernel_id"])
    return out


def kernel_counts(kernel_manager: Any) -> dict[str, int]:
    """Live kernels: handed to visitors, waiting in the pools, and in total. Forgets dead kernels' owners."""
    live = set(kernel_manager.list_kernel_ids())
    for kid in [k for k in _owners if k not in live]:
        _owners.pop(kid, None)
    pooled = _pooled_ids(kernel_manager)
    return {"visitors": len(live - pooled), "pooled": len(pooled & live), "total": len(live)}


class ServiceKernelManager(AsyncMappingKernelManager):
    """jupyter_server's kernel manager with a second, longer idle timeout for kernels a tab still holds.

    ``cull_idle_timeout`` (with ``cull_connected = false``) reclaims kernels whose page is gone within a
    minute, but a tab left open in the background keeps its websocket -- and its ~230 MB kernel -- for
    ever. ``connected_idle_timeout`` culls those too once nobody has touched a widget for that long
    (the page then asks for a reload). Voila wraps this class with its preheated pools
    (``VoilaConfiguration.multi_kernel_manager_class`` in ``voila.json``), and the pools skip pooled kernels.
    """

    connected_idle_timeout = Integer(
        3600, config=True, help="Seconds without kernel activity after which a kernel is culled even while a "
                                "browser is connected (0: never).")

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        from datetime import timedelta

        from jupyter_core.utils import ensure_async
        from jupyter_server._tz import utcnow

        kernel = self._kernels.get(kernel_id)
        if (kernel is not None and self.connected_idle_timeout > 0 and self._kernel_connections.get(kernel_id, 0)
                and hasattr(kernel, "last_activity")):
            idle = utcnow() - kernel.last_activity
            if idle > timedelta(seconds=self.connected_idle_timeout) and kernel.execution_state != "busy":
                self.log.warning("Culling kernel %s of an idle open tab after %d s", kernel_id, idle.total_seconds())
                await ensure_async(self.shutdown_kernel(kernel_id))
                return
        await super().cull_kernel_if_idle(kernel_id)


class Snapshots:
    """Static snapshots of each dashboard's default view (see ``_static``), one per latest run.

    Rendered in a subprocess so Voila's event loop never waits; dropped as soon as a programme's
    ``latest`` run changes (never a stale run), and rendered again.
    """

    def __init__(self, root: str | None, names: tuple[str, ...] = ("overview", "districts", "cost"),
                 check_every: float = 0.0):
        from pathlib import Path

        self.root = Path(root) if root else None
        self.names, self.check_every = names, check_every
        self.pages: dict[str, str] = {}
        self.key: tuple | None = None
        self._checked = -1e9
        self._task: Any = None

    def run_key(self) -> tuple:
        if self.root is None or not self.root.is_dir():
            return ()
        out = []
        for latest in sorted(self.root.glob("*/latest")):
            try:
                out.append((latest.parent.name, os.readlink(latest) if latest.is_symlink() else latest.stat().st_mtime))
            except OSError:
                continue
        return tuple(out)

    def get(self, name: str) -> str | None:
        import asyncio
        import time

        now = time.monotonic()
        if now - self._checked > self.check_every:
            self._checked = now
            key = self.run_key()
            if key != self.key:
                self.pages.clear()
                self.key = key
                if self._task is None or self._task.done():
                    self._task = asyncio.ensure_future(self._render(key))
        return self.pages.get(name)

    async def _render(self, key: tuple) -> None:
        import asyncio

        for name in self.names:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "evaluation.dashboards._static", name, "ko",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
            out, _ = await proc.communicate()
            if proc.returncode == 0 and out and self.key == key:
                self.pages[name] = out.decode("utf-8")
        if self.key != key:  # the run changed meanwhile
            self._checked = -1e9


class Views:
    """The kernel-free views of published runs (``_prerender``): a request's query picks a pre-rendered page.

    ``?programme=&run=&lang=&district=&indicator=`` are looked up in the run's ``views/index.json``; a value
    not in it falls back to the default (the programme's latest run, Korean, all of Seoul, the first
    indicator), so no visitor text ever becomes a path. A programme whose ``latest`` run has no views yet
    gets them rendered in a niced subprocess, one run at a time; meanwhile that run is served live.
    """

    LISTING_TTL = 2.0  # seconds a directory listing is reused

    def __init__(self, root: str | None, *, render_missing: bool = True, nice: int = 10):
        from pathlib import Path

        self.root = Path(root) if root else None
        self.render_missing, self.nice = render_missing, nice
        self._listing: dict[str, tuple[float, Any]] = {}
        self._indexes: dict[str, tuple[float, dict]] = {}
        self._queue: list[Any] = []
        self._failed: set[str] = set()
        self._task: Any = None
        self.rendered: list[str] = []  # "programme/run" rendered by this server (health, tests)

    def _cached(self, key: str, make: Any) -> Any:
        import time

        hit = self._listing.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.LISTING_TTL:
            return hit[1]
        value = make()
        self._listing[key] = (time.monotonic(), value)
        return value

    def programmes(self) -> list[str]:
        """Programmes with a successful run (a ``latest`` pointer), as the live dashboards list them."""
        def make() -> list[str]:
            if self.root is None or not self.root.is_dir():
                return []
            return sorted(d.name for d in self.root.iterdir() if d.is_dir() and (d / "latest").exists())
        return self._cached("programmes", make)

    def latest(self, programme: str) -> str | None:
        try:
            return os.path.basename(os.readlink(self.root / programme / "latest"))
        except OSError:
            return None

    def runs(self, programme: str) -> list[str]:
        """Runs of a programme that have views, newest first."""
        from ._prerender import has_views

        def make() -> list[str]:
            folder = self.root / programme
            return sorted((d.name for d in folder.iterdir() if not d.name.startswith(".") and d.name != "latest"
                           and d.is_dir() and has_views(d)), reverse=True) if folder.is_dir() else []
        return self._cached("runs/" + programme, make)

    def index(self, programme: str, run: str) -> dict | None:
        from ._prerender import INDEX, INDEX_VERSION, views_dir

        path = views_dir(self.root / programme / run) / INDEX
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        hit = self._indexes.get(str(path))
        if hit is None or hit[0] != mtime:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            if data.get("version") != INDEX_VERSION:
                return None
            hit = self._indexes[str(path)] = (mtime, data)
        return hit[1]

    def ready(self) -> bool:
        """Every programme's latest run has its views (False when there is no run at all)."""
        progs = self.programmes()
        return bool(progs) and all(self.index(p, self.latest(p) or "") is not None for p in progs)

    def page(self, name: str, args: dict[str, str], base_url: str) -> str | None:
        """The pre-rendered page for this request, or None (no views for that run yet: served live)."""
        import html as _html

        from jupyter_server.utils import url_path_join

        from ._prerender import state_key

        progs = self.programmes()
        if not progs:
            return None
        lang = args.get("lang") if args.get("lang") in ("ko", "en") else "ko"

        def programme_label(p: str, in_lang: str | None = None) -> str:
            other = self.index(p, self.latest(p) or "")
            title = other["labels"]["programme"] if other else p
            return title.get(in_lang or lang, p) if isinstance(title, dict) else title  # one title for both (first views)

        # by Korean title, as the live dashboards list them: the same order (and default) in both languages
        progs = sorted(progs, key=lambda p: programme_label(p, "ko"))
        programme = args.get("programme") if args.get("programme") in progs else progs[0]
        latest = self.latest(programme)
        runs = self.runs(programme)
        run = args.get("run") if args.get("run") in runs else latest
        index = self.index(programme, run or "")
        if index is None:
            if run == latest and run:
                self.request(programme, run)
            return None
        dash = index["dashboards"].get(name)
        if dash is None:
            return None
        district = args.get("district", "") if args.get("district", "") in dash["districts"] else ""
        choices = dash["indicators"]
        indicator = args.get("indicator") if args.get("indicator") in choices else (choices[0] if choices else "")
        rel = dash["files"].get(state_key(lang, district, indicator))
        if rel is None:
            return None
        try:
            text = (self.root / programme / run / "views" / rel).read_text(encoding="utf-8")
        except OSError:
            return None

        def select(param: str, options: list[tuple[str, str]], chosen: str) -> str:
            opts = "".join(f"<option value='{_html.escape(v)}'{' selected' if v == chosen else ''}>{_html.escape(label)}</option>"
                           for label, v in options)
            return (f"<select name='{param}' onchange='this.form.requestSubmit ? this.form.requestSubmit() : "
                    f"this.form.submit()'>{opts}</select>")

        run_options = []
        for r in runs:
            other = self.index(programme, r)
            label = other["labels"]["run"] if other else r
            run_options.append((f"{label} ({index['labels']['latest'][lang]})" if r == latest else label, r))
        img = url_path_join(base_url, "voila/views-img", programme, run) + "/"
        return (text.replace("<!--ev:programme-->", select("programme", [(programme_label(p), p) for p in progs], programme))
                    .replace("<!--ev:run-->", select("run", run_options, run))
                    .replace("src='ev-img/", f"src='{img}"))

    def image(self, programme: str, run: str, name: str) -> Any:
        """Path of a view's figure, or None (unknown programme or run: never a path built from the request)."""
        if programme not in self.programmes() or run not in self.runs(programme):
            return None
        path = self.root / programme / run / "views" / "img" / name
        return path if path.is_file() else None

    # -- rendering runs that lack views ---------------------------------------------------------------
    def check(self) -> None:
        """Queue every programme's latest run that has no views (at start, and when a request finds one)."""
        for p in self.programmes():
            run = self.latest(p)
            if run and self.index(p, run) is None:
                self.request(p, run)

    def _in_progress(self, run_dir: Any) -> bool:
        """Another process (``evaluation run``'s publish step) is rendering this run's views right now."""
        import psutil

        for tmp in run_dir.glob("views.tmp-*"):
            try:
                if psutil.pid_exists(int(tmp.name.rsplit("-", 1)[1])):
                    return True
            except ValueError:
                continue
        return False

    def request(self, programme: str, run: str) -> None:
        import asyncio

        key = f"{programme}/{run}"
        if not self.render_missing or key in self._failed or key in self._queue:
            return
        self._queue.append(key)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._render_queue())

    async def _render_queue(self) -> None:
        import asyncio
        import logging

        log = logging.getLogger("Voila")
        while self._queue:
            key = self._queue[0]
            programme, run = key.split("/", 1)
            run_dir = self.root / programme / run
            if self._in_progress(run_dir):
                await asyncio.sleep(5)  # the publishing run renders them; look again shortly
                if self.index(programme, run) is not None or not run_dir.is_dir():
                    self._queue.pop(0)
                continue
            log.info("rendering the kernel-free views of %s", key)
            proc = await asyncio.create_subprocess_exec(
                "nice", "-n", str(self.nice), sys.executable, "-m", "evaluation.dashboards._prerender", str(run_dir),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await proc.communicate()
            self._queue.pop(0)
            if proc.returncode == 0:
                self.rendered.append(key)
                log.info("%s", out.decode(errors="replace").strip())
            else:  # served live; not retried until the server restarts
                self._failed.add(key)
                log.warning("rendering the views of %s failed: %s", key,
                            (err.decode(errors="replace").strip().splitlines() or ["?"])[-1][:300])
            self._listing.clear()


class _RecordingKernelManager:
    """Voila's kernel manager as seen by one page request: kernels it starts belong to that visitor.

    (Kernels from the preheated pool are recorded when Voila announces them to the query socket.)
    """

    def __init__(self, manager: Any, visitor: str):
        self._manager, self._visitor = manager, visitor

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        from jupyter_core.utils import ensure_async

        kernel_id = await ensure_async(self._manager.start_kernel(*args, **kwargs))
        _owners[kernel_id] = self._visitor
        return kernel_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)


def make_app_class():
    """Voila's application class with the service's handlers (imported lazily: Voila is heavy)."""
    from jupyter_server.auth.decorator import allow_unauthenticated
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.log import log_request
    from jupyter_server.services.kernels.handlers import KernelHandler
    from voila import handler as voila_handler
    from voila.app import Voila
    from voila.request_info_handler import RequestInfoSocketHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.static_file_handler import TemplateStaticFileHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler
    from voila.tornado.treehandler import TornadoVoilaTreeHandler
    from voila.voila_identity_provider import VoilaLoginHandler

    class StaffPage:
        """Mixin for the HTML pages staff open: 403 page instead of a login redirect, token-free URLs."""

        async def prepare(self) -> None:
            # no redirect to Jupyter's login form: an unauthenticated request raises 403 here
            await super().prepare(_redirect_to_login=False)
            if self.request.method in ("GET", "HEAD") and "token" in {k.lower() for k in self.request.query_arguments}:
                # the login cookie is set by now: drop the token from the address before anything
                # (kernel environment, query websocket, history, Referer) can keep it
                self.redirect(_without_token(self.request.uri))

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            kind = {403: "denied", 404: "missing", 503: "busy"}.get(status_code, "error")
            if status_code == 503:
                self.set_header("Retry-After", "10")
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(page(kind, refresh=10 if kind == "busy" else None))

    class RenderHandler(StaffPage, TornadoVoilaHandler):
        max_kernels = 0
        render_timeout = 180  # seconds
        snapshots: Snapshots | None = None
        views: Views | None = None

        def _view_page(self, path: str | None) -> str | None:
            """The kernel-free view of the request's state (see :class:`Views`), unless ``?live=1``."""
            from pathlib import PurePosixPath

            if self.views is None or not path or "live" in self.request.query_arguments or self.current_user is None:
                return None
            args = {k: self.get_argument(k) for k in ("programme", "run", "lang", "district", "indicator")
                    if k in self.request.query_arguments}
            return self.views.page(PurePosixPath(path).stem, args, self.base_url)

        def _finish_view(self, view: str) -> None:
            # the same address answers another state after a publish: never cached
            self.set_header("Cache-Control", "no-cache, no-store, must-revalidate")
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(view)

        def _snapshot_page(self, path: str | None, *, at_cap: bool = False) -> str | None:
            """The static default view instead of a kernel, when no preheated kernel is ready (or past the cap)."""
            from pathlib import PurePosixPath

            from jupyter_server.utils import url_path_join

            from . import _static

            if self.snapshots is None or not path or "live" in self.request.query_arguments:
                return None
            pool = getattr(self.settings["kernel_manager"], "_pools", {}).get(path, [])
            if not at_cap and any(task.done() and not task.cancelled() and task.exception() is None for task in pool):
                return None  # a ready kernel renders the live page as fast
            inner = self.snapshots.get(PurePosixPath(path).stem)
            if inner is None:
                return None
            query = urlencode([*parse_qsl(self.request.query, keep_blank_values=True), ("live", "1")])
            live = url_path_join(self.base_url, "voila/render", path) + "?" + query
            return _static.page(inner, live_url=live)

        async def prepare(self) -> None:
            await super().prepare()
            if self._finished:  # redirected
                return
            visitor = _visitor_of(self)
            if visitor is None:
                visitor = secrets.token_urlsafe(18)
                self.set_secure_cookie(VISITOR_COOKIE, visitor, httponly=True, samesite="Strict")
            # the page's "beforeunload" beacon shuts its kernel down with the _xsrf cookie's value;
            # Voila's page never sets that cookie, so without this every beacon failed with 403
            self.xsrf_token  # noqa: B018 - the property sets the cookie
            _visitor.set(visitor)  # read by OwnedInfoSocket.send_updates, called inside this request
            self._ev_visitor = visitor
            if self.request.method == "GET":
                view = self._view_page(self.path_args[0] if self.path_args else None)
                if view is not None:  # no kernel at all: the cap does not apply
                    self._finish_view(view)
                    return
            if self.max_kernels and kernel_counts(self.kernel_manager)["visitors"] >= self.max_kernels:
                # past the cap: the static default view if there is one (its live frame then shows the
                # busy page, which retries by itself), else the busy page
                snapshot = self._snapshot_page(self.path_args[0] if self.path_args else None, at_cap=True)
                if snapshot is None:
                    raise tornado.web.HTTPError(503)
                self.finish(snapshot)

        @tornado.web.authenticated
        async def get(self, path: str | None = None) -> None:
            snapshot = self._snapshot_page(path)
            if snapshot is not None:
                self.set_header("Cache-Control", "no-cache, no-store, must-revalidate")
                self.finish(snapshot)
                return
            import asyncio

            try:
                # Voila streams heartbeats while a kernel renders; if the kernel dies or never starts
                # (e.g. a start timeout on an overloaded machine) the page would wait for ever
                await asyncio.wait_for(super().get(path), timeout=self.render_timeout)
            except asyncio.TimeoutError:
                self.log.warning("rendering %s took over %d s; the page was ended", path, self.render_timeout)
                if not self._finished:
                    self.write(f"<div class='ev-msg'>{html.escape(PAGES['error'][0])} / "
                               f"{html.escape(PAGES['error'][1])}</div>")
                    self.finish()

        @property
        def kernel_manager(self) -> Any:
            visitor = getattr(self, "_ev_visitor", None)
            manager = self.settings["kernel_manager"]
            return _RecordingKernelManager(manager, visitor) if visitor else manager

    class TreeHandler(StaffPage, TornadoVoilaTreeHandler):
        pass

    class ViewImage(StaffPage, JupyterHandler):
        """A kernel-free view's figure: content-addressed, so the browser keeps it (one map, 26 districts)."""

        @tornado.web.authenticated
        async def get(self, programme: str, run: str, name: str) -> None:
            path = RenderHandler.views.image(programme, run, name) if RenderHandler.views is not None else None
            if path is None:
                raise tornado.web.HTTPError(404)
            self.set_header("Content-Type", "image/png")
            self.set_header("Cache-Control", "private, max-age=31536000, immutable")
            self.finish(path.read_bytes())

    class OwnedInfoSocket(RequestInfoSocketHandler):
        """Voila's request-info socket, answering only the page its kernel was handed to."""

        @classmethod
        def send_updates(cls, msg: dict) -> None:
            visitor = _visitor.get()
            if visitor:
                _owners[msg["kernel_id"]] = visitor
            RequestInfoSocketHandler.send_updates(msg)

        async def get(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
            # refused before the websocket upgrade, so the answer is a plain 403
            if not _owns(self, kernel_id):
                raise tornado.web.HTTPError(403)
            await super().get(kernel_id, *args, **kwargs)

        def open(self, kernel_id: str) -> None:
            # Voila keeps the payload in a class-level cache forever; hand it out once and forget it
            RequestInfoSocketHandler._waiters[kernel_id] = self
            payload = RequestInfoSocketHandler._cache.pop(kernel_id, None)
            if payload is not None:
                self.write_message(payload)

    class OwnedShutdown(VoilaShutdownKernelHandler):
        @tornado.web.authenticated
        async def post(self, kernel_id: str) -> None:
            if not _owns(self, kernel_id):
                raise tornado.web.HTTPError(403)
            await super().post(kernel_id)
            _owners.pop(kernel_id, None)

    class OwnedKernel(KernelHandler):
        async def prepare(self) -> None:
            await super().prepare()
            # Voila's route names the group: (?P<kernel_id>...)
            kernel_id = self.path_kwargs.get("kernel_id") or (self.path_args[0] if self.path_args else "")
            if not _owns(self, kernel_id):
                raise tornado.web.HTTPError(403)

    class OwnedChannels(VoilaKernelWebsocketHandler):
        async def get(self, kernel_id: str) -> None:
            if self.current_user is None or not _owns(self, kernel_id):
                raise tornado.web.HTTPError(403)
            await super().get(kernel_id)

    class SafeTemplateFiles(TemplateStaticFileHandler):
        """Voila's template static files; anything not ``<template>/static/<file>`` is 404, not 500."""

        def parse_url_path(self, path: str) -> str:
            parts = path.split("/")
            if len(parts) < 3 or parts[1] != "static" or ".." in parts or not parts[0]:
                raise tornado.web.HTTPError(404)
            return super().parse_url_path(path)

        def validate_absolute_path(self, root: str, absolute_path: str):
            try:
                return super().validate_absolute_path(root, absolute_path)
            except tornado.web.HTTPError:
                raise
            except Exception:
                raise tornado.web.HTTPError(404) from None

        @classmethod
        def get_absolute_path(cls, root: str, path: str) -> str:
            try:
                return super().get_absolute_path(root, path)
            except Exception:
                raise tornado.web.HTTPError(404) from None

    class DeniedLogin(VoilaLoginHandler):
        """Replaces Jupyter's password form: a link without a valid token just has no access."""

        @allow_unauthenticated
        def get(self) -> None:
            self.set_status(403)
            self.finish(page("denied"))

        @allow_unauthenticated
        def post(self) -> None:
            self.set_status(403)
            self.finish(page("denied"))

    class Health(tornado.web.RequestHandler):
        """``GET /voila/health``: 200 and kernel counts while the event loop answers (no token needed)."""

        def get(self) -> None:
            counts = kernel_counts(self.settings["kernel_manager"])
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            snapshots = sorted(RenderHandler.snapshots.pages) if RenderHandler.snapshots is not None else []
            views = RenderHandler.views
            self.finish(json.dumps({"status": "ok", "kernels": counts, "max_kernels": RenderHandler.max_kernels,
                                    "snapshots": snapshots, "views": {
                                        "ready": views.ready() if views is not None else False,
                                        "rendered": list(views.rendered) if views is not None else []}}))

    replace = {
        TornadoVoilaHandler: RenderHandler,
        TornadoVoilaTreeHandler: TreeHandler,
        RequestInfoSocketHandler: OwnedInfoSocket,
        VoilaShutdownKernelHandler: OwnedShutdown,
        TemplateStaticFileHandler: SafeTemplateFiles,
        KernelHandler: OwnedKernel,
        VoilaKernelWebsocketHandler: OwnedChannels,
    }
    # voila.handler calls RequestInfoSocketHandler.send_updates by its module-level name
    voila_handler.RequestInfoSocketHandler = OwnedInfoSocket

    class ServiceVoila(Voila):
        def init_settings(self) -> dict:
            settings = super().init_settings()
            self.identity_provider.login_handler_class = DeniedLogin
            settings["log_function"] = log_request  # jupyter_server's logger scrubs tokens from URIs
            return settings

        def init_handlers(self) -> list:
            from jupyter_server.utils import url_path_join

            out = [(url_path_join(self.server_url, HEALTH_PATH), Health),
                   (url_path_join(self.server_url, r"voila/views-img/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/([0-9a-f]{20}\.png)"),
                    ViewImage)]
            for spec in super().init_handlers():
                pattern, handler, *rest = spec
                if handler in replace:
                    handler = replace[handler]
                elif isinstance(handler, type) and issubclass(handler, VoilaLoginHandler):
                    handler = DeniedLogin
                out.append((pattern, handler, *rest))
            return out

        def _handle_signal_stop(self, sig, frame) -> None:
            # SIGTERM and SIGINT alike: stop the loop; Voila.stop() then shuts every kernel down
            self.log.info("Stopping on signal %s", sig)
            self.ioloop.add_callback_from_signal(self.ioloop.stop)

    return ServiceVoila, RenderHandler


def main(argv: list[str] | None = None) -> None:
    """Entry point of the Voila process (see the module docstring)."""
    import signal

    token = os.environ.pop(TOKEN_ENV, "")
    if not token:
        raise SystemExit(f"{TOKEN_ENV} is not set: the dashboards never run without a token")
    install_log_redaction()
    app_class, render = make_app_class()
    render.max_kernels = int(os.environ.get(MAX_KERNELS_ENV, "0") or 0)
    root = os.environ.get("EVALUATION_OUTPUT_ROOT")
    if os.environ.get(VIEWS_ENV, "1") != "0":
        render.views = Views(root)
        # render the views a latest run lacks as soon as the loop runs, not on the first visitor's request
        tornado.ioloop.IOLoop.current().add_callback(render.views.check)
    if os.environ.get(SNAPSHOTS_ENV, "1") != "0":
        render.snapshots = Snapshots(root)
        if render.views is None or not render.views.ready():  # the views, when there, make them redundant
            tornado.ioloop.IOLoop.current().add_callback(render.snapshots.get, "overview")
    args = list(sys.argv[1:] if argv is None else argv)
    if render.views is not None and render.views.ready():
        # every programme's latest run is served from its views: no kernel is preheated for nobody
        # (?live=1 and a run published later without views start one per request, as Voila does by default)
        args.append("--VoilaConfiguration.preheat_kernel=False")
    app = app_class.instance()
    app.token = token
    app.initialize(args)
    signal.signal(signal.SIGINT, app._handle_signal_stop)
    install_log_redaction()  # handlers added by initialize() get the filter too
    app.start()

