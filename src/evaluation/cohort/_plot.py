"""Figures of cohort tables; suppressed cells stay visible as such (a grey "x"), never as a gap that looks like zero."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..publish import i18n
from ..publish.suppression import MARKER

i18n.register({
    "mean_steps": {"ko": "일평균 걸음 수", "en": "Mean daily steps"},
    "median_steps": {"ko": "걸음 수 중앙값", "en": "Median daily steps"},
    "valid_day_rate": {"ko": "유효 착용일 비율", "en": "Valid-day rate"},
    "moderate_minutes": {"ko": "중강도 활동 (분/일)", "en": "Moderate activity (min/day)"},
    "vigorous_minutes": {"ko": "고강도 활동 (분/일)", "en": "Vigorous activity (min/day)"},
    "resting_hr": {"ko": "안정시 심박수 (bpm)", "en": "Resting heart rate (bpm)"},
    "week_since_enrolment": {"ko": "등록 후 주차", "en": "Weeks since enrolment"},
    "quarter": {"ko": "분기", "en": "Quarter"},
    "suppressed_cell": {"ko": "x = 비공개(소표본)", "en": "x = suppressed (small cell)"},
})


def breakdown(published: pd.DataFrame, dimension: str, *, level: str = "level") -> pd.DataFrame:
    """The rows of one breakdown of a published long table (columns ``dimension`` and ``level``, as notebook
    30 stores its trajectories) with ``level`` renamed to the dimension, ready for :func:`plot_lines` and
    :func:`plot_heatmap`: figures are drawn from what was published, not from the unprotected aggregates."""
    if "dimension" not in published or level not in published:
        raise ValueError(f"expected columns 'dimension' and {level!r}; have {list(published.columns)}")
    part = published[published["dimension"] == dimension]
    if part.empty:
        raise ValueError(f"no rows for dimension {dimension!r}; have {sorted(published['dimension'].unique())}")
    return part.drop(columns=["dimension"]).rename(columns={level: dimension}).reset_index(drop=True)


def _label(v, lang: str) -> str:
    return i18n.t(str(v), lang)


def plot_lines(table: pd.DataFrame, x: str, metric: str = "mean_steps", hue: str | None = None, *, ax=None,
               lang: str = "ko", band: bool = True):
    """Estimate of ``metric`` against ``x`` (one line per ``hue`` level) with its 95% CI band.

    Suppressed cells are drawn as grey "x" marks along the bottom of the axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    t = table[table["metric"] == metric].sort_values(x)
    if t.empty:
        raise ValueError(f"no rows for metric {metric!r}; have {sorted(table['metric'].unique())}")
    groups = t.groupby(hue, observed=True, sort=True) if hue else [(None, t)]
    bottom = blended_transform_factory(ax.transData, ax.transAxes)
    any_sup = False
    for level, g in groups:
        # a withheld estimate (NaN) is a gap in the line, never a point at 0
        line, = ax.plot(g[x], pd.to_numeric(g["estimate"], errors="coerce").astype(float), marker=".",
                        label=_label(level, lang) if hue else None)
        if band:
            ax.fill_between(g[x], pd.to_numeric(g["ci_low"], errors="coerce").astype(float),
                            pd.to_numeric(g["ci_high"], errors="coerce").astype(float), alpha=0.2, color=line.get_color())
        sup = g[g["suppressed"].astype(bool)]
        if len(sup):
            any_sup = True
            ax.plot(sup[x], np.full(len(sup), 0.03), "x", color=line.get_color(), alpha=0.8, transform=bottom,
                    clip_on=False)
    ax.set_xlabel(i18n.t(x, lang))
    ax.set_ylabel(i18n.t(metric, lang))
    if hue:
        ax.legend(title=i18n.t(hue, lang), fontsize="small")
    if any_sup:
        ax.text(0.99, 0.06, i18n.t("suppressed_cell", lang), transform=ax.transAxes, ha="right", fontsize=8, color="0.3")
    return ax


def plot_heatmap(table: pd.DataFrame, x: str, y: str, metric: str = "mean_steps", *, ax=None, lang: str = "ko",
                 y_labels: dict | None = None, cmap: str = "viridis"):
    """``metric`` as a ``y`` x ``x`` heat map; suppressed cells grey with an "x"."""
    import matplotlib.pyplot as plt

    t = table[table["metric"] == metric].assign(estimate=lambda d: pd.to_numeric(d["estimate"], errors="coerce").astype(float))
    est = t.pivot_table(index=y, columns=x, values="estimate", observed=True, dropna=False, aggfunc="first")
    sup = t.pivot_table(index=y, columns=x, values="suppressed", observed=True, dropna=False, aggfunc="first")
    sup = sup.reindex_like(est).fillna(False).astype(bool)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, max(3, 0.28 * len(est))))
    arr = np.ma.masked_invalid(est.to_numpy(float))
    cm = plt.get_cmap(cmap).copy()
    cm.set_bad("0.85")
    ax.grid(False)
    im = ax.imshow(arr, aspect="auto", cmap=cm, interpolation="nearest")
    for i, j in zip(*np.nonzero(sup.to_numpy())):
        ax.text(j, i, MARKER, ha="center", va="center", fontsize=7, color="0.25")
    ax.set_yticks(range(len(est.index)))
    ax.set_yticklabels([(y_labels or {}).get(v, _label(v, lang)) for v in est.index], fontsize=8)
    step = max(1, len(est.columns) // 12)
    ax.set_xticks(range(0, len(est.columns), step))
    ax.set_xticklabels([str(c)[:10] for c in est.columns[::step]], fontsize=8)
    ax.set_xlabel(i18n.t(x, lang))
    ax.set_ylabel(i18n.t(y, lang))
    ax.figure.colorbar(im, ax=ax, label=i18n.t(metric, lang))
    ax.set_title(i18n.t("suppressed_cell", lang), fontsize=8, loc="right")
    return ax
