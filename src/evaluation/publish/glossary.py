"""Plain-language names and one-line explanations of every measure and column staff see (Korean, English).

Dashboards show these as a glossary panel and as column headers; reports use the same wording, so a
measure is explained the same way everywhere. Registered into :mod:`evaluation.publish.i18n` on import.
"""
from __future__ import annotations

import html

from .i18n import register, t

# key -> (Korean label, Korean explanation, English label, English explanation)
TERMS: dict[str, tuple[str, str, str, str]] = {
    "bgv": ("자치구 간 분산 (BGV)", "자치구 값이 서울 평균에서 얼마나 흩어져 있는지(인구 가중 분산). 0이면 차이가 없습니다.",
            "Between-group variance (BGV)", "How far district values spread around the Seoul average (population-weighted variance); 0 = no difference."),
    "bgsd": ("자치구 간 표준편차 (BGSD)", "BGV의 제곱근으로, 지표와 같은 단위로 본 자치구 간 흩어짐입니다.",
             "Between-group standard deviation (BGSD)", "Square root of BGV: the spread between districts in the indicator's own unit."),
    "sii": ("기울기 불평등 지수 (SII)", "가장 불리한 자치구에서 가장 유리한 자치구로 갈 때 지표가 변하는 절대 크기입니다.",
            "Slope index of inequality (SII)", "Absolute change in the indicator from the most to the least disadvantaged district."),
    "rii": ("상대 불평등 지수 (RII)", "가장 유리한 쪽 값이 가장 불리한 쪽 값의 몇 배인지입니다. 1이면 차이가 없습니다.",
            "Relative index of inequality (RII)", "Ratio of the value at the most to the least advantaged end; 1 = no difference."),
    "aci": ("절대 집중지수 (ACI)", "지표가 유리한 자치구 쪽에 몰려 있으면 양수, 불리한 쪽에 몰려 있으면 음수입니다.",
            "Absolute concentration index (ACI)", "Positive when the indicator concentrates in advantaged districts, negative in disadvantaged ones."),
    "rci": ("상대 집중지수 (RCI)", "ACI를 평균으로 나눈 값입니다.", "Relative concentration index (RCI)", "ACI divided by the mean."),
    "difference": ("차이 (D)", "가장 좋은 자치구와 가장 나쁜 자치구의 차이입니다.", "Difference (D)", "Best minus worst district."),
    "ratio": ("비 (R)", "가장 좋은 자치구 값을 가장 나쁜 자치구 값으로 나눈 비입니다.", "Ratio (R)", "Best district divided by worst district."),
    "theil": ("타일 지수 (TI)", "인구 비중을 고려한 불평등 지수로, 0이면 완전히 평등합니다.", "Theil index (TI)", "Population-weighted inequality; 0 = perfect equality."),
    "mld": ("평균 로그 편차 (MLD)", "인구 비중을 고려한 불평등 지수로, 0이면 완전히 평등합니다.", "Mean log deviation (MLD)", "Population-weighted inequality; 0 = perfect equality."),
    "par": ("인구 기여 위험 (PAR)", "모든 자치구가 가장 좋은 자치구 수준이 되면 서울 평균이 얼마나 좋아지는지입니다.",
            "Population attributable risk (PAR)", "How much the Seoul average would improve if every district reached the best district."),
    "paf": ("인구 기여 분율 (PAF, %)", "PAR을 서울 평균에 대한 비율로 나타낸 값입니다.", "Population attributable fraction (PAF, %)", "PAR as a percentage of the Seoul average."),
    "icer": ("점증적 비용-효과비 (ICER)", "건강 1단위(QALY)를 더 얻는 데 드는 추가 비용입니다.", "Incremental cost-effectiveness ratio (ICER)", "Extra cost per extra unit of health (QALY)."),
    "qaly": ("질보정수명 (QALY)", "삶의 질로 보정한 생존 연수입니다. 완전한 건강 1년 = 1 QALY.", "Quality-adjusted life year (QALY)", "Years of life weighted by quality of life; one year in full health = 1."),
    "ceac": ("비용-효과 수용 곡선", "지불의사 금액별로 각 대안이 가장 비용-효과적일 확률입니다.", "Cost-effectiveness acceptability curve", "Probability that each option is the most cost-effective, by willingness to pay."),
    "evpi": ("완전정보의 기대가치 (EVPI)", "불확실성을 모두 없앨 경우 기대되는 1인당 이득으로, 추가 연구의 가치 상한입니다.",
             "Expected value of perfect information (EVPI)", "Expected gain per person from removing all uncertainty: an upper bound on the value of more research."),
    "execution_rate": ("예산 집행률", "집행액 ÷ 예산(확보)액. 집행액이 공개된 연도만 계산합니다.", "Budget execution rate", "Executed ÷ budgeted amount, only for years with a published executed amount."),
    "valid_day": ("유효 착용일", "밴드를 10시간 이상 착용한 날입니다.", "Valid wear day", "A day with at least 10 hours of wear."),
    "ci": ("95% 신뢰구간", "같은 조사를 반복하면 95%의 경우 참값을 포함하는 범위입니다.", "95% confidence interval", "A range that would contain the true value in 95% of repeated studies."),
    "suppressed": ("비공개", "인원이 적은 칸의 값은 개인 식별을 막기 위해 가립니다. 가려진 칸이 몇 명인지는 말하지 않습니다.", "Withheld", "Values of cells with few people are withheld to protect individuals; how many people a withheld cell holds is not said."),
}

COLUMNS: dict[str, tuple[str, str]] = {
    "name_ko": ("자치구", "District"), "name_en": ("자치구", "District"), "district": ("자치구", "District"),
    "value": ("값", "Value"), "se": ("표준오차", "Standard error"), "seoul_average": ("서울 평균", "Seoul average"),
    "difference": ("서울 평균과 차이", "Difference from Seoul"), "rank": ("순위", "Rank"), "n_ranked": ("순위 대상 수", "Districts ranked"),
    "flag": ("판정", "Assessment"), "dimension": ("비교 기준", "Compared across"), "measure": ("지표", "Measure"),
    "estimate": ("추정값", "Estimate"), "ci_low": ("95% 신뢰구간 하한", "95% CI low"), "ci_high": ("95% 신뢰구간 상한", "95% CI high"),
    "before": ("사업 전", "Before"), "after": ("사업 후", "After"), "gap_change": ("격차 변화", "Gap change"),
    "gap_change_ci_low": ("격차 변화 하한", "Gap change CI low"), "gap_change_ci_high": ("격차 변화 상한", "Gap change CI high"),
    "verdict": ("판정", "Verdict"), "funding_source": ("재원", "Funding source"), "category": ("비목", "Category"),
    "category_en": ("비목", "Category"), "item": ("항목", "Item"), "year": ("연도", "Year"), "programme": ("사업", "Programme"),
    "planned_krw": ("예산액 (원)", "Budget (KRW)"), "executed_krw": ("집행액 (원)", "Executed (KRW)"),
    "unused_krw": ("불용액 (원)", "Unused (KRW)"), "execution_rate": ("집행률", "Execution rate"),
    "average_rate": ("기간 평균 집행률", "Average rate over the window"), "current_rate": ("당해 집행률", "Current-year rate"),
    "complete_window": ("4년 자료 있음", "Four years of data"), "chronic_underexecution": ("만성 저집행", "Chronic under-execution"),
    "n": ("인원", "Persons"), "organisation": ("기관", "Organisation"), "strategy": ("대안", "Option"),
    "change_krw": ("증감 (원)", "Change (KRW)"), "n_items": ("항목 수", "Items"),
    "n_items_without_execution": ("집행액 없는 항목 수", "Items without an executed amount"),
    "planned_without_execution_krw": ("집행액 없는 예산 (원)", "Budget without an executed amount (KRW)"),
    "current_year": ("당해 연도", "Current year"), "n_years": ("집행 자료 연수", "Years with execution data"),
    "participants": ("참여자 수", "Participants"), "enrolled": ("등록자 수", "Enrolled"), "week": ("주차", "Week"),
    "arm": ("참여 유형", "Arm"), "sex": ("성별", "Sex"), "age_band": ("연령대", "Age band"), "share": ("비율", "Share"),
    "parameter": ("입력값", "Input"), "swing": ("결과 변동 폭", "Swing in the result"), "cost": ("비용 (원)", "Cost (KRW)"),
    "qalys": ("QALY", "QALYs"), "life_years": ("생존 연수", "Life years"), "icer": ("ICER (원/QALY)", "ICER (KRW/QALY)"),
    "status": ("상태", "Status"), "pvalue": ("p값", "p-value"),
    # effect estimates (effects.*.summary(), KPI, balance and sensitivity tables in the reports)
    "indicator": ("지표", "Indicator"), "count": ("해당 인원", "Persons meeting it"),
    "benchmark": ("전국 기준값", "National benchmark"), "z": ("z 값", "z"),
    "n_undetermined": ("판정 불가 인원 (결측)", "Undetermined (missing measures)"), "test": ("검정 방법", "Test"),
    "group": ("집단", "Group"), "label": ("항목", "Item"), "method": ("방법", "Method"),
    "n_dropped": ("제외 인원 (결측)", "Dropped (missing values)"), "estimand": ("추정 대상", "Estimand"),
    "ess_treated": ("유효표본 (참여자)", "Effective sample (joiners)"),
    "ess_control": ("유효표본 (비교군)", "Effective sample (comparison)"),
    "n_unmatched": ("짝 없는 참여자", "Unmatched joiners"), "covariate": ("공변량", "Covariate"),
    "type": ("유형", "Type"), "mean_treated": ("평균 (참여자)", "Mean (joiners)"),
    "mean_control": ("평균 (비교군)", "Mean (comparison)"), "smd_before": ("SMD 보정 전", "SMD before"),
    "vr_before": ("분산비 보정 전", "Variance ratio before"), "mean_treated_adj": ("보정 평균 (참여자)", "Adjusted mean (joiners)"),
    "mean_control_adj": ("보정 평균 (비교군)", "Adjusted mean (comparison)"), "smd_after": ("SMD 보정 후", "SMD after"),
    "vr_after": ("분산비 보정 후", "Variance ratio after"), "balanced": ("균형", "Balanced"),
    "estimator": ("추정 방법", "Estimator"), "control_group": ("비교 대상", "Controls"),
    "est_method": ("추정식", "Estimation"), "pretest_p": ("사전추세 검정 p값", "Pre-trend test p"),
    "checks_failed": ("경고 수", "Warnings"), "scale": ("척도", "Scale"), "kind": ("종류", "Kind"),
    "risk_ratio": ("위험비", "Risk ratio"), "e_value": ("E-value", "E-value"),
    "e_value_ci": ("E-value (신뢰구간)", "E-value (CI limit)"), "n_treated": ("참여군 수", "Joiners"),
    "n_control": ("비교군 수", "Comparison"), "coef": ("계수", "Coefficient"), "term": ("항", "Term"),
    "n_days": ("인-일 수", "Person-days"), "mean_steps": ("일평균 걸음 수", "Mean daily steps"),
    # engagement and retention (notebook 30)
    "active": ("활동 참여자", "Active"), "active_share": ("활동 참여자 비율", "Share active"),
    "share_active": ("관찰 중 활동 비율", "Share of those observed who were active"),
    "adherence": ("주당 유효 착용일", "Valid days per week"), "adherence_ci_low": ("착용일 95% 신뢰구간 하한", "Valid days 95% CI low"),
    "adherence_ci_high": ("착용일 95% 신뢰구간 상한", "Valid days 95% CI high"), "at_risk": ("관찰 중 인원", "At risk"),
    "events": ("이탈", "Dropouts"), "survival": ("유지율", "Retention"), "week_from": ("시작 주차", "From week"),
    "cumulative": ("누적 등록자", "Cumulative enrolled"), "cumulative_suppressed": ("누적 비공개", "Cumulative withheld"),
    "enrolled_suppressed": ("등록자 비공개", "Enrolled withheld"), "period": ("기간", "Period"), "unit": ("단위", "Unit"),
    "rows": ("행 수", "Rows"),
    # cleaning flags (notebook 20, minutes per flag)
    "n_duplicate": ("중복 기록 분", "Duplicate minutes"), "n_conflict": ("값 충돌 분", "Conflicting minutes"),
    "n_hr_implausible": ("비정상 심박수 분", "Implausible heart-rate minutes"), "n_hr_stuck": ("고정 심박수 분", "Stuck heart-rate minutes"),
    "n_steps_implausible": ("비정상 걸음 수 분", "Implausible step minutes"), "n_nonwear": ("미착용 분", "Non-wear minutes"),
    "n_gap": ("동기화 누락 분", "Sync-gap minutes"), "n_clock_offset": ("시계 오차 의심 분", "Clock-offset minutes"),
    # cost-effectiveness (notebook 50)
    "cost_undiscounted": ("비용 (할인 전, 원)", "Cost, undiscounted (KRW)"), "life_years_undiscounted": ("생존 연수 (할인 전)", "Life years, undiscounted"),
    "qalys_undiscounted": ("QALY (할인 전)", "QALYs, undiscounted"), "inc_cost": ("증분 비용 (원)", "Incremental cost (KRW)"),
    "inc_effect": ("증분 효과", "Incremental effect"), "dominated_by": ("열등 비교 대상", "Dominated by"),
    "inc_cost_mean": ("증분 비용 평균 (원)", "Incremental cost, mean (KRW)"), "inc_cost_lo": ("증분 비용 하한 (원)", "Incremental cost, low (KRW)"),
    "inc_cost_hi": ("증분 비용 상한 (원)", "Incremental cost, high (KRW)"), "inc_effect_mean": ("증분 효과 평균", "Incremental effect, mean"),
    "inc_effect_lo": ("증분 효과 하한", "Incremental effect, low"), "inc_effect_hi": ("증분 효과 상한", "Incremental effect, high"),
    "cost_lo": ("비용 하한 (원)", "Cost, low (KRW)"), "cost_hi": ("비용 상한 (원)", "Cost, high (KRW)"),
    "effect": ("효과", "Effect"), "effect_lo": ("효과 하한", "Effect, low"), "effect_hi": ("효과 상한", "Effect, high"),
    "base_input": ("기준 입력값", "Base input"), "low_input": ("낮은 입력값", "Low input"), "high_input": ("높은 입력값", "High input"),
    "outcome_low": ("결과 (낮은 입력)", "Result at the low input"), "outcome_high": ("결과 (높은 입력)", "Result at the high input"),
    "denominator": ("분모", "Denominator"), "denominator_unit": ("분모 단위", "Denominator unit"),
    "krw_per_unit": ("단위당 비용 (원)", "Cost per unit (KRW)"), "icer_of_means": ("평균값으로 본 ICER (원/QALY)", "ICER of the means (KRW/QALY)"),
    "n_samples": ("표본 수", "Samples"), "wtp": ("지불의사 (원/QALY)", "Willingness to pay (KRW/QALY)"),
    "p_cost_effective_at_wtp": ("비용-효과적일 확률", "Probability cost-effective"),
    "p_ne": ("비용 증가·효과 증가 확률", "P(costlier, more effective)"), "p_sw": ("비용 감소·효과 감소 확률", "P(cheaper, less effective)"),
    "p_se_dominant": ("우월 확률 (비용 감소·효과 증가)", "P(dominant)"), "p_nw_dominated": ("열등 확률 (비용 증가·효과 감소)", "P(dominated)"),
    "reference": ("기준 대안", "Reference"),
    # district tables (notebook 60)
    "ci_method": ("신뢰구간 방법", "CI method"), "domain": ("영역", "Domain"), "population": ("인구", "Population"),
    "source": ("출처", "Source"),
}

VALUES: dict[str, tuple[str, str]] = {
    # funding sources
    "national": ("국비", "National"), "provincial": ("도비", "Provincial"), "city": ("시비", "City"),
    "other": ("기타", "Other"),
    # budget categories of the smart-band ledger (seed 002)
    "public_operations": ("공공운영비", "Public operations"), "other_compensation": ("기타보상금", "Other compensation (band supply)"),
    "office_management": ("사무관리비", "Office management"), "research_services": ("연구용역비", "Research services"),
    "asset_acquisition": ("자산및물품취득비", "Asset acquisition"), "it_development": ("전산개발비", "IT development"),
    # programmes and organisations of the ledgers
    "smartband_9988": ("손목닥터 9988", "Smart band 9988"),
    "ilsandong_ict_smart_health": ("일산동구보건소 ICT 건강생활실천", "Ilsandong-gu health centre ICT platform"),
    "seoul_public_health_foundation": ("서울시공공보건의료재단", "Seoul Public Health Foundation"),
    # KPI indicators (effects.kpis) and their groups
    "eligible_at_baseline": ("등록 시 위험요인 보유", "At risk at enrolment"),
    "risk_reduction": ("위험요인 개선", "Risk factor reduced"),
    "behaviour_improvement": ("건강행태 개선", "Behaviour improved"),
    "completion": ("사업 완료", "Completed"), "dropout": ("중도 탈락", "Dropped out"),
    "joiners": ("참여자", "Joiners"),
    # effect methods and covariates
    "ipw": ("역확률 가중 (IPW)", "Inverse probability weighting (IPW)"), "psm": ("성향점수 매칭 (PSM)", "Propensity-score matching (PSM)"),
    "aipw": ("이중 강건 (AIPW)", "Doubly robust (AIPW)"), "continuous": ("연속형", "Continuous"), "binary": ("이분형", "Binary"),
    "age": ("나이", "Age"), "income_quintile": ("소득 5분위", "Income quintile"), "pre_steps": ("등록 전 걸음 수", "Steps before enrolment"),
    "risk_count": ("위험요인 수", "Number of risk factors"), "sbp": ("수축기 혈압", "Systolic blood pressure"),
    "dbp": ("이완기 혈압", "Diastolic blood pressure"), "waist": ("허리둘레", "Waist circumference"),
    "glucose": ("공복혈당", "Fasting glucose"), "tg": ("중성지방", "Triglycerides"), "hdl": ("HDL 콜레스테롤", "HDL cholesterol"),
    "bmi": ("체질량지수", "Body-mass index"), "walk_days": ("걷기 실천 일수", "Walking days"),
    "breakfast_days": ("아침식사 일수", "Breakfast days"), "sex_F": ("여성", "Women"), "sex_M": ("남성", "Men"),
    "notyettreated": ("아직 등록하지 않은 사람", "Not yet enrolled"), "nevertreated": ("등록하지 않은 사람", "Never enrolled"),
    "no_programme": ("사업 미시행", "No programme"), "programme": ("사업 시행", "Programme"),
    "reg": ("회귀", "Regression"),
    # programme outcome shares (costs.programme_outcomes, notebook 50's unit-cost inputs)
    "share_active": ("활동 참여자 비율", "Share active"), "share_completed": ("완료자 비율", "Share completed"),
    "risk_reduced_treated": ("위험요인 감소 비율 (참여군)", "Risk factor reduced (joiners)"),
    "risk_reduced_comparison": ("위험요인 감소 비율 (비교군)", "Risk factor reduced (comparison)"),
    "mets_baseline_treated": ("등록 시 대사증후군 비율 (참여군)", "Metabolic syndrome at enrolment (joiners)"),
    "resolved_treated": ("대사증후군 해소 비율 (참여군)", "Metabolic syndrome resolved (joiners)"),
    "resolved_comparison": ("대사증후군 해소 비율 (비교군)", "Metabolic syndrome resolved (comparison)"),
    "extra_resolved": ("추가 해소 비율 (참여군 − 비교군)", "Extra resolved (joiners − comparison)"),
    # unit costs (costs.unit_costs) and their denominators, notebook 50
    "cost_per_enrolled": ("등록자 1인당 비용", "Cost per enrolled participant"),
    "cost_per_active": ("활동 참여자 1인당 비용", "Cost per active participant"),
    "cost_per_completer": ("완료자 1인당 비용", "Cost per completer"),
    "cost_per_risk_reduced": ("위험요인 감소자 1인당 비용", "Cost per person with a risk factor reduced"),
    "cost_per_1000_steps_sustained": ("하루 1,000보 증가 유지 1인당 비용", "Cost per person x 1,000 daily steps sustained"),
    "persons": ("명", "persons"),
    "persons with a risk factor reduced (attributable)": ("위험요인이 줄어든 사람 (사업 기여분)",
                                                           "persons with a risk factor reduced (attributable)"),
    "person x 1,000 additional daily steps sustained": ("1인 × 하루 1,000보 추가 유지", "person x 1,000 additional daily steps sustained"),
    # inputs of the illustrative MetS Markov model (tornado)
    "rr_incidence": ("대사증후군 발생 상대위험 (사업 효과)", "Relative risk of MetS onset (programme effect)"),
    "effect_years": ("사업 효과 지속 기간 (년)", "Years the effect lasts"),
    "u_mets": ("대사증후군 상태의 효용값", "Utility with MetS"),
    "p_cvd_mets": ("대사증후군의 연간 심뇌혈관질환 발생 확률", "Annual CVD probability with MetS"),
    "programme_cost": ("1인당 사업비", "Programme cost per person"),
    "c_mets": ("대사증후군 연간 의료비", "Annual medical cost of MetS"),
    # indicator domains of the district tables
    "chronic_disease": ("만성질환", "Chronic disease"), "health_behaviour": ("건강행태", "Health behaviour"),
    "health_care": ("의료 이용", "Health care"), "socioeconomic": ("사회경제", "Socioeconomic"),
    "deprivation": ("취약 수준", "Deprivation"), "mortality": ("사망", "Mortality"), "log_steps": ("로그 걸음 수", "Log steps"), "smd": ("표준화 평균 차이", "Standardised mean difference"),
}
"""Coded values staff meet in tables, with their names."""

_MEASURE_ALIASES = {"d": "difference", "r": "ratio", "ti": "theil"}


def term(key: str, lang: str = "ko") -> tuple[str, str]:
    """(label, one-line explanation) of a measure in ``lang``; KeyError for an unknown measure."""
    ko, ko_x, en, en_x = TERMS[_MEASURE_ALIASES.get(key, key)]
    return (en, en_x) if lang == "en" else (ko, ko_x)


def value_name(code: str, lang: str = "ko") -> str | None:
    """The staff name of a coded value (funding source, category, programme), or None."""
    pair = VALUES.get(code)
    return None if pair is None else (pair[1] if lang == "en" else pair[0])


def column(name: str, lang: str = "ko") -> str:
    """Staff header of a table column (the raw name only when nothing is known about it)."""
    pair = COLUMNS.get(name)
    if pair is None:
        return TERMS[name][2 if lang == "en" else 0] if name in TERMS else name
    return pair[1] if lang == "en" else pair[0]


def panel_html(keys: list[str] | tuple[str, ...], lang: str = "ko") -> str:
    """A compact glossary block (definition list) for the given measures."""
    title = "용어 설명" if lang == "ko" else "Glossary"
    items = "".join(f"<dt>{html.escape(term(k, lang)[0])}</dt><dd>{html.escape(term(k, lang)[1])}</dd>" for k in keys)
    return (f"<details class='ev-glossary'><summary>{title}</summary><dl style='font-size:13px'>{items}</dl></details>")


# existing labels keep their wording (figures and tests use them); new measures get the glossary names
register({k: {"ko": v[0], "en": v[2]} for k, v in TERMS.items() if t(k, "ko") == k})
