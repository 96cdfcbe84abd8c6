"""The three staff dashboards: what each shows from a finished run.

Every panel reads a stored table or headline number; when a run lacks it the
panel says so in one line instead of failing. Suppressed cells (``suppressed``
column True) are drawn as hatched grey, never as numbers.
"""
from __future__ import annotations

from typing import Any

import html

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..reference import districts
from ..publish import glossary, staff_table
from ..publish.i18n import register, t
from ..publish.plots import thousands
from ..publish.provenance import Provenance
from . import _records_view
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
    "active_last_week": {"ko": "지난주 활동 참여자", "en": "Active last week"},
    "retention_24w": {"ko": "24주 유지율", "en": "24-week retention"},
    "retention_short_period": {"ko": "이번 실행 자료는 등록 후 {weeks}주까지만 있어 24주 유지율을 아직 계산할 수 없습니다.",
                               "en": "This run's data reach only {weeks} weeks after enrolment, so 24-week retention cannot be computed yet."},
    "retention_unavailable": {"ko": "24주 시점 값은 개인정보 보호를 위해 공개하지 않습니다.",
                              "en": "The week-24 value is withheld to protect individuals."},
    "att_steps_label": {"ko": "일평균 걸음 수 증가 (이중차분, 보/일)", "en": "Extra daily steps (staggered DiD, steps/day)"},
    "steps_change_by_district": {"ko": "자치구별 걸음 수 변화 (등록 전후)", "en": "Change in daily steps by district (before vs after)"},
    "million_krw": {"ko": "백만 원", "en": "million KRW"},
    "source_national": {"ko": "국비", "en": "National"},
    "source_provincial": {"ko": "도비", "en": "Provincial"},
    "source_city": {"ko": "시비", "en": "City"},
    "source_district": {"ko": "구비", "en": "District"},
    "source_other": {"ko": "기타", "en": "Other"},
    "inc_qaly": {"ko": "증분 QALY", "en": "Incremental QALYs"},
    "inc_cost_thousand": {"ko": "증분 비용 (천 원)", "en": "Incremental cost (thousand KRW)"},
    "budget_total": {"ko": "예산 총액", "en": "Total budget"},
    "cost_per_risk_reduced": {"ko": "위험요인 감소자 1인당 비용", "en": "Cost per person with a risk factor reduced"},
    "chronic_underexecution": {"ko": "만성적 저집행 점검 (4년 평균·당해 70% 미만)", "en": "Chronic under-execution check (4-year average and current year below 70%)"},
    "quadrant_dominant": {"ko": "우월 (비용 절감·효과 증가)", "en": "Dominant (saves money, more effect)"},
    "quadrant_dominated": {"ko": "열등 (비용 증가·효과 감소)", "en": "Dominated"},
    "no_programme": {"ko": "사업 미시행", "en": "No programme"},
    "official": {"ko": "공식 통계", "en": "official statistics"},
    "synthetic": {"ko": "합성 자료", "en": "synthetic"},
    "illustrative": {"ko": "예시 모형", "en": "illustrative model"},
    "execution_other_org": {"ko": "참고: 다른 기관 원장의 집행률 (손목닥터 9988 아님)",
                            "en": "For reference: execution of other organisations' ledgers (not the smart-band programme)"},
    "no_execution_data": {"ko": "근거 문서에 집행 실적 없음", "en": "No executed amounts in the seed documents"},
    "post_enrolment_avg": {"ko": "등록 후 1-24주 평균", "en": "Average over weeks 1-24 after enrolment"},
    "official_mortality": {"ko": "자치구별 전체 사망률 (공식 통계)", "en": "All-cause mortality by district (official statistics)"},
    "district_weeks_suppressed": {"ko": "이 자치구의 주별 값은 개인 보호를 위해 공개하지 않습니다 (인원이 적은 칸).",
                                  "en": "This district's weekly values are withheld to protect individuals (cells with few people)."},
    "district_suppressed": {"ko": "이 자치구의 결과는 개인 보호를 위해 공개하지 않습니다 (인원이 적은 칸).",
                            "en": "This district's results are withheld to protect individuals (cells with few people)."},
})



def _first(df: pd.DataFrame, names: tuple[str, ...] | list[str]) -> str | None:
    return next((c for c in names if c in df.columns), None)


def _withheld(text: str) -> W.HTML:
    """A figure withheld for small cells: said in words (never an empty axis)."""
    return W.HTML(f"<div class='ev-withheld' style='padding:16px;font-size:15px;color:#57606a'>{html.escape(text)}</div>")


def _missing(lang: str, what: str) -> W.HTML:
    return message(f"{t('not_in_run', lang)}: {what}")


def _published_number(value: float) -> str:
    """A published estimate with the digits the gate kept: 1,200 not 1,200.0; 0.25 stays 0.25 (at most 3)."""
    v = float(value)
    if v.is_integer():
        return f"{v:,.0f}"
    decimals = min(3, len(np.format_float_positional(v, trim="-").partition(".")[2]))
    return f"{v:,.{decimals}f}"


def _verdict(entry: dict[str, Any] | None, lang: str, favourable: str = "higher") -> W.HTML:
    if not entry or not entry.get("ci") or None in entry["ci"]:
        return _missing(lang, t("headline_effect", lang))
    lo, hi = entry["ci"]
    good = lo > 0 if favourable == "higher" else hi < 0
    bad = hi < 0 if favourable == "higher" else lo > 0
    key = "verdict_works" if good else ("verdict_harm" if bad else "verdict_unclear")
    label = entry.get("label") or t("headline_effect", lang)
    badge = Provenance.coerce(entry["provenance"]).badge(lang) if entry.get("provenance") else ""
    return W.HTML(
        f"<div class='ev-verdict'><b>{html.escape(label)}</b>: {_published_number(entry['value'])} "
        f"(95% CI {_published_number(lo)} – {_published_number(hi)}) {badge}"
        f"<br>{t(key, lang)}</div>"
    )


def _suppressed_marks(ax, sub: pd.DataFrame, x: str) -> None:
    """Grey 'x' at the axis bottom for weeks withheld for small cells (never a number)."""
    if "suppressed" in sub.columns and sub["suppressed"].astype(bool).any():
        xs = sub.loc[sub["suppressed"].astype(bool), x]
        ax.plot(xs, [ax.get_ylim()[0]] * len(xs), "x", color="grey", clip_on=False)


DATE_FORMATS = {  # ConciseDateFormatter levels: years, months, days, hours, minutes, seconds
    "ko": {"formats": ["%Y년", "%-m월", "%-m/%-d", "%H:%M", "%H:%M", "%S"],
           "zero_formats": ["", "%Y년", "%-m월", "%-m/%-d", "%H:%M", "%H:%M"],
           "offset_formats": ["", "%Y년", "%Y년", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]},
    "en": {"formats": ["%Y", "%b", "%b %-d", "%H:%M", "%H:%M", "%S"],
           "zero_formats": ["", "%Y", "%b", "%b %-d", "%H:%M", "%H:%M"],
           "offset_formats": ["", "%Y", "%Y", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]},
}


def _date_axis(ax, values: pd.Series, lang: str) -> None:
    """Date ticks that never overlap: at most 8 ticks on the chart's width, the year said once
    (``1/30 2/6 ... 2023년``) instead of a full date under every tick."""
    import matplotlib.dates as mdates

    span_days = (values.max() - values.min()).days if len(values) else 0
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    if span_days <= 7 * 30:  # up to ~30 weeks: ticks on Mondays, every 2nd/4th week as the span needs
        locator = mdates.WeekdayLocator(byweekday=mdates.MO, interval=max(1, -(-span_days // (7 * 8))))
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, **DATE_FORMATS.get(lang, {})))


def _lines(df: pd.DataFrame, x: str, group: str | None, lang: str, *, ylabel: str, title: str,
           percent: bool = False, xlabel: str = "") -> W.Widget:
    dates = not pd.api.types.is_numeric_dtype(df[x])
    if dates:  # weeks arrive as datetime64 or as date objects; one dtype for matplotlib's date axis
        df = df.assign(**{x: pd.to_datetime(df[x])})
    fig, ax = plt.subplots(figsize=(8, 3.3))
    for key, sub in (df.groupby(group, observed=True, sort=False) if group else [(None, df)]):
        sub = sub.sort_values(x)
        ax.plot(sub[x], sub["estimate"], label=t(str(key), lang) if key is not None else None)
        if {"ci_low", "ci_high"} <= set(sub.columns):
            ax.fill_between(sub[x], sub["ci_low"].astype(float), sub["ci_high"].astype(float), alpha=0.2)
        _suppressed_marks(ax, sub, x)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if percent:
        ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0%}")
    else:
        ax.yaxis.set_major_formatter(thousands)
    if dates:
        _date_axis(ax, df[x], lang)
    if group:
        ax.legend(fontsize=8)
    return figure(fig)


def _steps_panel(run: RunData, lang: str, district: str | None) -> W.Widget:
    if district:
        since = run.table("steps_by_week_since_enrolment")
        if since is None:
            return _missing(lang, t("steps_by_week", lang))
        sub = since[(since["dimension"] == "district") & (since["level"].astype(str) == district) & (since["metric"] == "mean_steps")]
        if sub.empty:
            return _missing(lang, t("steps_by_week", lang))
        if sub["suppressed"].astype(bool).all() or sub["estimate"].isna().all():
            return _withheld(t("district_weeks_suppressed", lang))
        name = districts.names(lang)[district]
        widget = _lines(sub, "week_since_enrolment", None, lang, ylabel=t("daily_steps", lang),
                        title=f"{name}: {t('steps_by_week', lang)}", xlabel=t("weeks_since_enrolment", lang))
        n_supp = int(sub["suppressed"].astype(bool).sum())
        note = W.HTML(f"<small>x: {t('suppressed', lang)} ({n_supp})</small>") if n_supp else W.HTML("")
        return W.VBox([widget, note])
    weekly = run.table("steps_by_week")
    if weekly is None:
        return _missing(lang, t("steps_by_week", lang))
    return _lines(weekly, "week", "arm", lang, ylabel=t("daily_steps", lang), title=t("steps_by_week", lang))


def _district_total(run: RunData, district: str) -> dict[str, Any] | None:
    """Participants enrolled in one district: the published margin row of the district x arm table."""
    tab = run.table("enrolment_by_district_arm")
    if tab is None or "margin" not in tab.columns:
        return None
    row = tab[(tab["district"].astype(str) == district) & tab["margin"].astype(bool)]
    if row.empty:
        return None
    r = row.iloc[0]
    return {"value": None if bool(r.get("suppressed", False)) else float(r["participants"]), "unit": "persons",
            "suppressed": bool(r.get("suppressed", False)), "provenance": run.table_provenance("enrolment_by_district_arm")}


def _district_metric(run: RunData, district: str, metric: str, unit: str) -> dict[str, Any] | None:
    """A district's mean of a weekly metric over weeks 1-24 after enrolment, weighted by person-days,
    from the published (unsuppressed) cells only; suppressed when every week is withheld."""
    tab = run.table("steps_by_week_since_enrolment")
    if tab is None:
        return None
    sub = tab[(tab["dimension"] == "district") & (tab["level"].astype(str) == district) & (tab["metric"] == metric)
              & tab["week_since_enrolment"].between(1, 24)]
    if sub.empty:
        return None
    shown = sub[~sub["suppressed"].astype(bool) & sub["estimate"].notna()]
    prov = run.table_provenance("steps_by_week_since_enrolment")
    if shown.empty:
        return {"value": None, "unit": unit, "suppressed": True, "provenance": prov}
    w = shown["n_days"].astype(float)
    return {"value": float((shown["estimate"].astype(float) * w).sum() / w.sum()), "unit": unit, "provenance": prov}


RETENTION_WEEKS = 24


def _follow_up_weeks(run: RunData) -> int | None:
    """The longest follow-up in the run, in whole weeks since enrolment (None when no table says)."""
    for name in ("steps_by_week_since_enrolment", "retention"):
        tab = run.table(name)
        col = "week_since_enrolment" if tab is not None and "week_since_enrolment" in tab.columns else "week"
        if tab is not None and col in tab.columns and len(tab):
            return int(pd.to_numeric(tab[col], errors="coerce").max())
    return None


def _retention(run: RunData, lang: str) -> dict[str, Any] | None:
    """The 24-week retention entry; without a value it carries the reason in words (``reason``)."""
    entry = run.find("retention_24w")
    if entry is not None and (entry.get("value") is not None or entry.get("suppressed")):
        return entry
    weeks = _follow_up_weeks(run)
    if weeks is not None and weeks < RETENTION_WEEKS:
        reason = t("retention_short_period", lang).format(weeks=weeks)
    else:
        reason = t("retention_unavailable", lang)
    return dict(entry or {}, value=None, reason=reason)


def render_overview(run: RunData, lang: str, district: str | None) -> list[W.Widget]:
    if not _records_view.has_wearable(run):  # e.g. the mobile-healthcare programme: records and reported figures only
        return _records_view.render_overview(run, lang, district)
    seoul_only = t("seoul_only", lang) if district else ""
    if district:
        enrolled = _district_total(run, district)
        if enrolled is not None and enrolled.get("suppressed"):
            name = districts.names(lang)[district]
            return [panel(name, _withheld(t("district_suppressed", lang)))]
        avg = t("post_enrolment_avg", lang)
        cards = W.HBox([
            card(t("enrolled", lang), enrolled, lang=lang),
            card(t("valid_day_rate", lang), _district_metric(run, district, "valid_day_rate", "share"), unit="share", lang=lang, scope=avg),
            card(t("daily_steps", lang), _district_metric(run, district, "mean_steps", "steps/day"), lang=lang, scope=avg),
            card(t("goal_share", lang), _district_metric(run, district, "goal_share", "share"), unit="share", lang=lang, scope=avg),
            card(t("active_last_week", lang), run.find("participants_active_last_week"), lang=lang, scope=seoul_only),
            card(t("retention_24w", lang), _retention(run, lang), unit="share", lang=lang, scope=seoul_only),
        ], layout=W.Layout(flex_flow="row wrap"))
    else:
        cards = W.HBox([
            card(t("enrolled", lang), run.find("participants_enrolled"), lang=lang),
            card(t("active_last_week", lang), run.find("participants_active_last_week"), lang=lang),
            card(t("completed", lang), run.find("participants_completed"), lang=lang),
            card(t("valid_day_rate", lang), run.find("valid_day_rate"), unit="share", lang=lang),
            card(t("daily_steps", lang), run.find("mean_daily_steps"), lang=lang),
            card(t("goal_share", lang), run.find("goal_share"), unit="share", lang=lang),
            card(t("retention_24w", lang), _retention(run, lang), unit="share", lang=lang),
        ], layout=W.Layout(flex_flow="row wrap"))
    costs = W.HBox([
        card(t("cost_per_participant", lang), run.find("cost_per_participant_krw"), unit="KRW", lang=lang, scope=seoul_only),
        card(t("cost_per_completer", lang), run.find("cost_per_completer_krw"), unit="KRW", lang=lang, scope=seoul_only),
        card(t("cost_per_risk_reduced", lang), run.find("cost_per_risk_reduced_krw"), unit="KRW", lang=lang, scope=seoul_only),
    ], layout=W.Layout(flex_flow="row wrap"))
    effect = run.find("att_steps")
    if effect is not None:
        effect = dict(effect, label=t("att_steps_label", lang))
    verdict = _verdict(effect, lang, "higher")
    if district:
        verdict = W.VBox([verdict, W.HTML(f"<small>{html.escape(seoul_only)}</small>")])
    body = [cards, panel(t("headline_effect", lang), verdict), costs,
            panel(t("steps_by_week", lang), _steps_panel(run, lang, district))]
    goal = run.table("goal_share_by_week")
    if goal is not None and not district:
        body.append(panel(t("goal_share", lang), _lines(goal, "week", "arm", lang, ylabel=t("goal_share", lang),
                                                        title=t("goal_share", lang), percent=True)))
    body.append(W.HTML(glossary.panel_html(["valid_day", "ci", "suppressed"], lang)))
    return body


FLAG_COLOURS = {"better": "#2e7d32", "worse": "#c62828", "similar": "#9e9e9e",
                "far_better": "#81c784", "far_worse": "#e57373", "not_far": "#9e9e9e", "suppressed": "#e0e0e0"}
"""Tested flags in full colour; the SE-less "far from the others" flags in lighter shades (a different claim)."""


def _named_flags(sub: pd.DataFrame) -> pd.DataFrame:
    """Runs published before the flags were named apart carry better/worse/similar with flag_method
    "zscore": read those as the outlier flags they are, never as test results."""
    if "flag_method" not in sub.columns or "flag" not in sub.columns:
        return sub
    legacy = (sub["flag_method"] == "zscore") & sub["flag"].isin(["better", "worse", "similar"])
    if not legacy.any():
        return sub
    renamed = sub["flag"].map({"better": "far_better", "worse": "far_worse", "similar": "not_far"})
    return sub.assign(flag=sub["flag"].where(~legacy, renamed))


def _flag_label(flag: str, lang: str) -> str:
    from ..equity import flag_label

    return flag_label(str(flag), lang)


OFFICIAL = "official:"


def _indicator_choices(run: RunData, lang: str) -> list[tuple[str, str]]:
    from .. import equity  # noqa: F401  (registers the indicator names; imported lazily to keep other dashboards light)
    from ..reference import official_stats

    out: list[tuple[str, str]] = []
    official = run.table("official_profile")
    if official is not None:
        for ind in sorted(official["indicator"].unique()):
            out.append((f"{official_stats.label(ind, lang)} · {t('official', lang)}", OFFICIAL + ind))
    profile = run.table("district_profile")
    if profile is not None and "indicator" in profile.columns:
        kind = (run.table_provenance("district_profile") or {}).get("kind", "")
        tag = f" · {t(kind, lang)}" if kind in ("synthetic", "illustrative") else ""
        out += [(t(i, lang) + tag, i) for i in sorted(profile["indicator"].unique())]
    return out


def _html_table(df: pd.DataFrame, lang: str, footnote: str = "", units: dict[str, str] | None = None) -> W.HTML:
    return W.HTML(staff_table.to_html(df, lang, footnote=footnote, units=units))


def _source(run: RunData, table: str, lang: str) -> str:
    prov = run.table_provenance(table)
    return Provenance.coerce(prov).text(lang) if prov else ""


def _ranking(sub: pd.DataFrame, lang: str, district: str | None, label: str = "") -> W.Widget:
    name_col = "name_ko" if lang == "ko" else "name_en"
    df = sub.sort_values("rank")
    fig, ax = plt.subplots(figsize=(6.5, 6))
    flags = df["flag"].astype(str) if "flag" in df.columns else pd.Series("not_far", index=df.index)
    colours = [FLAG_COLOURS.get(f, "#9e9e9e") for f in flags]
    edge = ["black" if d == district else "none" for d in df["district"].astype(str)]
    ax.barh(df[name_col], df["value"], color=colours, edgecolor=edge, linewidth=2)
    if "seoul_average" in df.columns:
        ax.axvline(float(df["seoul_average"].iloc[0]), color="black", ls="--", lw=1)
    ax.invert_yaxis()
    ax.set_xlabel(label or t(str(df["indicator"].iloc[0]), lang))
    shown = [f for f in FLAG_COLOURS if f in set(flags)]  # only the kinds of flag this indicator has
    handles = [plt.Rectangle((0, 0), 1, 1, color=FLAG_COLOURS[f]) for f in shown]
    labels = [_flag_label(f, lang) for f in shown]
    if "seoul_average" in df.columns:
        handles.append(plt.Line2D([0], [0], color="black", ls="--", lw=1))
        labels.append(t("seoul_average", lang))
    # above the axes, outside the bars: a legend inside the plot covers the shortest bars
    ax.legend(handles, labels, fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.01),
              ncol=2 if len(handles) > 3 else max(len(handles), 1), frameon=False, borderaxespad=0.0)
    return figure(fig)


def render_districts(run: RunData, lang: str, district: str | None, choice: str | None = None) -> list[W.Widget]:
    from .. import equity
    from ..reference import official_stats

    body: list[W.Widget] = []
    official = bool(choice and choice.startswith(OFFICIAL))
    profile_name, measures_name = ("official_profile", "official_inequality") if official else ("district_profile", "inequality_measures")
    profile = run.table(profile_name)
    if profile is None and not _records_view.has_wearable(run):
        return _records_view.render_districts(run, lang, district, choice)
    if profile is None or choice is None:
        return [_missing(lang, t("dash_districts", lang))]
    indicator = choice[len(OFFICIAL):] if official else choice
    label = official_stats.label(indicator, lang) if official else t(indicator, lang)
    sub = profile[profile["indicator"] == indicator]
    year = int(sub["year"].max())
    sub = _named_flags(sub[sub["year"] == year])
    prov = run.table_provenance(profile_name)
    badge = Provenance.coerce(prov).badge(lang) if prov else ""
    source = _source(run, profile_name, lang)
    body.append(W.HTML(f"<div>{badge} <small>{html.escape(source)}</small></div>"))
    if prov and prov.get("kind") in ("synthetic", "illustrative"):
        from ..publish.provenance import EXPLAIN

        body.append(W.HTML(f"<div class='ev-caveat-block' style='color:#b71c1c;padding:6px 0'>{html.escape(EXPLAIN[prov['kind']][lang])}</div>"))
    title = f"{label} ({year})"
    # red for measures where lower is better (mortality), blue-green otherwise
    cmap = "YlOrRd" if official else "YlGnBu"
    fig = equity.tile_map(sub, "value", lang=lang, title=title, cmap=cmap, legend_label=label)
    body.append(W.HBox([figure(fig), _ranking(sub, lang, district, label)], layout=W.Layout(flex_flow="row wrap")))
    if district:
        row = sub[sub["district"].astype(str) == district][["name_ko" if lang == "ko" else "name_en", "value", "seoul_average", "difference", "rank", "flag"]]
        row = row.assign(flag=row["flag"].map(lambda f: _flag_label(f, lang)))
        body.append(_html_table(row, lang, footnote=source,
                                units={"value": "1dp", "seoul_average": "1dp", "difference": "1dp"}))
    measures = run.table(measures_name)
    shown = ["bgv", "bgsd", "sii", "rii", "aci", "difference", "ratio"]
    if measures is not None:
        m = measures[(measures["indicator"] == indicator) & measures["measure"].isin(shown)]
        if len(m):
            wide = m.assign(text=[
                f"{e:,.2f} ({lo:,.2f} ~ {hi:,.2f})" if np.isfinite(lo) else f"{e:,.2f}"
                for e, lo, hi in zip(m["estimate"], m["ci_low"].astype(float), m["ci_high"].astype(float))
            ]).pivot_table(index=["measure"], columns="year", values="text", aggfunc="first")
            wide.columns = [str(c) for c in wide.columns]
            wide = wide.reset_index()
            body.append(panel(t("inequality", lang) + " (95% CI)", [_html_table(wide, lang, footnote=_source(run, measures_name, lang)),
                                                                 W.HTML(glossary.panel_html([k for k in shown if k in set(m["measure"])], lang))]))
    if not official:
        gap = run.table("programme_gap_change")
        if gap is not None:
            g = gap[["dimension", "measure", "before", "after", "gap_change", "gap_change_ci_low", "gap_change_ci_high", "verdict"]].copy()
            body.append(panel(t("gap_change", lang), _html_table(g, lang, footnote=_source(run, "programme_gap_change", lang))))
        outcomes = run.table("district_outcomes")
        if outcomes is not None and "change" in outcomes.columns:
            fig = equity.tile_map(outcomes, "change", lang=lang, title=t("steps_change_by_district", lang), fmt="{:,.0f}")
            fig.text(0.01, 0.005, _source(run, "district_outcomes", lang), fontsize=7, color="#555")
            body.append(panel(t("steps_change_by_district", lang), figure(fig)))
    return body


def _ledger_chart(ledger: pd.DataFrame, lang: str) -> W.Widget:
    years = [c for c in ledger.columns if str(c).isdigit()]
    key = "category_en" if "category_en" in ledger.columns else "category"
    df = ledger.assign(_label=ledger[key].map(lambda c: glossary.value_name(str(c), lang) or str(c))).set_index("_label")[years] / 1e6
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    df.plot.barh(ax=ax)
    ax.set_xlabel(t("million_krw", lang))
    ax.set_ylabel("")
    # legends beside the axes, never over bars
    ax.legend(title=glossary.column("year", lang), fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.xaxis.set_major_formatter(thousands)
    return figure(fig)


def _execution_chart(ex: pd.DataFrame, lang: str) -> W.Widget:
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    wide = ex.pivot_table(index="year", columns="funding_source", values="execution_rate", aggfunc="mean")
    wide.rename(columns=lambda c: t(f"source_{c}", lang)).plot.bar(ax=ax)
    ax.legend(title=glossary.column("funding_source", lang), fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)
    ax.set_xlabel(glossary.column("year", lang))
    ax.axhline(0.7, color="#c62828", ls="--", lw=1)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel(t("execution_rate", lang))
    ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0%}")
    ax.tick_params(axis="x", rotation=0)
    return figure(fig)


def _ce_plane(plane: pd.DataFrame, lang: str, wtp: float) -> W.Widget:
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for r in plane.itertuples(index=False):
        ax.errorbar(r.inc_effect_mean, r.inc_cost_mean / 1e3,
                    xerr=[[r.inc_effect_mean - r.inc_effect_lo], [r.inc_effect_hi - r.inc_effect_mean]],
                    yerr=[[(r.inc_cost_mean - r.inc_cost_lo) / 1e3], [(r.inc_cost_hi - r.inc_cost_mean) / 1e3]],
                    fmt="o", capsize=3, label=t(str(r.strategy), lang))
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    xs = np.array(ax.get_xlim())
    ax.plot(xs, xs * wtp / 1e3, ls="--", color="grey", label=f"WTP {wtp / 1e6:,.0f}M")
    ax.set_xlabel(t("inc_qaly", lang))
    ax.set_ylabel(t("inc_cost_thousand", lang))
    ax.legend(fontsize=8)
    return figure(fig)


def _ceac_chart(ceac: pd.DataFrame, lang: str) -> W.Widget:
    if "source" in ceac.columns and (ceac["source"] == "bootstrap").any():
        ceac = ceac[ceac["source"] == "bootstrap"]
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for key, sub in ceac.groupby("strategy"):
        ax.plot(sub["wtp"] / 1e6, sub["prob"], label=t(str(key), lang))
    ax.set_xlabel(t("wtp", lang) + " (×10⁶)")
    ax.set_ylabel(t("prob_ce", lang))
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    return figure(fig)


def render_cost(run: RunData, lang: str, district: str | None) -> list[W.Widget]:
    quadrant = run.find("icer_quadrant")
    icer_entry = run.find("icer_krw_per_qaly")
    if icer_entry is not None and icer_entry.get("value") is None and quadrant:
        icer_entry = dict(icer_entry, value=t(f"quadrant_{quadrant['value']}", lang), unit="")
    if not _records_view.has_wearable(run):  # no economic model either: the reported figures' costs only
        return _records_view.render_cost(run, lang, _execution_chart)
    no_exec = {"value": t("no_execution_data", lang), "unit": "", "provenance": (run.find("budget_total_krw") or {}).get("provenance")}
    cards = W.HBox([
        card(t("budget_total", lang), run.find("budget_total_krw"), unit="KRW", lang=lang),
        card(t("execution_rate", lang), no_exec, lang=lang),
        card(t("cost_per_participant", lang), run.find("cost_per_participant_krw"), unit="KRW", lang=lang),
        card(t("cost_per_completer", lang), run.find("cost_per_completer_krw"), unit="KRW", lang=lang),
        card(t("cost_per_risk_reduced", lang), run.find("cost_per_risk_reduced_krw"), unit="KRW", lang=lang),
        card(t("icer", lang), icer_entry, unit="KRW", lang=lang),
        card(t("prob_ce", lang), run.find("prob_cost_effective_at_wtp"), unit="share", lang=lang),
    ], layout=W.Layout(flex_flow="row wrap"))
    body: list[W.Widget] = [cards]
    ledger = run.table("ledger_by_category")
    body.append(panel(t("ledger_by_category", lang), [_ledger_chart(ledger, lang), W.HTML(f"<small>{html.escape(_source(run, 'ledger_by_category', lang))}</small>")]
                      if ledger is not None else _missing(lang, t("ledger_by_category", lang))))
    other = []
    for name in ("execution_district_ict", "execution_foundation"):
        ex = run.table(name)
        if ex is not None:
            org = str(ex["organisation"].iloc[0]) if "organisation" in ex.columns and len(ex) else name
            other.append(panel(org, [_execution_chart(ex, lang), W.HTML(f"<small>{html.escape(_source(run, name, lang))}</small>")]))
    if other:
        body.append(panel(t("execution_other_org", lang), W.HBox(other, layout=W.Layout(flex_flow="row wrap"))))
    plane, ceac = run.table("ce_plane_sample"), run.table("ceac")
    wtp = float(plane["wtp"].iloc[0]) if plane is not None and "wtp" in plane.columns else 30e6
    charts = []
    if plane is not None:
        charts.append(panel(t("ce_plane", lang), [_ce_plane(plane, lang, wtp), W.HTML(f"<small>{html.escape(_source(run, 'ce_plane_sample', lang))}</small>")]))
    if ceac is not None:
        charts.append(panel(t("ceac", lang), [_ceac_chart(ceac, lang), W.HTML(f"<small>{html.escape(_source(run, 'ceac', lang))}</small>")]))
    body.append(W.HBox(charts, layout=W.Layout(flex_flow="row wrap")) if charts else _missing(lang, t("ceac", lang)))
    chronic = run.table("chronic_underexecution")
    if chronic is not None:
        cols = [c for c in ("item", "current_year", "n_years", "complete_window", "average_rate", "current_rate", "chronic_underexecution") if c in chronic.columns]
        body.append(panel(t("chronic_underexecution", lang), _html_table(chronic[cols], lang, footnote=_source(run, "chronic_underexecution", lang))))
    body.append(W.HTML(glossary.panel_html(["execution_rate", "icer", "qaly", "ceac", "evpi"], lang)))
    return body


def overview_app(lang: str = "ko", root: str | None = None) -> W.Widget:
    """The programme overview dashboard widget."""
    return DashboardApp({"ko": t("dash_overview", "ko"), "en": t("dash_overview", "en")}, render_overview,
                        with_district=True, lang=lang, root=root).widget


def districts_app(lang: str = "ko", root: str | None = None) -> W.Widget:
    """The districts and equity dashboard widget."""
    return DashboardApp({"ko": t("dash_districts", "ko"), "en": t("dash_districts", "en")}, render_districts,
                        with_district=True, choices=_indicator_choices, lang=lang, root=root).widget


def cost_app(lang: str = "ko", root: str | None = None) -> W.Widget:
    """The budget and cost dashboard widget."""
    return DashboardApp({"ko": t("dash_cost", "ko"), "en": t("dash_cost", "en")}, render_cost,
                        lang=lang, root=root).widget
