"""The Voila process of ``evaluation dashboard``: Voila's own app with the service's guards added.

Run as ``python -m evaluation.dashboards._service NOTEBOOK_DIR`` by :func:`evaluation.dashboards.serve`
(never by hand). It is Voila, configured from ``voila.json``, plus what a service that stays up for weeks
needs and Voila does not do by itself:

* the token comes from ``$EVALUATION_DASHBOARD_TOKEN`` (removed from the environment on start, so the
  kernels never see it), never from the command line that ``ps`` shows;
* a request that logs in with ``?token=`` is redirected to the same page without it, once the login
  cookie is set: the token then never reaches a kernel's ``QUERY_STRING`` (which Voila's
  ``/voila/query/<kernel>`` websocket hands out), the browser history or a ``Referer``;
* access logs are scrubbed of tokens (jupyter_server's request logger, and a filter on every handler);
* a visitor without a valid token gets a Korean / English "no access" page with status 403, not
  Jupyter's English login form; unknown or malformed static paths answer 404, never 500;
* each visitor gets an opaque cookie, kernels are recorded against it when handed out, and
  ``/voila/api/shutdown/<kernel>`` only stops the caller's own kernel;
* live kernels are capped (``max_kernels``); past the cap a "busy, retry in a moment" page answers 503;
* idle kernels with no browser connected are culled by jupyter_server's own culler (settings in
  ``voila.json``), and every kernel is shut down on SIGTERM/SIGINT.

These are subclasses of Voila's handlers rather than a proxy in front of Voila, because the kernel ids,
the login cookie and the pools live inside Voila's process.
"""
from __future__ import annotations

import contextvars
import html
import logging
import os
import re
import secrets
import sys
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import tornado.web

TOKEN_ENV = "EVALUATION_DASHBOARD_TOKEN"
MAX_KERNELS_ENV = "EVALUATION_DASHBOARD_MAX_KERNELS"
VISITOR_COOKIE = "ev_visitor"
_TOKEN_RE = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)

_visitor: contextvars.ContextVar[str | None] = contextvars.ContextVar("ev_visitor", default=None)
_owners: dict[str, str] = {}
"""kernel id -> visitor cookie of the page it was handed to."""

PAGES = {
    "denied": ("접근 권한이 없습니다", "No access",
               "이 링크가 만료되었거나 올바르지 않습니다. 재단 담당자에게 새 링크를 요청하세요.",
               "This link has expired or is not valid. Ask the foundation's contact for a new link."),
    "busy": ("잠시 후 다시 시도해 주세요", "Busy, please retry in a moment",
             "지금 대시보드를 보는 사람이 많습니다. 이 페이지는 10초 후 자동으로 다시 시도합니다.",
             "Many people are viewing the dashboards right now. This page retries by itself in 10 seconds."),
    "missing": ("페이지를 찾을 수 없습니다", "Page not found", "주소를 확인해 주세요.", "Check the address."),
}


def page(kind: str, *, refresh: int | None = None) -> str:
    """A small bilingual page (Korean first) with no Jupyter chrome."""
    ko, en, ko_text, en_text = PAGES[kind]
    meta = f"<meta http-equiv='refresh' content='{refresh}'>" if refresh else ""
    return (f"<!DOCTYPE html><html lang='ko'><head><meta charset='utf-8'>{meta}<title>{html.escape(ko)}</title>"
            "<style>body{font-family:'NanumGothic','Noto Sans KR',sans-serif;max-width:640px;margin:80px auto;"
            "color:#1f2328;padding:0 16px} p{color:#57606a}</style></head><body>"
            f"<h1>{html.escape(ko)}</h1><p>{html.escape(ko_text)}</p><hr>"
            f"<h2>{html.escape(en)}</h2><p>{html.escape(en_text)}</p></body></html>")


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
    flt = RedactTokens()
    for name in ("", "tornado.access", "tornado.application", "tornado.general", "Voila", "ServerApp"):
        logger = logging.getLogger(name)
        logger.addFilter(flt)
        for handler in logger.handlers:
            handler.addFilter(flt)


def _without_token(uri: str) -> str:
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "token"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _visitor_of(handler: tornado.web.RequestHandler) -> str | None:
    raw = handler.get_secure_cookie(VISITOR_COOKIE)
    return raw.decode() if raw else None


def _live_kernels(kernel_manager: Any) -> int:
    """Kernels handed to visitors (the preheated pool is not counted: it is bounded by its size)."""
    pooled = 0
    for pool in getattr(kernel_manager, "_pools", {}).values():
        pooled += len(pool)
    return max(len(kernel_manager.list_kernel_ids()) - pooled, 0)


def make_app_class():
    """Voila's application class with the service's handlers (imported lazily: Voila is heavy)."""
    from jupyter_server.log import log_request
    from voila import handler as voila_handler
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.request_info_handler import RequestInfoSocketHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.static_file_handler import TemplateStaticFileHandler
    from voila.voila_identity_provider import VoilaLoginHandler

    class RenderHandler(TornadoVoilaHandler):
        max_kernels = 0

        async def prepare(self) -> None:
            await super().prepare()
            if self.current_user is None:
                self.set_status(403)
                self.finish(page("denied"))
                return
            if "token" in {k.lower() for k in self.request.query_arguments}:
                # the login cookie is set by now: drop the token from the address before anything
                # (kernel environment, query websocket, history, logs) can keep it
                self.redirect(_without_token(self.request.uri))
                return
            visitor = _visitor_of(self)
            if visitor is None:
                visitor = secrets.token_urlsafe(18)
                self.set_secure_cookie(VISITOR_COOKIE, visitor, httponly=True, samesite="Strict")
            _visitor.set(visitor)
            if self.max_kernels and _live_kernels(self.kernel_manager) >= self.max_kernels:
                self.set_status(503)
                self.set_header("Retry-After", "10")
                self.finish(page("busy", refresh=10))

    class OwnedInfoSocket(RequestInfoSocketHandler):
        @classmethod
        def send_updates(cls, msg: dict) -> None:
            visitor = _visitor.get()
            if visitor:
                _owners[msg["kernel_id"]] = visitor
            super().send_updates(msg)

        def open(self, kernel_id: str) -> None:  # only the page the kernel was handed to may listen
            if _owners.get(kernel_id) != _visitor_of(self):
                self.close(code=4403)
                return
            super().open(kernel_id)

    class OwnedShutdown(VoilaShutdownKernelHandler):
        @tornado.web.authenticated
        async def post(self, kernel_id: str) -> None:
            if _owners.get(kernel_id) != _visitor_of(self):
                raise tornado.web.HTTPError(403)
            _owners.pop(kernel_id, None)
            await super().post(kernel_id)

    class SafeTemplateFiles(TemplateStaticFileHandler):
        def parse_url_path(self, path: str) -> str:
            if ".." in path.split("/") or path.count("/") < 2:
                raise tornado.web.HTTPError(404)
            try:
                return super().parse_url_path(path)
            except (AssertionError, ValueError):
                raise tornado.web.HTTPError(404) from None

        def validate_absolute_path(self, root: str, absolute_path: str):
            try:
                return super().validate_absolute_path(root, absolute_path)
            except tornado.web.HTTPError:
                raise
            except Exception:
                raise tornado.web.HTTPError(404) from None

    class DeniedLogin(VoilaLoginHandler):
        """Replaces Jupyter's password form: a link without a valid token just has no access."""

        def get(self) -> None:
            self.set_status(403)
            self.finish(page("denied"))

        def post(self) -> None:
            self.set_status(403)
            self.finish(page("denied"))

    replace = {
        TornadoVoilaHandler: RenderHandler,
        RequestInfoSocketHandler: OwnedInfoSocket,
        VoilaShutdownKernelHandler: OwnedShutdown,
        TemplateStaticFileHandler: SafeTemplateFiles,
    }
    # handler.py calls RequestInfoSocketHandler.send_updates by its module-level name
    voila_handler.RequestInfoSocketHandler = OwnedInfoSocket

    class ServiceVoila(Voila):
        def init_settings(self) -> dict:
            settings = super().init_settings()
            self.identity_provider.login_handler_class = DeniedLogin
            settings["log_function"] = log_request  # jupyter_server's logger scrubs tokens from URIs
            return settings

        def init_handlers(self) -> list:
            out = []
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
    app = app_class.instance()
    app.token = token
    app.initialize(list(sys.argv[1:] if argv is None else argv))
    signal.signal(signal.SIGINT, app._handle_signal_stop)
    install_log_redaction()  # handlers added by initialize() get the filter too
    app.start()


if __name__ == "__main__":
    main()
