"""Korean / English labels used by the effect plots (registered once, on first plot)."""
from __future__ import annotations

_DONE = False

LABELS = {
    "eff_observed": {"ko": "관측값", "en": "Observed"},
    "eff_fitted": {"ko": "모형 적합값", "en": "Fitted"},
    "eff_counterfactual": {"ko": "중재가 없었을 경우(반사실)", "en": "Counterfactual (no intervention)"},
    "eff_smd": {"ko": "표준화 평균 차이", "en": "Standardised mean difference"},
    "eff_before": {"ko": "보정 전", "en": "Before adjustment"},
    "eff_after": {"ko": "보정 후", "en": "After adjustment"},
    "eff_event_time": {"ko": "등록(처치) 후 기간", "en": "Periods since treatment"},
    "eff_att": {"ko": "처치군 평균 효과(ATT)", "en": "Average effect on the treated (ATT)"},
    "eff_pre": {"ko": "처치 전", "en": "Pre-treatment"},
    "eff_post": {"ko": "처치 후", "en": "Post-treatment"},
    "eff_twfe": {"ko": "이원고정효과(TWFE)", "en": "Two-way fixed effects (TWFE)"},
    "eff_share": {"ko": "비율", "en": "Share"},
    "eff_benchmark": {"ko": "전국 기준값", "en": "National benchmark"},
    "eff_weekly_steps": {"ko": "주간 일평균 걸음 수", "en": "Mean daily steps per week"},
    "eff_treated": {"ko": "참여군", "en": "Participants"},
    "eff_comparison": {"ko": "비교군", "en": "Comparison"},
    "eff_kpi_risk": {"ko": "위험요인 개선율", "en": "Risk-factor reduction share"},
    "eff_kpi_behaviour": {"ko": "건강행태 개선율", "en": "Behaviour improvement share"},
    "eff_m_sbp": {"ko": "수축기 혈압", "en": "systolic blood pressure"},
    "eff_m_dbp": {"ko": "이완기 혈압", "en": "diastolic blood pressure"},
    "eff_m_waist": {"ko": "허리둘레", "en": "waist circumference"},
    "eff_m_glucose": {"ko": "공복혈당", "en": "fasting glucose"},
    "eff_m_tg": {"ko": "중성지방", "en": "triglycerides"},
    "eff_m_hdl": {"ko": "HDL 콜레스테롤", "en": "HDL cholesterol"},
    "eff_m_bmi": {"ko": "체질량지수", "en": "body-mass index"},
    # diagnostics tables (effects.diagnostics_view)
    "eff_diag_result": {"ko": "결과", "en": "Result"},
    "eff_diag_check": {"ko": "점검 항목", "en": "Check"},
    "eff_diag_value": {"ko": "값", "en": "Value"},
    "eff_diag_threshold": {"ko": "기준", "en": "Threshold"},
    "eff_diag_verdict": {"ko": "판정", "en": "Verdict"},
    "eff_diag_message": {"ko": "설명", "en": "Message"},
    "eff_diag_pass": {"ko": "통과", "en": "pass"},
    "eff_diag_fail": {"ko": "경고", "en": "WARNING"},
    "eff_diag_info": {"ko": "참고", "en": "note"},
    "eff_chk_missing_values_dropped": {"ko": "결측 제외", "en": "Missing values dropped"},
    "eff_chk_ps_model_converged": {"ko": "성향점수 모형 수렴", "en": "Score model converged"},
    "eff_chk_ps_separation": {"ko": "완전 분리", "en": "Separation"},
    "eff_chk_common_support": {"ko": "공통 지지 영역", "en": "Common support"},
    "eff_chk_caliper_unmatched_treated": {"ko": "캘리퍼로 빠진 참여자", "en": "Treated dropped by the caliper"},
    "eff_chk_balance_smd": {"ko": "공변량 균형(표준화 차이)", "en": "Balance (standardised difference)"},
    "eff_chk_balance_variance_ratio": {"ko": "공변량 균형(분산비)", "en": "Balance (variance ratio)"},
    "eff_chk_residual_autocorrelation": {"ko": "잔차 자기상관", "en": "Residual autocorrelation"},
    "eff_chk_overdispersion": {"ko": "과산포", "en": "Overdispersion"},
    "eff_chk_model_converged": {"ko": "모형 수렴", "en": "Model converged"},
    "eff_chk_regression_to_the_mean": {"ko": "평균으로의 회귀", "en": "Regression to the mean"},
    "eff_chk_ci_includes_null": {"ko": "신뢰구간과 귀무값", "en": "CI and the null"},
    "eff_chk_pretrend": {"ko": "등록 전 추세 검정", "en": "Pre-trend test"},
    "eff_chk_effective_sample_size": {"ko": "비교군 유효표본크기", "en": "Comparison effective sample size"},
    "eff_chk_undetermined": {"ko": "판정 불가(결측)", "en": "Undetermined (missing)"},
    "eff_chk_suppressed": {"ko": "소표본 비공개", "en": "Suppressed (small cell)"},
    # input guard (issue 21): drops counted by reason, constant outcomes, trimming
    "eff_chk_dropped": {"ko": "제외", "en": "Dropped"},
    "eff_chk_constant_outcome": {"ko": "결과값이 모두 같음", "en": "Constant outcome"},
    "eff_chk_trimmed_comparison_units": {"ko": "트리밍된 비교 단위", "en": "Trimmed comparison units"},
    # staggered_did's design checks (staff read the check's name, not its code)
    "eff_chk_pre_trend": {"ko": "등록 전 추세 검정", "en": "Pre-trend test"},
    "eff_chk_missing_group": {"ko": "등록 시점 없음", "en": "No enrolment period"},
    "eff_chk_cohorts_after_last_period": {"ko": "관측 종료 후 등록", "en": "Enrolled after the last period"},
    "eff_chk_cohort_start_not_a_period": {"ko": "관측 기간 밖 등록 시점", "en": "Enrolment outside the observed periods"},
    "eff_chk_treated_in_first_period": {"ko": "첫 기간부터 등록", "en": "Enrolled in the first period"},
    "eff_chk_no_never_treated": {"ko": "비등록자 없음", "en": "No never-enrolled group"},
    "eff_chk_incomplete_panel": {"ko": "빠진 기간이 있는 사람", "en": "People with missing periods"},
    "eff_chk_small_groups": {"ko": "작은 등록 집단", "en": "Small enrolment groups"},
    "eff_chk_cohorts_without_post_period": {"ko": "등록 후 기간 없는 집단", "en": "Groups without a post period"},
    "eff_chk_cells_not_estimated": {"ko": "추정하지 못한 칸", "en": "Cells not estimated"},
}

# units of the clinical measures (participants table columns ``<measure>_w<week>``)
UNITS = {"sbp": "mmHg", "dbp": "mmHg", "waist": "cm", "glucose": "mg/dL", "tg": "mg/dL", "hdl": "mg/dL",
         "bmi": "kg/m2"}


def register() -> None:
    """Register the labels with :mod:`evaluation.publish.i18n` (idempotent)."""
    global _DONE
    if not _DONE:
        from ..publish import i18n

        i18n.register(LABELS)
        _DONE = True
