"""Dashboard panels for a programme without wearable minutes (e.g. the mobile-healthcare programme of seed 003).

Such a run has no step tables; what it has are KPIs from participant records, reported rates tested
against the national ones, and executed cost per person. Each view says in one line that there are no
wearable data and shows these instead, every number with its provenance badge.
"""
from __future__ import annotations

import html
from typing import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..publish import staff_table
from ..publish.i18n import register, t
from ..publish.provenance import Provenance
from ._app import card, figure, panel
from ._data import RunData

register({
    "no_wearable": {"ko": "이 사업에는 웨어러블 걸음 수·심박수 자료가 없습니다. 참여자 기록과 보고된 수치로 된 결과를 보여 드립니다.",
                    "en": "This programme has no wearable step or heart-rate data. Showing the results from participant records and reported figures."},
    "no_wearable_districts": {"ko": "이 사업에는 웨어러블 자료와 서울 자치구별 자료가 없어 자치구 지도를 그리지 않습니다. "
                                    "사업 현황과 예산·비용 대시보드에서 이 사업의 결과를 보십시오.",
                              "en": "This programme has no wearable data and no figures by Seoul district, so no district map is drawn. "
                                    "See the programme overview and the budget and cost dashboards for its results."},
    "no_district": {"ko": "이 사업에는 자치구별 자료가 없어 전체 값을 보여 드립니다.",
                    "en": "This programme has no figures by district; showing the programme as a whole."},
    "kpi_reported": {"ko": "보고된 성과 (근거 문서)", "en": "Reported results (seed document)"},
    "kpi_records": {"ko": "참여자 기록으로 계산한 성과", "en": "Results computed from participant records"},
    "kpi_vs_comparison": {"ko": "비교군 대비 차이 (95% 신뢰구간)", "en": "Difference from the comparison group (95% CI)"},
    "reported_behaviour": {"ko": "건강행태 개선율 (보고)", "en": "Behaviour improvement (reported)"},
    "reported_risk": {"ko": "건강위험요인 감소율 (보고)", "en": "Risk-factor reduction (reported)"},
    "records_behaviour": {"ko": "건강행태 개선율 (기록)", "en": "Behaviour improvement (records)"},
    "records_risk": {"ko": "건강위험요인 감소율 (기록)", "en": "Risk-factor reduction (records)"},
    "national_rate": {"ko": "전국", "en": "national"},
    "comparison_size": {"ko": "비교군 인원", "en": "Comparison group"},
    "no_model": {"ko": "이 사업에는 경제성 모형(ICER, 비용-효과 수용 곡선)이 없습니다. 근거 문서의 집행액으로 1인당 비용을 보여 드립니다.",
                 "en": "This programme has no economic model (ICER, acceptability curve). Showing cost per person from the executed amounts in the seed document."},
    "budget_secured": {"ko": "확보액 (예산)", "en": "Secured budget"},
    "cost_per_person_table": {"ko": "집행액 기준 1인당 비용 (재원별, 상한값)", "en": "Executed cost per person (by funding source, upper bound)"},
    "execution_own": {"ko": "이 사업의 예산 집행 (확보액 대비)", "en": "This programme's budget execution (against the secured amount)"},
    "rtm_note": {"ko": "보고된 비율은 위험군 등록자의 전후 비교라 평균으로의 회귀가 섞여 있습니다. 효과는 비교군 대비 차이로 보십시오.",
                 "en": "Reported rates are before/after shares among people enrolled at risk (regression to the mean); read the effect from the difference against the comparison group."},
})

CODES = {"participant": ("참여자", "participant"), "waiting_list": ("대기자 (비교군)", "waiting list (comparison)"),
         "comparison": ("비교군", "comparison"), "at_risk": ("건강위험군", "at health risk"),
         "chronic": ("만성질환자 (고혈압·당뇨)", "hypertension / diabetes")}
HEADERS = {"arm": ("구분", "Arm"), "group": ("대상", "Group"), "n": ("인원", "Persons")}
SOURCES = {"national": ("국비", "National"), "provincial": ("도비", "Provincial"), "city": ("시비", "City"),
           "district": ("구비", "District"), "other": ("기타", "Other"), "total": ("합계", "Total")}
DENOMINATORS = {"participants": ("참여자 1인당", "Per participant"),
                "behaviour_improved": ("건강행태 개선자 1인당", "Per person with behaviour improved"),
                "risk_reduced": ("위험요인 감소자 1인당", "Per person with a risk factor reduced")}


def has_wearable(run: RunData) -> bool:
    """True when the run carries step data from wearables (the smart-band programme's tables or headline)."""
    return run.has_table("steps_by_week") or run.find("mean_daily_steps") is not None


def notice(key: str, lang: str) -> W.HTML:
    return W.HTML(f"<div class='ev-no-wearable' style='padding:8px 14px;margin:4px;border-radius:8px;background:#eef3fb;"
                  f"color:#1f3b66'>{html.escape(t(key, lang))}</div>")


def _with_national(national: dict | None, lang: str) -> str:
    if not national or national.get("value") is None:
        return ""
    return f"{t('national_rate', lang)} {float(national['value']):.1%}"


def _rates_chart(run: RunData, lang: str) -> W.Widget | None:
    """Reported rates (primary denominators) and records' shares, each with its 95% CI, against the national rates."""
    rows = []
    for ind, rep, rec_key, nat in (("behaviour", "reported_behaviour_rate", "kpi_behaviour_improvement_share", "national_behaviour_rate"),
                                   ("risk", "reported_risk_rate", "kpi_risk_reduction_share", "national_risk_rate")):
        for key, kind in ((rep, "reported"), (rec_key, "records")):
            e = run.find(key)
            if e and e.get("value") is not None and e.get("ci") and None not in e["ci"]:
                n = run.find(nat)
                rows.append({"label": t(f"{kind}_{ind}", lang), "kind": kind,
                             "source": Provenance.coerce(e["provenance"]).label(lang) if e.get("provenance") else "", "value": float(e["value"]), "lo": float(e["ci"][0]),
                             "hi": float(e["ci"][1]), "national": float(n["value"]) if n and n.get("value") is not None else np.nan})
    if not rows:
        return None
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    x = np.arange(len(df))
    ax.bar(x, df["value"], color=["#1565c0" if k == "reported" else "#607d8b" for k in df["kind"]], alpha=0.85)
    ax.errorbar(x, df["value"], yerr=[df["value"] - df["lo"], df["hi"] - df["value"]], fmt="none", color="k", capsize=4)
    ax.scatter(x, df["national"], marker="D", color="#c62828", zorder=3, label=t("national_rate", lang))
    ax.set_xticks(x, df["label"], fontsize=8)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0%}")
    ax.legend(fontsize=8, loc="lower right")
    word = {"reported": ("보고", "reported"), "records": ("기록", "records")}
    kinds = {word[k][0 if lang == "ko" else 1]: src for k, src in zip(df["kind"], df["source"])}
    fig.text(0.01, -0.06, ("출처: " if lang == "ko" else "Sources: ") + " · ".join(f"{k} — {v}" for k, v in kinds.items()),
             fontsize=7, color="#555")
    return figure(fig)


def render_overview(run: RunData, lang: str, district: str | None) -> list[W.Widget]:
    """Overview of a run without wearable data: enrolment, reported and records KPIs, the comparison, cost cards."""
    body: list[W.Widget] = [notice("no_wearable", lang)]
    if district:
        body.append(notice("no_district", lang))
    body.append(W.HBox([
        card(t("enrolled", lang), run.find("participants_enrolled"), lang=lang),
        card(t("completed", lang), run.find("participants_completed"), lang=lang),
        card(t("retention_24w", lang), run.find("retention_24w"), unit="share", lang=lang),
        card(t("comparison_size", lang), run.find("comparison_group_size"), lang=lang),
    ], layout=W.Layout(flex_flow="row wrap")))
    reported = [card(t(k, lang), run.find(key), unit="share", lang=lang,
                     scope=_with_national(run.find(nat), lang))
                for k, key, nat in (("reported_behaviour", "reported_behaviour_rate", "national_behaviour_rate"),
                                    ("reported_risk", "reported_risk_rate", "national_risk_rate"))]
    records = [card(t(k, lang), run.find(key), unit="share", lang=lang,
                    scope=_with_national(run.find(nat), lang))
               for k, key, nat in (("records_behaviour", "kpi_behaviour_improvement_share", "national_behaviour_rate"),
                                   ("records_risk", "kpi_risk_reduction_share", "national_risk_rate"))]
    body.append(panel(t("kpi_reported", lang), [W.HBox(reported, layout=W.Layout(flex_flow="row wrap")),
                                                 W.HTML(f"<small>{html.escape(t('rtm_note', lang))}</small>")]))
    body.append(panel(t("kpi_records", lang), W.HBox(records, layout=W.Layout(flex_flow="row wrap"))))
    chart = _rates_chart(run, lang)
    if chart is not None:
        body.append(chart)
    diffs = [card(t(k, lang), _points(run.find(key)), unit="", lang=lang)
             for k, key in (("records_behaviour", "kpi_behaviour_improvement_difference"),
                            ("records_risk", "kpi_risk_reduction_difference")) if run.find(key)]
    if diffs:
        body.append(panel(t("kpi_vs_comparison", lang), W.HBox(diffs, layout=W.Layout(flex_flow="row wrap"))))
    costs = [card(t(k, lang), run.find(key), unit="KRW", lang=lang, scope=_label(run.find(key), lang))
             for k, key in (("cost_per_participant", "cost_per_participant_krw"), ("cost_per_risk_reduced", "cost_per_risk_reduced_krw"))
             if run.find(key) is not None]
    body.append(W.HBox(costs, layout=W.Layout(flex_flow="row wrap")))
    return body


def _points(entry: dict | None) -> dict | None:
    """A difference of shares as percentage points (+18.1%p) for a card."""
    if not entry or entry.get("value") is None:
        return entry
    out = dict(entry, value=f"{100 * float(entry['value']):+.1f}%p")
    if entry.get("ci") and None not in entry["ci"]:
        out["ci"] = None
        out["value"] += f" ({100 * float(entry['ci'][0]):+.1f} ~ {100 * float(entry['ci'][1]):+.1f})"
    return out


def render_districts(run: RunData, lang: str, district: str | None, choice: str | None = None) -> list[W.Widget]:
    """No district map without district data: say so, and show the records' group counts that exist."""
    body: list[W.Widget] = [notice("no_wearable_districts", lang)]
    groups = run.table("records_by_group")
    if groups is not None:
        prov = run.table_provenance("records_by_group")
        foot = Provenance.coerce(prov).text(lang) if prov else ""
        i = 0 if lang == "ko" else 1
        view = groups.drop(columns=["suppressed"], errors="ignore")
        for col in ("arm", "group"):
            if col in view.columns:
                view[col] = view[col].map(lambda c: CODES.get(str(c), (str(c), str(c)))[i])
        view = view.rename(columns={k: v[i] for k, v in HEADERS.items()})
        body.append(W.HTML(staff_table.to_html(view, lang, footnote=foot, units={HEADERS["n"][i]: "persons"})))
    return body


def render_cost(run: RunData, lang: str, execution_chart: Callable[[pd.DataFrame, str], W.Widget]) -> list[W.Widget]:
    """Budget and cost of a run without wearable data or an economic model: the cards it has, executed cost
    per person by period and funding source, and the programme's own execution by year and source."""
    entries = [("budget_secured", run.find("budget_total_krw"), "KRW"), ("execution_rate", run.find("execution_rate"), "share"),
               ("cost_per_participant", run.find("cost_per_participant_krw"), "KRW"),
               ("cost_per_risk_reduced", run.find("cost_per_risk_reduced_krw"), "KRW")]
    cards = [card(t(k, lang), e, unit=u, lang=lang, scope=_label(e, lang)) for k, e, u in entries if e is not None]
    body: list[W.Widget] = [notice("no_model", lang), W.HBox(cards, layout=W.Layout(flex_flow="row wrap"))]
    body += _cost_table(run, lang)
    own = run.table("execution_programme")
    if own is not None:
        prov = run.table_provenance("execution_programme")
        foot = Provenance.coerce(prov).text(lang) if prov else ""
        body.append(panel(t("execution_own", lang), [execution_chart(own, lang), W.HTML(f"<small>{html.escape(foot)}</small>")]))
    return body


def _label(entry: dict | None, lang: str) -> str:
    """The result's own label (it names the period and says "upper bound"), in the page's language."""
    if not entry:
        return ""
    return str(entry.get(f"label_{lang}") or entry.get("label") or "")


def _cost_table(run: RunData, lang: str) -> list[W.Widget]:
    out: list[W.Widget] = []
    per = run.table("cost_per_person")
    if per is not None:
        prov = run.table_provenance("cost_per_person")
        foot = Provenance.coerce(prov).text(lang) if prov else ""
        i = 0 if lang == "ko" else 1
        wide = per.pivot_table(index=["period", "funding_source"], columns="denominator", values="krw_per_person", sort=False)
        order = {s: j for j, s in enumerate(SOURCES)}  # national, provincial, city, district, other, total
        periods = {p: j for j, p in enumerate(dict.fromkeys(per["period"]))}
        wide = wide.reset_index().sort_values(["period", "funding_source"], key=lambda c: c.map(periods if c.name == "period" else order))
        wide["funding_source"] = wide["funding_source"].map(lambda s: SOURCES.get(s, (s, s))[i])
        wide = wide.rename(columns={**{k: v[i] for k, v in DENOMINATORS.items()},
                                    "period": "기간" if lang == "ko" else "Period",
                                    "funding_source": "재원" if lang == "ko" else "Funding source"})
        units = {v[i]: "KRW" for v in DENOMINATORS.values()}
        out.append(panel(t("cost_per_person_table", lang), W.HTML(staff_table.to_html(wide, lang, units=units, footnote=foot))))
    return out
