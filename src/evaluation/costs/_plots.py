"""Figures for the cost module (Korean labels by default; call ``plots.setup(lang)`` first)."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ..publish import i18n

i18n.register({
    "planned_krw": {"ko": "예산(가용액)", "en": "Available budget"},
    "executed_krw": {"ko": "집행액", "en": "Executed"},
    "execution_rate": {"ko": "집행률", "en": "Execution rate"},
    "planned_vs_executed": {"ko": "예산 대비 집행 현황", "en": "Budget vs execution"},
    "krw_100m": {"ko": "금액 (억원)", "en": "Amount (100 million KRW)"},
    "inc_cost_krw": {"ko": "증분비용 (원)", "en": "Incremental cost (KRW)"},
    "inc_effect": {"ko": "증분효과 (QALY)", "en": "Incremental effect (QALY)"},
    "ce_plane": {"ko": "비용-효과 평면", "en": "Cost-effectiveness plane"},
    "wtp_line": {"ko": "지불의사 한계값", "en": "Willingness-to-pay threshold"},
    "wtp_krw_m": {"ko": "지불의사 한계값 (백만원/QALY)", "en": "Willingness to pay (million KRW per QALY)"},
    "prob_ce": {"ko": "비용효과적일 확률", "en": "Probability cost-effective"},
    "ceac": {"ko": "비용효과 수용곡선 (CEAC)", "en": "Cost-effectiveness acceptability curve"},
    "ceaf": {"ko": "수용 경계 (CEAF)", "en": "Acceptability frontier (CEAF)"},
    "cost_krw": {"ko": "비용 (원)", "en": "Cost (KRW)"},
    "effect_qaly": {"ko": "효과 (QALY)", "en": "Effect (QALY)"},
    "frontier": {"ko": "효율적 경계", "en": "Efficiency frontier"},
    "cycle_year": {"ko": "주기 (년)", "en": "Cycle (years)"},
    "cohort_share": {"ko": "코호트 비율", "en": "Share of cohort"},
    "markov_trace": {"ko": "마르코프 코호트 추적", "en": "Markov cohort trace"},
    "tornado": {"ko": "일원 민감도 분석 (토네이도)", "en": "One-way sensitivity (tornado)"},
    "inmb_krw": {"ko": "증분 순편익 (원)", "en": "Incremental net monetary benefit (KRW)"},
    "icer_krw": {"ko": "ICER (원/QALY)", "en": "ICER (KRW per QALY)"},
    "low_value": {"ko": "하한값", "en": "Low value"},
    "high_value": {"ko": "상한값", "en": "High value"},
    "base_case": {"ko": "기본값", "en": "Base case"},
    "evpi_krw": {"ko": "EVPI (원/인)", "en": "EVPI (KRW per person)"},
})


def _ax(ax, figsize=(8, 5)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def _group_label(row: pd.Series, by: tuple[str, ...], lang: str) -> str:
    parts = []
    for c in by:
        v = row[c]
        parts.append(i18n.t(str(v), lang) if isinstance(v, str) else ("" if pd.isna(v) else str(v)))
    return " / ".join(parts)


def plot_planned_vs_executed(table: pd.DataFrame, by: tuple[str, ...], lang: str = "ko", ax=None):
    """Grouped bars (available vs executed, 100 million KRW) with the execution rate on top."""
    fig, ax = _ax(ax, figsize=(max(6, 1.1 * len(table) + 2), 4.5))
    x = np.arange(len(table))
    w = 0.38
    planned = table["planned_krw"].to_numpy(float) / 1e8
    executed = table["executed_krw"].to_numpy(float) / 1e8
    ax.bar(x - w / 2, planned, w, label=i18n.t("planned_krw", lang), color="#9ecae1")
    ax.bar(x + w / 2, executed, w, label=i18n.t("executed_krw", lang), color="#3182bd")
    for xi, p, r in zip(x, planned, table["execution_rate"]):
        if np.isfinite(r):
            ax.annotate(f"{r:.0%}", (xi, p), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x)
    ax.set_xticklabels([_group_label(r, by, lang) for _, r in table.iterrows()], rotation=30, ha="right")
    ax.set_ylabel(i18n.t("krw_100m", lang))
    ax.set_title(i18n.t("planned_vs_executed", lang))
    ax.legend()
    return fig


def plot_ce_plane(plane: pd.DataFrame, wtp: float, lang: str = "ko", ax=None):
    """Scatter of incremental effect vs cost per sample, with the WTP line through the origin."""
    fig, ax = _ax(ax)
    for name, g in plane.groupby("strategy", sort=False):
        ax.scatter(g["inc_effect"], g["inc_cost"], s=6, alpha=0.35, label=f"{name} vs {g['reference'].iloc[0]}")
        ax.scatter([g["inc_effect"].mean()], [g["inc_cost"].mean()], s=60, marker="X", color="black")
    lim = np.nanmax(np.abs(plane["inc_effect"].to_numpy())) * 1.1 or 1.0
    xs = np.linspace(-lim, lim, 10)
    ax.plot(xs, wtp * xs, "--", color="grey", label=f"{i18n.t('wtp_line', lang)} {wtp / 1e6:,.0f}M")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(i18n.t("inc_effect", lang))
    ax.set_ylabel(i18n.t("inc_cost_krw", lang))
    ax.yaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
    ax.set_title(i18n.t("ce_plane", lang))
    ax.legend(fontsize=8)
    return fig


def plot_ceac(ceac: pd.DataFrame, ceaf: pd.DataFrame | None = None, lang: str = "ko", ax=None, mark_wtp=None):
    """CEAC lines per strategy, the CEAF as a thick overlay, optional vertical line at a threshold."""
    fig, ax = _ax(ax)
    for name, g in ceac.groupby("strategy", sort=False):
        ax.plot(g["wtp"] / 1e6, g["prob"], label=str(name))
    if ceaf is not None:
        ax.plot(ceaf["wtp"] / 1e6, ceaf["prob"], color="black", lw=3, alpha=0.35, label=i18n.t("ceaf", lang))
    if mark_wtp is not None:
        ax.axvline(mark_wtp / 1e6, color="grey", ls="--")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(i18n.t("wtp_krw_m", lang))
    ax.set_ylabel(i18n.t("prob_ce", lang))
    ax.set_title(i18n.t("ceac", lang))
    ax.legend(fontsize=8)
    return fig


def plot_frontier(table: pd.DataFrame, lang: str = "ko", ax=None):
    """Strategies on the cost-effect plane with the efficiency frontier."""
    fig, ax = _ax(ax)
    markers = {"ND": "o", "ED": "s", "D": "x"}
    for status, g in table.groupby("status"):
        ax.scatter(g["effect"], g["cost"], marker=markers.get(status, "o"), label=status, s=50)
        for _, r in g.iterrows():
            ax.annotate(str(r["strategy"]), (r["effect"], r["cost"]), textcoords="offset points", xytext=(4, 4))
    nd = table[table["status"] == "ND"].sort_values("cost")
    ax.plot(nd["effect"], nd["cost"], "-", color="black", label=i18n.t("frontier", lang))
    ax.set_xlabel(i18n.t("effect_qaly", lang))
    ax.set_ylabel(i18n.t("cost_krw", lang))
    ax.yaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
    ax.legend()
    return fig


def plot_trace(trace_long: pd.DataFrame, lang: str = "ko", ax=None):
    fig, ax = _ax(ax)
    total = trace_long.groupby(["strategy", "cycle"])["count"].transform("sum")
    df = trace_long.assign(share=trace_long["count"] / total)
    styles = ["-", "--", ":", "-."]
    for si, (sname, g) in enumerate(df.groupby("strategy", sort=False)):
        for state, h in g.groupby("state", sort=False):
            ax.plot(h["cycle"], h["share"], styles[si % len(styles)], label=f"{sname}: {state}")
    ax.set_xlabel(i18n.t("cycle_year", lang))
    ax.set_ylabel(i18n.t("cohort_share", lang))
    ax.set_title(i18n.t("markov_trace", lang))
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_tornado(table: pd.DataFrame, base_value: float, outcome: str, lang: str = "ko", ax=None,
                 labels: Mapping[str, str] | None = None):
    """Horizontal bars from the base value to the low- and high-input outcomes, widest on top."""
    fig, ax = _ax(ax, figsize=(8, 0.5 * len(table) + 2))
    t = table.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(t))
    lo = t["outcome_low"].to_numpy(float) - base_value
    hi = t["outcome_high"].to_numpy(float) - base_value
    ax.barh(y, lo, left=base_value, color="#de2d26", label=i18n.t("low_value", lang))
    ax.barh(y, hi, left=base_value, color="#3182bd", label=i18n.t("high_value", lang))
    ax.axvline(base_value, color="black", lw=1, label=i18n.t("base_case", lang))
    names = [(labels or {}).get(p, p) for p in t["parameter"]]
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    key = {"inmb": "inmb_krw", "icer": "icer_krw"}.get(outcome, outcome)
    ax.set_xlabel(i18n.t(key, lang))
    ax.xaxis.set_major_formatter(lambda v, _p: f"{v:,.0f}")
    ax.set_title(i18n.t("tornado", lang))
    ax.legend(fontsize=8)
    return fig
