"""The shared dashboard shell: header controls, KPI cards, figures as PNG, friendly messages.

Each dashboard is a function ``render(run, lang, district) -> list[Widget]``; the
shell rebuilds the body whenever the programme, run, district or language
changes. Figures are rendered server-side to PNG (``widgets.Image``) so a redraw
is one small image transfer, and warnings never reach the page: staff should see
figures or a plain message, never a traceback or a warning box.
"""
from __future__ import annotations

import html
import io
import logging
import time
import warnings
from typing import Any, Callable

import ipywidgets as W
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..reference import districts
from ..publish import plots  # noqa: E402
from ..publish.i18n import register, t  # noqa: E402
from ..publish.provenance import EXPLAIN, Provenance  # noqa: E402
from ..publish.report_html import run_label  # noqa: E402
from ..publish.staff_table import format_value  # noqa: E402
from . import _data  # noqa: E402

register({
    "programme": {"ko": "사업", "en": "Programme"},
    "run": {"ko": "평가 실행", "en": "Run"},
    "language": {"ko": "언어", "en": "Language"},
    "all_districts": {"ko": "서울 전체", "en": "All of Seoul"},
    "not_in_run": {"ko": "이 실행에는 해당 결과가 없습니다", "en": "This run has no result for this panel"},
    "latest": {"ko": "최신", "en": "latest"},
    "suppressed_cell": {"ko": "비공개", "en": "Withheld"},
    "seoul_only": {"ko": "자치구별 값 없음: 서울 전체 값입니다", "en": "No district figure: value for all of Seoul"},
})

Render = Callable[..., list[W.Widget]]
Choices = Callable[[_data.RunData, str], list[tuple[str, str]]]

CARD_CSS = """
<style>
.ev-card {border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;margin:4px;min-width:150px;background:#f8fafc;word-break:keep-all}
.ev-card .k {font-size:12px;color:#57606a} .ev-card .v {font-size:22px;font-weight:600;color:#1f2328}
.ev-card .c {font-size:11px;color:#57606a} .ev-msg {padding:16px;font-size:15px;color:#57606a}
.ev-verdict {padding:10px 14px;border-radius:8px;background:#eef6ee;font-size:15px}
.ev-card .ev-caveat {color:#b71c1c;max-width:220px} .ev-card .ev-scope {color:#6a4f00}
.ev-card .ev-suppressed {font-size:16px;color:#57606a} .ev-card .ev-reason {color:#6a4f00;max-width:220px}
table.ev-table {border-collapse:collapse;font-size:13px} table.ev-table th,table.ev-table td {padding:3px 8px;border-bottom:1px solid #e5e7eb;text-align:right}
table.ev-table th {background:#f3f4f6} .ev-glossary {margin:8px 0;font-size:13px}
</style>
"""


def quiet() -> None:
    """Silence warnings and chatty loggers in the dashboard kernel (nothing may render as a warning box)."""
    warnings.filterwarnings("ignore")
    logging.getLogger("matplotlib").setLevel(logging.ERROR)


def fmt(value: Any, unit: str = "", lang: str = "ko") -> str:
    """Human number as HTML: 12,345 / 61.2% / 1,234,567원 (KRW 1,234,567 in English); the same rules as
    the staff tables (:func:`evaluation.publish.staff_table.format_value`), escaped."""
    return html.escape(format_value(value, unit, lang))


def card(label: str, entry: dict[str, Any] | None, *, unit: str | None = None, lang: str = "ko",
         scope: str = "") -> W.HTML:
    """A KPI card for a results entry (value, optional 95% CI) with its provenance badge.

    ``scope`` is a one-line note under the value (e.g. that a figure exists only for Seoul as a whole).
    Synthetic and illustrative figures also carry their caveat in words, not only a coloured badge.
    """
    if entry is None or (entry.get("value") is None and entry.get("reason")):
        body = "<div class='v'>–</div>"
        if entry and entry.get("reason"):  # why there is no number, in words (e.g. the period is too short)
            body += f"<div class='c ev-reason'>{html.escape(entry['reason'])}</div>"
    elif entry.get("suppressed"):
        body = f"<div class='v ev-suppressed'>{html.escape(t('suppressed_cell', lang))}</div>"
    else:
        u = unit if unit is not None else entry.get("unit", "")
        body = f"<div class='v'>{fmt(entry.get('value'), u, lang)}</div>"
        ci = entry.get("ci")
        if ci and None not in ci:
            body += f"<div class='c'>95% CI {fmt(ci[0], u, lang)} – {fmt(ci[1], u, lang)}</div>"
    if scope:
        body += f"<div class='c ev-scope'>{html.escape(scope)}</div>"
    prov = (entry or {}).get("provenance")
    if prov:
        p = Provenance.coerce(prov)
        body += f"<div class='c'>{p.badge(lang)}</div>"
        if p.kind == "illustrative":  # synthetic data get one banner per page (see DashboardApp.redraw)
            body += f"<div class='c ev-caveat'>{html.escape(EXPLAIN[p.kind][lang])}</div>"
    return W.HTML(f"<div class='ev-card'><div class='k'>{html.escape(label)}</div>{body}</div>")


def message(text: str) -> W.HTML:
    return W.HTML(f"<div class='ev-msg'>{html.escape(text)}</div>")


def figure(fig: matplotlib.figure.Figure) -> W.Image:
    """Render a matplotlib figure to a PNG image widget and free it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    png = buf.getvalue()
    width = int.from_bytes(png[16:20], "big")  # IHDR: show at natural size, shrink only to fit
    return W.Image(value=png, format="png", layout=W.Layout(width=f"{width}px", max_width="100%", height="auto"))


def panel(title: str, body: W.Widget | list[W.Widget]) -> W.VBox:
    children = body if isinstance(body, list) else [body]
    return W.VBox([W.HTML(f"<h3>{html.escape(title)}</h3>"), *children])


class DashboardApp:
    """Header (programme, run, district, language) + body rebuilt by ``render`` on every change."""

    def __init__(self, title: dict[str, str], render: Render, *, with_district: bool = False,
                 choices: Choices | None = None, choice_label: str = "indicator",
                 lang: str = "ko", root: str | None = None) -> None:
        quiet()
        self.title, self.render, self.lang = title, render, lang
        self.root = _data.output_root() if root is None else _data.Path(root)
        plots.setup(lang, seaborn=False)
        progs = _data.programmes(self.root)
        # by title, as staff read the menu (folder keys would put a newer programme first by accident)
        progs = sorted(progs, key=lambda p: _data.programme_title(p, self.root, "ko"))  # same order in both languages
        menu = self._programme_options(progs)
        self.programme = W.Dropdown(options=menu, value=menu[0][1] if menu else None, description=t("programme", lang))
        self.run = W.Dropdown(description=t("run", lang))
        self.language = W.ToggleButtons(options=[("한국어", "ko"), ("English", "en")], value=lang)
        self.district = W.Dropdown(description=t("district", lang)) if with_district else None
        self.choices, self.choice_label = choices, choice_label
        self.choice = W.Dropdown(description=t(choice_label, lang)) if choices else None
        self.heading = W.HTML()
        self.body = W.VBox()
        self.status = W.HTML()
        self._refresh_runs()
        self._refresh_districts()
        self._refresh_choices()
        self.programme.observe(lambda _: (self._refresh_runs(), self.redraw()), names="value")
        self.run.observe(lambda _: (self._refresh_choices(), self.redraw()), names="value")
        self.language.observe(lambda _: self._set_lang(), names="value")
        if self.district is not None:
            self.district.observe(lambda _: self.redraw(), names="value")
        if self.choice is not None:
            self.choice.observe(lambda _: self.redraw(), names="value")
        controls = [self.programme, self.run] + [w for w in (self.district, self.choice) if w is not None] + [self.language]
        # a plain VBox rather than AppLayout: its fixed-height header rows overlap once the controls wrap
        self.widget = W.VBox([
            W.HTML(CARD_CSS), self.heading,
            W.HBox(controls, layout=W.Layout(flex_flow="row wrap", align_items="center")),
            self.body, self.status,
        ])
        self.widget.dashboard = self  # its controls, for the kernel-free views (_prerender drives them)
        self.redraw()

    def _programme_options(self, progs: list[str]) -> list[tuple[str, str]]:
        return [(_data.programme_title(p, self.root, self.lang), p) for p in progs]

    def _refresh_programmes(self) -> None:
        """Relabel the programme dropdown in the current language (the value stays)."""
        value, muted = self.programme.value, self._muted
        self._muted = True  # relabelling must not trigger a redraw per option
        self.programme.options = self._programme_options([p for _, p in self.programme.options])
        self.programme.value = value
        self._muted = muted

    def _refresh_runs(self) -> None:
        runs = _data.successful_runs(self.programme.value, self.root) if self.programme.value else []
        labels = [run_label(r) for r in runs]
        self.run.options = ([(f"{labels[0]} ({t('latest', self.lang)})", runs[0])] + list(zip(labels[1:], runs[1:]))) if runs else []
        self.run.value = runs[0] if runs else None

    def _refresh_districts(self) -> None:
        if self.district is None:
            return
        value = self.district.value
        names = districts.names(self.lang)
        self.district.options = [(t("all_districts", self.lang), "")] + [(names[c], c) for c in districts.codes()]
        self.district.value = value or ""

    def _current_run(self) -> _data.RunData | None:
        return _data.load_run(self.programme.value, self.run.value, self.root) if self.programme.value else None

    def _refresh_choices(self) -> None:
        if self.choice is None:
            return
        run = self._current_run()
        value = self.choice.value
        self._muted = True
        options = self.choices(run, self.lang) if run is not None else []
        self.choice.options = options
        values = [v for _, v in options]
        self.choice.value = value if value in values else (values[0] if values else None)
        self._muted = False

    def _set_lang(self) -> None:
        self.lang = self.language.value
        plots.setup(self.lang, seaborn=False)
        self.programme.description = t("programme", self.lang)
        self._refresh_programmes()
        self.run.description = t("run", self.lang)
        if self.district is not None:
            self.district.description = t("district", self.lang)
            self._refresh_districts()
        if self.choice is not None:
            self.choice.description = t(self.choice_label, self.lang)
        self._refresh_choices()
        self._refresh_runs()
        self.redraw()

    _muted = False

    def redraw(self) -> None:
        if self._muted:
            return
        start = time.perf_counter()
        self.heading.value = f"<h2>{html.escape(self.title[self.lang])}</h2>"
        run = self._current_run()
        if run is None:
            self.body.children = [message(t("no_run", self.lang) + (
                " `make demo` 또는 `evaluation run params/<이름>.yaml`을 실행하세요." if self.lang == "ko"
                else " Run `make demo` or `evaluation run params/<name>.yaml`."))]
        else:
            banner = [W.HTML(f"<div class='ev-notice' style='color:#57606a;margin:4px'>{html.escape(t('perturbation_notice', self.lang))}</div>")]
            if run.data_kind != "programme":
                banner += [W.HTML(f"<div class='ev-banner' style='background:#fdecea;color:#b71c1c;padding:8px 14px;"
                                 f"border-radius:8px;margin:4px'>{html.escape(EXPLAIN['synthetic'][self.lang])}</div>")]
            try:
                self.body.children = banner + self.render(
                    run, self.lang, (self.district.value or None) if self.district else None,
                    **({"choice": self.choice.value} if self.choice is not None else {}))
            except Exception as exc:  # a broken table must not show a traceback to staff
                logging.getLogger(__name__).exception("dashboard render failed")
                self.body.children = [message(f"{t('not_in_run', self.lang)} ({type(exc).__name__})")]
        ms = (time.perf_counter() - start) * 1000
        self.status.value = f"<span style='display:none' data-render-ms='{ms:.0f}'></span>"
