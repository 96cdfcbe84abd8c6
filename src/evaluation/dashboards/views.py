"""The three staff dashboards: what each shows from a finished run.

Every panel reads a stored table or headline number; when a run lacks it the
panel says so in one line instead of failing. Suppressed cells (``suppressed``
column True) are drawn as hatched grey, never as numbers.
"""
from __future__ import annotations

from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import districts
from ..i18n import register, t
from ..plots import thousands
from ._app import DashboardApp, card, figure, message, panel
from ._data import RunData

register({
    "dash_overview": {"ko": "사업 현황 대시보드", "en": "Programme overview"},
    "dash_districts": {"ko": "자치구 형평성 대시보드", "en": "Districts and equity"},
    "dash_cost": {"ko": "예산·비용 대시보드", "en": "Budget and cost"},
    "valid_day_rate": {"ko": "유효 착용일 비율", "en": "Valid-day rate"},
    "goal_share": {"ko": "목표 걸음 달성률", "en": "Step-goal attainment"},
    "headline_effect": {"ko": "사업 효과 (95% 신뢰구간)", "en": "Programme effect (95% CI)"},
    "cost_per_participant": {"ko": "참여자 1인당 비용", "en": "Cost per participant"},
    "cost_per_completer": {"ko": "완료자 1인당 비용", "en": "Cost per completer"},
    "execution_rate": {"ko": "예산 집행률", "en": "Budget execution rate"},
    "verdict_works": {"ko": "효과가 있습니다: 신뢰구간이 0을 포함하지 않습니다.", "en": "The programme works: the confidence interval excludes zero."},
    "verdict_unclear": {"ko": "효과가 불확실합니다: 신뢰구간이 0을 포함합니다.", "en": "The effect is uncertain: the confidence interval includes zero."},
    "verdict_harm": {"ko": "의도와 반대 방향의 변화가 관찰되었습니다.", "en": "The change goes against the intended direction."},
    "indicator": {"ko": "지표", "en": "Indicator"},
    "rank": {"ko": "순위", "en": "Rank"},
    "value": {"ko": "값", "en": "Value"},
    "inequality": {"ko": "불평등 지표", "en": "Inequality measures"},
    "gap_change": {"ko": "격차 변화 (사업 전후)", "en": "Gap change (before vs after)"},
    "ledger_by_category": {"ko": "비목별 예산", "en": "Budget by category"},
    "execution_by_source": {"ko": "재원별 집행률", "en": "Execution by funding source"},
    "ce_plane": {"ko": "비용-효과 평면", "en": "Cost-effectiveness plane"},
    "ceac": {"ko": "비용-효과 수용 곡선", "en": "Cost-effectiveness acceptability curve"},
    "icer": {"ko": "점증적 비용-효과비(ICER)", "en": "ICER"},
    "prob_ce": {"ko": "비용-효과적일 확률", "en": "Probability cost-effective"},
    "wtp": {"ko": "지불의사 (원/QALY)", "en": "Willingness to pay (KRW/QALY)"},
})

TIME_COLUMNS = ("week_since_enrolment", "weeks_since_enrolment", "week", "calendar_week", "date", "month")


def _first(df: pd.DataFrame, names: tuple[str, ...] | list[str]) -> str | None:
    return next((c for c in names if c in df.columns), None)


def _missing(lang: str, what: str) -> W.HTML:
    return message(f"{t('not_in_run', lang)}: {what}")


def _verdict(entry: dict[str, Any] | None, lang: str, favourable: str = "higher") -> W.HTML:
    if not entry or not entry.get("ci") or None in entry["ci"]:
        return _missing(lang, t("headline_effect", lang))
    lo, hi = entry["ci"]
    good = lo > 0 if favourable == "higher" else hi < 0
    bad = hi < 0 if favourable == "higher" else lo > 0
    key = "verdict_works" if good else ("verdict_harm" if bad else "verdict_unclear")
    label = entry.get("label") or t("headline_effect", lang)
    return W.HTML(
        f"<div class='ev-verdict'><b>{label}</b>: {entry['value']:,.1f} (95% CI {lo:,.1f} – {hi:,.1f})"
        f"<br>{t(key, lang)}</div>"
    )


def _trend_figure(df: pd.DataFrame, lang: str, district: str | None) -> W.Widget:
    x = _first(df, TIME_COLUMNS)
    y = _first(df, ["estimate", "mean_steps", "steps_mean", "mean"])
    if x is None or y is None:
        return _missing(lang, t("steps_by_week", lang))
    if district and "district" in df.columns:
        df = df[df["district"].astype(str) == district]
    elif "district" in df.columns:
        return _missing(lang, t("steps_by_week", lang))
    fig, ax = plt.subplots(figsize=(8, 3.4))
    group = _first(df, ["arm", "group"])
    for key, sub in (df.groupby(group, observed=True) if group else [(None, df)]):
        sub = sub.sort_values(x)
        label = t(str(key), lang) if key is not None else None
        ax.plot(sub[x], sub[y], label=label)
        if {"ci_low", "ci_high"} <= set(sub.columns):
            ax.fill_between(sub[x], sub["ci_low"], sub["ci_high"], alpha=0.2)
        if "suppressed" in sub.columns and sub["suppressed"].any():
            for xv in sub.loc[sub["suppressed"].astype(bool), x]:
                ax.axvspan(xv, xv, color="grey", alpha=0.4, hatch="//")
    ax.set_xlabel(t("weeks_since_enrolment" if "enrol" in x else "week", lang))
    ax.set_ylabel(t("daily_steps", lang))
    ax.yaxis.set_major_formatter(thousands)
    if group:
        ax.legend(title=t(group, lang), fontsize=9)
    ax.set_title(t("steps_by_week", lang))
    return figure(fig)


def render_overview(run: RunData, lang: str, district: str | None) -> list[W.Widget]:
    cards = W.HBox([
        card(t("enrolled", lang), run.find("participants_enrolled")),
        card(t("active", lang), run.find("participants_active_last_week") or run.find("participants_active")),
        card(t("completed", lang), run.find("participants_completed")),
        card(t("valid_day_rate", lang), run.find("valid_day_rate"), unit="share"),
        card(t("daily_steps", lang), run.find("mean_daily_steps")),
        card(t("goal_share", lang), run.find("goal_share"), unit="share"),
    ], layout=W.Layout(flex_flow="row wrap"))
    costs = W.HBox([
        card(t("cost_per_participant", lang), run.find("cost_per_participant_krw"), unit="KRW"),
        card(t("cost_per_completer", lang), run.find("cost_per_completer_krw"), unit="KRW"),
        card(t("execution_rate", lang), run.find("execution_rate"), unit="share"),
    ], layout=W.Layout(flex_flow="row wrap"))
    effect = run.find("att_steps")
    trend = run.table("steps_by_week")
    body = [cards, panel(t("headline_effect", lang), _verdict(effect, lang, "higher")), costs]
    body.append(panel(t("steps_by_week", lang), _trend_figure(trend, lang, district) if trend is not None else _missing(lang, t("steps_by_week", lang))))
    return body


def _district_bar(df: pd.DataFrame, value: str, lang: str, title: str) -> W.Widget:
    names = districts.names(lang)
    df = df.copy()
    df["name"] = df["district"].astype(str).map(names)
    df = df.sort_values(value, ascending=False, na_position="last")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    supp = df["suppressed"].astype(bool) if "suppressed" in df.columns else pd.Series(False, index=df.index)
    ax.barh(df["name"], df[value].where(~supp), color="#3b7dd8")
    if supp.any():
        ax.barh(df.loc[supp, "name"], [np.nanmax(df[value]) * 0.05] * int(supp.sum()), color="lightgrey", hatch="//",
                label=t("suppressed", lang))
        ax.legend(fontsize=9)
    ax.invert_yaxis()
    ax.set_title(title)
    return figure(fig)


def render_districts(run: RunData, lang: str, district: str | None) -> list[W.Widget]:
    body: list[W.Widget] = []
    profile = run.table("district_profile")
    if profile is not None and "district" in profile.columns:
        ind_col = _first(profile, ["indicator"])
        val_col = _first(profile, ["value", "estimate"])
        if ind_col and val_col:
            indicator = sorted(profile[ind_col].unique())[0]
            sub = profile[profile[ind_col] == indicator]
            body.append(panel(f"{t('indicator', lang)}: {indicator}", _district_bar(sub, val_col, lang, str(indicator))))
            if district:
                row = sub[sub["district"].astype(str) == district]
                body.append(W.HTML(row.drop(columns=[c for c in row.columns if c == "geometry"]).to_html(index=False)))
    else:
        body.append(_missing(lang, "district_profile"))
    measures = run.table("inequality_measures")
    body.append(panel(t("inequality", lang), W.HTML(measures.round(3).to_html(index=False)) if measures is not None else _missing(lang, t("inequality", lang))))
    gap = run.table("programme_gap_change")
    body.append(panel(t("gap_change", lang), W.HTML(gap.round(3).to_html(index=False)) if gap is not None else _missing(lang, t("gap_change", lang))))
    enrol = run.table("enrolment_by_district")
    if enrol is not None:
        agg = enrol.groupby("district", as_index=False).agg(participants=("participants", "sum"), suppressed=("suppressed", "any"))
        body.append(panel(t("enrolment_by_district", lang), _district_bar(agg, "participants", lang, t("enrolment_by_district", lang))))
    return body


def render_cost(run: RunData, lang: str, district: str | None) -> list[W.Widget]:
    cards = W.HBox([
        card(t("execution_rate", lang), run.find("execution_rate"), unit="share"),
        card(t("cost_per_participant", lang), run.find("cost_per_participant_krw"), unit="KRW"),
        card(t("cost_per_completer", lang), run.find("cost_per_completer_krw"), unit="KRW"),
        card(t("icer", lang), run.find("icer_krw_per_qaly"), unit="KRW"),
        card(t("prob_ce", lang), run.find("prob_cost_effective_at_wtp"), unit="share"),
    ], layout=W.Layout(flex_flow="row wrap"))
    body: list[W.Widget] = [cards]
    ledger = run.table("ledger_by_category")
    body.append(panel(t("ledger_by_category", lang), W.HTML(ledger.to_html(index=False)) if ledger is not None else _missing(lang, t("ledger_by_category", lang))))
    ceac = run.table("ceac")
    if ceac is not None:
        wtp = _first(ceac, ["wtp", "wtp_krw", "threshold"])
        prob = _first(ceac, ["probability", "prob", "p_cost_effective"])
        strat = _first(ceac, ["strategy"])
        if wtp and prob:
            fig, ax = plt.subplots(figsize=(7, 3.4))
            for key, sub in (ceac.groupby(strat) if strat else [(None, ceac)]):
                ax.plot(sub[wtp] / 1e6, sub[prob], label=key)
            ax.set_xlabel(t("wtp", lang) + " (×10⁶)")
            ax.set_ylabel(t("prob_ce", lang))
            ax.set_ylim(0, 1)
            if strat:
                ax.legend(fontsize=9)
            body.append(panel(t("ceac", lang), figure(fig)))
    else:
        body.append(_missing(lang, t("ceac", lang)))
    return body


def overview_app(lang: str = "ko", root: str | None = None) -> W.Widget:
    """The programme overview dashboard widget."""
    return DashboardApp({"ko": t("dash_overview", "ko"), "en": t("dash_overview", "en")}, render_overview,
                        with_district=True, lang=lang, root=root).widget


def districts_app(lang: str = "ko", root: str | None = None) -> W.Widget:
    """The districts and equity dashboard widget."""
    return DashboardApp({"ko": t("dash_districts", "ko"), "en": t("dash_districts", "en")}, render_districts,
                        with_district=True, lang=lang, root=root).widget


def cost_app(lang: str = "ko", root: str | None = None) -> W.Widget:
    """The budget and cost dashboard widget."""
    return DashboardApp({"ko": t("dash_cost", "ko"), "en": t("dash_cost", "en")}, render_cost,
                        lang=lang, root=root).widget
