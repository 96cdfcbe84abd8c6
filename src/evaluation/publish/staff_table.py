"""Tables as staff read them: Korean (or English) headers, thousands separators, 원 and %, no index,
no NaN or scientific notation, booleans as 예/아니오, measure codes as their names.

Used by the dashboards and the HTML reports so a table looks the same in both.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
import re
from typing import Any, Mapping

import pandas as pd

from . import glossary
from .i18n import t

_PERCENT_HINTS = ("rate", "share", "prob", "proportion")


_CI_OF = ("share", "rate", "proportion", "estimate", "value")
"""A CI (or benchmark) column takes the unit of the first of these the table has (a share's CI is a share too)."""


def _unit_of(column: str, units: Mapping[str, str] | None, columns: tuple[str, ...] = ()) -> str:
    if units and column in units:
        return units[column]
    c = column.lower()
    if c in ("ci_low", "ci_high", "benchmark") and columns:
        est = next((e for e in _CI_OF if e in columns), None)
        return _unit_of(est, units) if est else ""
    if c in ("pvalue", "p_value", "p"):
        return "p"
    if c == "week" or c.startswith("week_") or c.endswith("_week"):
        return "plain"
    if "year" in c.split("_") and not c.startswith("n_"):
        return "plain"  # 2022, not 2,022 (but life_years is a quantity, not a year)
    if c.endswith("_krw") or c == "krw":
        return "KRW"
    if any(h in c for h in _PERCENT_HINTS) and not c.endswith(("_n", "_count")):
        return "share"
    return ""


def format_value(value: Any, unit: str = "", lang: str = "ko") -> str:  # noqa: C901 - one branch per kind of cell
    """One cell as text: '–' for missing, '12,345', '61.2%', '1,234원' / 'KRW 1,234', '예'/'Yes'."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):  # a day, not '2023-02-01 00:00:00'
        ts = pd.Timestamp(value)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool) or (hasattr(value, "dtype") and str(getattr(value, "dtype", "")) == "bool"):
        return ("예" if value else "아니오") if lang == "ko" else ("Yes" if value else "No")
    if isinstance(value, (int, float)) or hasattr(value, "__float__") and not isinstance(value, str):
        try:
            v = float(value)
        except (TypeError, ValueError):
            return html.escape(str(value))
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if unit == "plain":
            return f"{v:.0f}" if v.is_integer() else f"{v}"
        if unit == "1dp":  # a published rate keeps its one decimal (301.9 per 100,000, not 302)
            return f"{v:,.1f}"
        if unit == "p":
            return "<0.001" if v < 0.001 else f"{v:.3f}"
        if unit in ("share", "proportion", "probability"):
            return f"{v:.1%}"
        if unit.upper().startswith("KRW"):
            return f"{v:,.0f}원" if lang == "ko" else f"KRW {v:,.0f}"
        if v.is_integer() or abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:,.2f}" if abs(v) >= 0.01 else f"{v:.4f}"
    text = str(value)
    if text in glossary.TERMS:
        return glossary.term(text, lang)[0]
    named = glossary.value_name(text, lang)
    if named is not None:
        return named
    named = t(text, lang)
    if named != text:
        return named
    text = _CODE_AT_WEEK.sub(lambda m: _code_at_week(m, lang), text)
    return _CODE.sub(lambda m: glossary.value_name(m.group(0), lang) or m.group(0), text)


_CODE_AT_WEEK = re.compile(r"\b([a-z][a-z_]*[a-z])_w(\d+)\b")
_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[A-Za-z0-9]+)+\b")
"""A snake_case code inside a sentence (a checks message naming covariates): its staff name where known."""


def _code_at_week(m: re.Match, lang: str) -> str:
    """``risk_reduction_w12`` inside a sentence -> '위험요인 개선 (12주)' when the code has a staff name."""
    name = glossary.value_name(m.group(1), lang)
    if name is None:
        return m.group(0)
    if m.group(2) == "0":  # measured at enrolment
        if ("등록 시" if lang == "ko" else "at enrolment") in name:
            return name
        return f"{name} (등록 시)" if lang == "ko" else f"{name} (at enrolment)"
    return f"{name} ({m.group(2)}주)" if lang == "ko" else f"{name} (week {m.group(2)})"


def format_table(df: pd.DataFrame, lang: str = "ko", *, units: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with every cell as staff text and staff column headers."""
    names = tuple(str(c) for c in df.columns)
    if "district" in df.columns:  # a gu is read by its name, not its 5-digit code
        from ..reference import districts

        known = districts.names(lang)
        df = df.assign(district=[known.get(str(v), v) for v in df["district"]])
    out = pd.DataFrame({
        glossary.column(str(c), lang): [format_value(v, _unit_of(str(c), units, names), lang) for v in df[c].tolist()]
        for c in df.columns
    })
    return out


_NUMERIC = re.compile(r"^(KRW )?[-+<∞–]?[\d,.]*\d?[%원]?$|^–$|^-?∞$")


def _numeric_text(text: str) -> bool:
    return bool(_NUMERIC.match(str(text).strip()))


TABLE_STYLE = "border-collapse:collapse;word-break:keep-all;overflow-wrap:normal;line-height:1.45"
"""Hangul breaks between words, never inside one (the browser default breaks a Korean word anywhere,
so a narrow column wrapped one syllable per line); the wrapper scrolls a wide table instead."""


def to_html(df: pd.DataFrame, lang: str = "ko", *, units: Mapping[str, str] | None = None, caption: str = "",
            footnote: str = "", alert: tuple[str, str] | None = None) -> str:
    """An HTML table for staff (escaped), optional caption and footnote (e.g. the provenance).

    ``alert=(column, text)`` shows the cells of ``column`` (raw or staff header) that read ``text`` in red
    bold (e.g. a failed check's verdict).
    """
    shown = format_table(df, lang, units=units)
    body = shown.to_html(index=False, escape=True, border=0, classes="ev-table")
    # numbers right-aligned (digits line up), words left-aligned (a right-aligned sentence is hard to read)
    text_cols = [i for i, c in enumerate(shown.columns, 1) if not shown[c].map(_numeric_text).all()]
    table_id = f"ev-t{hashlib.sha1(body.encode()).hexdigest()[:10]}"
    align = "".join(f"#{table_id} td:nth-child({i}),#{table_id} th:nth-child({i}){{text-align:left}}" for i in text_cols)
    body = body.replace("<table ", f"<table id='{table_id}' style='{TABLE_STYLE}' ", 1)
    body = (f"<style>#{table_id} td,#{table_id} th{{text-align:right}}{align}</style>" if len(shown.columns) else "") + body
    if alert is not None:
        col = alert[0] if alert[0] in shown.columns else glossary.column(alert[0], lang)
        if col in shown.columns and (shown[col] == alert[1]).any():
            cell = f"<td>{html.escape(alert[1])}</td>"
            body = body.replace(cell, f"<td style='color:#b00020;font-weight:bold'>{html.escape(alert[1])}</td>")
    cap = f"<div class='ev-caption'><b>{html.escape(caption)}</b></div>" if caption else ""
    foot = f"<div class='ev-foot' style='font-size:11px;color:#57606a'>{html.escape(footnote)}</div>" if footnote else ""
    return cap + f"<div class='ev-table-wrap' style='overflow-x:auto;max-width:100%'>{body}</div>" + foot


MAX_ROWS = 40


def install_display(lang: str = "ko") -> None:
    """Show DataFrames in notebooks and their HTML reports as staff tables (first :data:`MAX_ROWS` rows).

    A no-op outside IPython. Researchers who want the raw frame can still call ``df.to_string()``.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebook stack
        return
    ip = get_ipython()
    if ip is None:
        return

    def _html(df: pd.DataFrame) -> str:
        # a named index is data (e.g. a pivot's rows); an unnamed one is row numbers left by a sort or a filter
        named = any(n is not None for n in df.index.names)
        shown = df.reset_index() if named else df.reset_index(drop=True)
        more = len(shown) - MAX_ROWS
        note = ""
        if more > 0:
            note = f"… {more:,}행 더 있음" if lang == "ko" else f"… {more:,} more rows"
        return to_html(shown.head(MAX_ROWS), lang, footnote=note)

    ip.display_formatter.formatters["text/html"].for_type(pd.DataFrame, _html)
