"""Korean and English labels for every headline number, and rounding by unit, applied when a run publishes ``results.json``.

Notebooks record raw numbers (``results/<notebook>.json`` keeps them unrounded);
the published ``results.json`` carries for each value ``label_ko`` and
``label_en`` and a value rounded to what its unit can mean: whole persons and
won, 4 decimals for shares, so ``1.19e-07 KRW/person`` of float noise reads 0.

A label the notebook gave (often more specific: it names the year or the
willingness-to-pay) wins in its own language; this catalogue supplies the other
language and every label a notebook left empty.
"""
from __future__ import annotations

import math
import re
from typing import Any

# key -> (Korean, English)
LABELS: dict[str, tuple[str, str]] = {
    # 10 cohort overview / 30 engagement
    "participants_enrolled": ("등록자 수", "Participants enrolled"),
    "participants_completed": ("완료자 수", "Participants who completed"),
    "participants_comparison": ("비교군 인원", "Comparison group size"),
    "participants_active_last_week": ("마지막 주 활동 참여자 수", "Participants active in the last week"),
    "completion_rate": ("완료율", "Completion rate"),
    "enrolled_share": ("등록자 비율", "Share of people enrolled"),
    "participants_with_data": ("자료가 있는 참여자 수", "Participants with data"),
    "participants_equity": ("형평성 분석 참여자 수", "Participants in the equity analysis"),
    "n_joiners": ("참여자 수 (효과 분석)", "Joiners in the effect analysis"),
    "n_comparison": ("비교군 인원 (효과 분석)", "Comparison group in the effect analysis"),
    "kpi_risk_reduction_share_comparison": ("위험요인 감소율 (비교군)", "Risk-factor reduction share (comparison group)"),
    "did_pretest_p_log": ("등록 전 추세 검정 p값 (로그 척도)", "Pre-trend test p-value (log scale)"),
    "retention_24w": ("24주 프로그램 유지율", "Programme retention at 24 weeks"),
    "valid_day_rate": ("유효 착용일 비율", "Valid wear-day rate"),
    "mean_daily_steps": ("일평균 걸음 수", "Mean daily steps"),
    "goal_share": ("목표 걸음 수 달성 비율", "Share of days reaching the step goal"),
    # 20 signal quality
    "rows_in": ("입력 행 수", "Rows read"),
    "rows_kept": ("유지된 행 수", "Rows kept"),
    "rows_quarantined": ("격리된 행 수 (사유 기록)", "Rows quarantined (with reasons)"),
    "participant_days": ("참여자-일 수", "Participant-days"),
    "share_valid_days": ("유효 착용일 비율", "Share of valid wear days"),
    "median_wear_minutes": ("하루 착용 시간 중앙값", "Median wear time per day"),
    "store_wear_minutes_mae": ("일별 저장소 착용 시간 오차 (분/일, 합성 정답 대비)",
                               "Daily store wear-time error (minutes/day, against synthetic truth)"),
    "nonwear_share": ("기록된 분 중 미착용 비율", "Share of recorded minutes not worn"),
    "nonwear_balanced_accuracy": ("미착용 판별 균형 정확도 (합성 정답 대비)",
                                  "Non-wear detection balanced accuracy (against synthetic truth)"),
    "flag_n_duplicate": ("중복 기록 분", "Duplicate minutes"),
    "flag_n_conflict": ("값이 충돌하는 분", "Minutes with conflicting values"),
    "flag_n_hr_implausible": ("비정상 심박수 분", "Minutes with implausible heart rate"),
    "flag_n_hr_stuck": ("고정된 심박수 분", "Minutes with stuck heart rate"),
    "flag_n_steps_implausible": ("비정상 걸음 수 분", "Minutes with implausible steps"),
    "flag_n_nonwear": ("미착용 분", "Non-wear minutes"),
    "flag_n_gap": ("동기화 누락 구간 분", "Minutes in sync gaps"),
    "flag_n_clock_offset": ("시계 오차 의심 분", "Minutes with a suspected clock offset"),
    # 40 effectiveness
    "kpi_risk_reduction_share": ("위험요인 개선율", "Risk-factor reduction share"),
    "kpi_behaviour_improvement_share": ("건강행태 개선율", "Health-behaviour improvement share"),
    "psm_n_unmatched": ("성향점수 매칭에서 짝을 찾지 못한 참여자", "Participants left unmatched by PSM"),
    "att_steps": ("참여 효과: 일평균 걸음 수 (이중차분)", "Programme effect on daily steps (staggered DiD)"),
    "did_simple_att": ("참여 효과: 걸음 수 변화율 (이중차분)", "Programme effect on steps, % change (staggered DiD)"),
    "did_twfe_steps": ("이원고정효과 추정치 (시차 도입 시 편향)", "Two-way fixed-effects estimate (biased under staggered timing)"),
    "e_value": ("E-값 (점추정치)", "E-value (point estimate)"),
    "e_value_ci": ("E-값 (신뢰구간 한계)", "E-value (CI limit nearest the null)"),
    # 50 costs
    "budget_total_krw": ("예산 총액", "Total budget"),
    "execution_rate": ("예산 집행률", "Budget execution rate"),
    "execution_rate_foundation_2021": ("재단 2021 집행률", "Foundation budget execution rate, 2021"),
    "cost_per_participant_krw": ("참여자 1인당 비용", "Cost per participant"),
    "cost_per_completer_krw": ("완료자 1인당 비용", "Cost per completer"),
    "cost_per_risk_reduced_krw": ("위험요인 감소자 1인당 비용", "Cost per participant with reduced risk factors"),
    "cost_per_1000_steps_krw": ("일 1,000보 증가 유지 1인당 비용", "Cost per person of 1,000 more daily steps sustained"),
    "icer_krw_per_qaly": ("증분비용효과비 (QALY당)", "Incremental cost-effectiveness ratio (per QALY)"),
    "icer_quadrant": ("비용-효과 사분면", "Cost-effectiveness quadrant"),
    "inc_qalys_per_participant": ("참여자 1인당 증분 QALY", "Incremental QALYs per participant"),
    "inc_cost_per_participant_krw": ("참여자 1인당 증분 비용", "Incremental cost per participant"),
    "prob_cost_effective_at_wtp": ("비용효과적일 확률 (지불의사액 기준)", "Probability cost-effective at the willingness to pay"),
    "prob_cost_effective_at_gdp": ("비용효과적일 확률 (1인당 GDP 기준)", "Probability cost-effective at GDP per capita"),
    "evpi_krw_per_person": ("완전정보의 기대가치 (1인당, 마르코프)", "Expected value of perfect information per person (Markov)"),
    "evpi_bootstrap_krw_per_person": ("완전정보의 기대가치 (1인당, 부트스트랩)",
                                      "Expected value of perfect information per person (bootstrap)"),
    "band_supply_share": ("예산 중 스마트밴드 보급 비중", "Share of the budget for band supply"),
    "wtp_krw_per_qaly": ("지불의사 한계값 (QALY당, 참고값)", "Willingness-to-pay threshold per QALY (reference)"),
    "gdp_per_capita_krw": ("1인당 GDP 기준 (참고값)", "GDP per capita (reference)"),
    "steps_gain_prepost": ("등록 후 일평균 걸음 수 증가 (단순 비교)", "Additional daily steps after enrolment (simple comparison)"),
    "steps_gain_did": ("일평균 걸음 수 증가 (효과 분석의 이중차분)", "Additional daily steps (staggered DiD of the effects notebook)"),
    # the sample's counts and shares as the cost notebook publishes them (evaluation.costs._sample)
    "sample_treated": ("표본 등록자 수", "Enrolled people in the sample"),
    "sample_comparison": ("표본 비교군 수", "Comparison people in the sample"),
    "sample_share_active": ("12주 이후 활동 비율 (표본 등록자)", "Share still active after week 12 (sample joiners)"),
    "sample_share_completed": ("24주 완료 비율 (표본 등록자)", "Share completing 24 weeks (sample joiners)"),
    "sample_risk_reduced_treated": ("위험요인 감소 비율 (표본 등록자)", "Share with a risk factor reduced (joiners)"),
    "sample_risk_reduced_comparison": ("위험요인 감소 비율 (표본 비교군)", "Share with a risk factor reduced (comparison)"),
    "sample_mets_baseline_treated": ("등록 시 대사증후군 비율 (표본 등록자)", "Share with MetS at baseline (joiners)"),
    "sample_resolved_treated": ("24주 대사증후군 해소 비율 (등록자 중 등록 시 대사증후군)",
                                "MetS resolved by week 24 (joiners with MetS at baseline)"),
    "sample_resolved_comparison": ("24주 대사증후군 해소 비율 (비교군 중 등록 시 대사증후군)",
                                   "MetS resolved by week 24 (comparison with MetS at baseline)"),
    # 70 / 71 mobile healthcare (seed 003)
    "reported_behaviour_rate": ("보고된 건강행태 개선율", "Reported health-behaviour improvement rate"),
    "reported_risk_rate": ("보고된 건강위험요인 감소율", "Reported risk-factor reduction rate"),
    "national_behaviour_rate": ("전국 건강행태 개선율", "National health-behaviour improvement rate"),
    "national_risk_rate": ("전국 건강위험요인 감소율", "National risk-factor reduction rate"),
    "reported_behaviour_pvalue": ("건강행태 개선율: 전국 비율과의 점수 검정 p값", "Behaviour improvement vs national: score-test p"),
    "reported_risk_pvalue": ("건강위험요인 감소율: 전국 비율과의 점수 검정 p값", "Risk-factor reduction vs national: score-test p"),
    "reported_behaviour_n_needed": ("건강행태 개선율: 유의하려면 필요한 최소 분모", "Behaviour improvement: denominator needed for p < 0.05"),
    "reported_risk_n_needed": ("건강위험요인 감소율: 유의하려면 필요한 최소 분모", "Risk-factor reduction: denominator needed for p < 0.05"),
    "executed_platform_2023_krw": ("건강생활실천 플랫폼 집행액 (2023)", "Healthy-living platform, executed (2023)"),
    "executed_platform_2022h2_2023_krw": ("건강생활실천 플랫폼 집행액 (2022.7-2023)", "Healthy-living platform, executed (Jul 2022-2023)"),
    "executed_platform_2022h2_2024_krw": ("건강생활실천 플랫폼 집행액 (2022.7-2024)", "Healthy-living platform, executed (Jul 2022-2024)"),
    "cost_per_participant_2023_krw": ("참여자 1인당 집행액 (2023, 상한값)", "Executed cost per participant (2023, upper bound)"),
    "cost_per_participant_2022h2_2023_krw": ("참여자 1인당 집행액 (2022.7-2023, 상한값)", "Executed cost per participant (Jul 2022-2023, upper bound)"),
    "cost_per_participant_2022h2_2024_krw": ("참여자 1인당 집행액 (2022.7-2024, 상한값)", "Executed cost per participant (Jul 2022-2024, upper bound)"),
    "cost_per_behaviour_improved_2023_krw": ("건강행태 개선자 1인당 집행액 (2023, 상한값)", "Executed cost per person with behaviour improved (2023, upper bound)"),
    "cost_per_behaviour_improved_2022h2_2023_krw": ("건강행태 개선자 1인당 집행액 (2022.7-2023, 상한값)", "Executed cost per person with behaviour improved (Jul 2022-2023, upper bound)"),
    "cost_per_behaviour_improved_2022h2_2024_krw": ("건강행태 개선자 1인당 집행액 (2022.7-2024, 상한값)", "Executed cost per person with behaviour improved (Jul 2022-2024, upper bound)"),
    "cost_per_risk_reduced_2023_krw": ("위험요인 감소자 1인당 집행액 (2023, 상한값)", "Executed cost per person with a risk factor reduced (2023, upper bound)"),
    "cost_per_risk_reduced_2022h2_2023_krw": ("위험요인 감소자 1인당 집행액 (2022.7-2023, 상한값)", "Executed cost per person with a risk factor reduced (Jul 2022-2023, upper bound)"),
    "cost_per_risk_reduced_2022h2_2024_krw": ("위험요인 감소자 1인당 집행액 (2022.7-2024, 상한값)", "Executed cost per person with a risk factor reduced (Jul 2022-2024, upper bound)"),
    "comparison_group_size": ("비교군 인원 (대기자·검진 후 미참여자)", "Comparison group size (waiting list / screened non-participants)"),
    "kpi_behaviour_improvement_pvalue": ("건강행태 개선율: 전국 비율과의 점수 검정 p값 (기록)", "Behaviour improvement vs national: score-test p (records)"),
    "kpi_risk_reduction_pvalue": ("건강위험요인 감소율: 전국 비율과의 점수 검정 p값 (기록)", "Risk-factor reduction vs national: score-test p (records)"),
    "kpi_behaviour_improvement_difference": ("건강행태 개선율: 참여자 − 비교군", "Behaviour improvement: participants minus comparison"),
    "kpi_risk_reduction_difference": ("건강위험요인 감소율: 참여자 − 비교군", "Risk-factor reduction: participants minus comparison"),
    "cost_per_behaviour_improvement_beyond_comparison_krw": ("비교군 대비 추가 건강행태 개선자 1인당 집행액 (상한값)",
                                                             "Executed cost per extra person with behaviour improved vs comparison (upper bound)"),
    "cost_per_risk_reduction_beyond_comparison_krw": ("비교군 대비 추가 위험요인 감소자 1인당 집행액 (상한값)",
                                                      "Executed cost per extra person with a risk factor reduced vs comparison (upper bound)"),
    # 60 equity
    "bgv": ("자치구 간 분산 (BGV)", "Between-group variance (BGV)"),
    "bgsd": ("자치구 간 표준편차 (BGSD)", "Between-group standard deviation (BGSD)"),
    "sii": ("불평등 기울기 지수 (SII)", "Slope index of inequality (SII)"),
    "rii": ("상대 불평등 지수 (RII)", "Relative index of inequality (RII)"),
}

_OUTCOMES = {
    "sbp": ("수축기 혈압", "systolic blood pressure"), "dbp": ("이완기 혈압", "diastolic blood pressure"),
    "waist": ("허리둘레", "waist circumference"), "glucose": ("공복혈당", "fasting glucose"),
    "tg": ("중성지방", "triglycerides"), "hdl": ("HDL 콜레스테롤", "HDL cholesterol"),
    "bmi": ("체질량지수", "body-mass index"), "steps": ("일평균 걸음 수", "daily steps"),
}
_DIMENSIONS = {"district": ("자치구", "district"), "income": ("소득", "income"), "age_band": ("연령대", "age band"),
               "sex": ("성별", "sex"), "deprivation": ("박탈", "deprivation")}
_MEASURES = {"bgsd": "BGSD", "bgv": "BGV", "sii": "SII", "rii": "RII", "aci": "ACI", "rci": "RCI"}


def _pattern_label(key: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"att_(?P<o>[a-z0-9]+?)(?P<psm>_psm)?", key)
    if m and m["o"] in _OUTCOMES:
        ko, en = _OUTCOMES[m["o"]]
        how = "PSM" if m["psm"] else "IPW"
        return f"참여 효과: {ko} ({how})", f"Programme effect on {en} ({how})"
    m = re.fullmatch(r"gap_change_(?P<d>[a-z_]+?)_(?P<m>[a-z]+)", key)
    if m:
        ko, en = _DIMENSIONS.get(m["d"], (m["d"], m["d"].replace("_", " ")))
        measure = _MEASURES.get(m["m"], m["m"].upper())
        return f"{ko} 간 격차 변화 ({measure}, 사후-사전)", f"Change in the {en} gap ({measure}, after - before)"
    m = re.fullmatch(r"flag_n_(?P<f>[a-z_]+)", key)
    if m:
        return f"플래그된 분: {m['f']}", f"Flagged minutes: {m['f'].replace('_', ' ')}"
    return None


_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def labels_for(key: str, given: str = "") -> tuple[str, str]:
    """(Korean, English) label of a result ``key``; ``given`` (the notebook's label) wins in its own language."""
    ko, en = LABELS.get(key) or _pattern_label(key) or ("", "")
    if given:
        if _HANGUL.search(given):
            ko = given
        else:
            en = given
    fallback = key.replace("_", " ")
    return ko or en or fallback, en or fallback


# unit -> decimals kept; matched on the lower-cased unit, first match wins
_DECIMALS: tuple[tuple[str, int], ...] = (
    (r"^krw", 0),                                   # whole won
    (r"^(persons?|rows|person-days|participants|minutes|days|count)$", 0),
    (r"share|proportion|probability|rate", 4),
    (r"^qaly", 5),
    (r"^%p?$", 2),
    (r"^\(%p\)\^2$", 3),
    (r"^(steps/day|minutes/day|steps)$", 1),
    (r"^(mmhg|cm|kg|mg/dl|kg/m2)$", 2),
    (r"risk ratio|ratio", 3),
)
SIGNIFICANT_DIGITS = 6  # units not listed: enough for any reading, no float noise


def decimals_for(unit: str) -> int | None:
    """Decimals kept for ``unit`` (None: round to :data:`SIGNIFICANT_DIGITS` significant digits)."""
    u = (unit or "").strip().lower()
    for pattern, places in _DECIMALS:
        if re.search(pattern, u):
            return places
    return None


def round_value(value: Any, unit: str) -> Any:
    """``value`` rounded by its unit; ints, strings, None and non-finite numbers pass through."""
    if isinstance(value, bool) or not isinstance(value, float) or not math.isfinite(value):
        if isinstance(value, list):
            return [round_value(v, unit) for v in value]
        return value
    places = decimals_for(unit)
    if places is None:
        if value == 0:
            return 0.0
        places = SIGNIFICANT_DIGITS - 1 - int(math.floor(math.log10(abs(value))))
    rounded = round(value, places)
    if places <= 0:
        return int(rounded)
    return rounded + 0.0  # -0.0 -> 0.0


def publish_entry(key: str, entry: dict[str, Any], lang: str = "ko") -> dict[str, Any]:
    """A ``results.json`` entry: value and CI rounded by unit, ``label_ko`` / ``label_en`` filled, ``label`` in ``lang``."""
    if not isinstance(entry, dict) or "value" not in entry:
        return entry
    out = dict(entry)
    unit = str(entry.get("unit") or "")
    out["value"] = round_value(entry.get("value"), unit)
    if isinstance(entry.get("ci"), (list, tuple)):
        out["ci"] = [round_value(v, unit) for v in entry["ci"]]
    ko, en = labels_for(key, str(entry.get("label") or ""))
    out["label"] = entry.get("label") or (ko if lang == "ko" else en)
    out["label_ko"], out["label_en"] = ko, en
    return out


def publish_results(results: dict[str, dict[str, Any]], lang: str = "ko") -> dict[str, dict[str, Any]]:
    """The merged results of a run (notebook -> key -> entry), labelled and rounded for ``results.json``."""
    return {nb: {k: publish_entry(k, e, lang) for k, e in (entries or {}).items()} if isinstance(entries, dict) else entries
            for nb, entries in results.items()}
