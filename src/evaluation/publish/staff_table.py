"""Tables as staff read them: Korean (or English) headers, thousands separators, 원 and %, no index,
no NaN or scientific notation, booleans as 예/아니오, measure codes as their names.

Used by the dashboards and the HTML reports so a table looks the same in both.
"""
from __future__ import annotations

import html
import math
from typing import Any, Mapping

import pandas as pd

from . import glossary
from .i18n import t

_PERCENT_HINTS = ("rate", "share", "prob", "proportion")


def _unit_of(column: str, units: Mapping[str, str] | None) -> str:
    if units and column in units:
        return units[column]
    c = column.lower()
    if "year" in c and not c.startswith("n_"):
        return "plain"  # 2022, not 2,022
    if c.endswith("_krw") or c == "krw":
        return "KRW"
    if any(h in c for h in _PERCENT_HINTS) and not c.endswith(("_n", "_count")):
        return "share"
    return ""


def format_value(value: Any, unit: str = "", lang: str = "ko") -> str:  # noqa: C901 - one branch per kind of cell
    """One cell as text: '–' for missing, '12,345', '61.2%', '1,234원' / 'KRW 1,234', '예'/'Yes'."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return "–"
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
    return named if named is not None else t(text, lang)


def format_table(df: pd.DataFrame, lang: str = "ko", *, units: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with every cell as staff text and staff column headers."""
    out = pd.DataFrame({
        glossary.column(str(c), lang): [format_value(v, _unit_of(str(c), units), lang) for v in df[c].tolist()]
        for c in df.columns
    })
    return out


def to_html(df: pd.DataFrame, lang: str = "ko", *, units: Mapping[str, str] | None = None, caption: str = "",
            footnote: str = "") -> str:
    """An HTML table for staff (escaped), optional caption and footnote (e.g. the provenance)."""
    body = format_table(df, lang, units=units).to_html(index=False, escape=True, border=0, classes="ev-table")
    cap = f"<div class='ev-caption'><b>{html.escape(caption)}</b></div>" if caption else ""
    foot = f"<div class='ev-foot' style='font-size:11px;color:#57606a'>{html.escape(footnote)}</div>" if footnote else ""
    return cap + body + foot


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
        shown = df.reset_index() if not isinstance(df.index, pd.RangeIndex) else df
        more = len(shown) - MAX_ROWS
        note = ""
        if more > 0:
            note = f"… {more:,}행 더 있음" if lang == "ko" else f"… {more:,} more rows"
        return to_html(shown.head(MAX_ROWS), lang, footnote=note)

    ip.display_formatter.formatters["text/html"].for_type(pd.DataFrame, _html)
