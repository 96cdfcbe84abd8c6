"""Korean / English labels used by the equity figures and tables."""
from __future__ import annotations

from ..publish import i18n

LABELS: dict[str, dict[str, str]] = {
    "no_data": {"ko": "자료 없음", "en": "No data"},
    "seoul_average": {"ko": "서울시 평균", "en": "Seoul average"},
    # profile flags: the wording of equity._profile.FLAG_LABELS ("significantly" only where there was a test)
    "better": {"ko": "서울 평균보다 유의하게 좋음", "en": "Significantly better than Seoul"},
    "worse": {"ko": "서울 평균보다 유의하게 나쁨", "en": "Significantly worse than Seoul"},
    "similar": {"ko": "서울 평균과 유의한 차이 없음", "en": "Not significantly different from Seoul"},
    "far_better": {"ko": "다른 자치구와 차이가 큼 (좋은 쪽)", "en": "Far from the other districts (better)"},
    "far_worse": {"ko": "다른 자치구와 차이가 큼 (나쁜 쪽)", "en": "Far from the other districts (worse)"},
    "not_far": {"ko": "다른 자치구와 차이가 크지 않음", "en": "Not far from the other districts"},
    "before": {"ko": "참여 전", "en": "Before enrolment"},
    "after": {"ko": "참여 후", "en": "After enrolment"},
    "gap_change": {"ko": "격차 변화", "en": "Change in gap"},
    "narrowed": {"ko": "격차 감소", "en": "Gap narrowed"},
    "widened": {"ko": "격차 증가", "en": "Gap widened"},
    "no_clear_change": {"ko": "뚜렷한 변화 없음", "en": "No clear change"},
    "income_quintile": {"ko": "소득 5분위", "en": "Income quintile"},
    "bgv": {"ko": "집단 간 분산(BGV)", "en": "Between-group variance (BGV)"},
    "bgsd": {"ko": "집단 간 표준편차(BGSD)", "en": "Between-group SD (BGSD)"},
    "sii": {"ko": "불평등 기울기 지수(SII)", "en": "Slope index of inequality (SII)"},
    "rii": {"ko": "상대 불평등 지수(RII)", "en": "Relative index of inequality (RII)"},
    "aci": {"ko": "절대 집중지수(ACI)", "en": "Absolute concentration index (ACI)"},
    "rci": {"ko": "상대 집중지수(RCI)", "en": "Relative concentration index (RCI)"},
    "theil": {"ko": "타일 지수(TI)", "en": "Theil index (TI)"},
    "mld": {"ko": "평균 로그 편차(MLD)", "en": "Mean log deviation (MLD)"},
    "paf": {"ko": "인구 기여 분율(PAF, %)", "en": "Population attributable fraction (PAF, %)"},
    "par": {"ko": "인구 기여 위험(PAR)", "en": "Population attributable risk (PAR)"},
    "difference": {"ko": "차이(D)", "en": "Difference (D)"},
    "ratio": {"ko": "비(R)", "en": "Ratio (R)"},
    "year": {"ko": "연도", "en": "Year"},
    "district_ordered": {"ko": "자치구(사회경제 순위)", "en": "District (socioeconomic rank)"},
    "walking_practice": {"ko": "걷기 실천율(%)", "en": "Walking practice (%)"},
    "current_smoking": {"ko": "현재 흡연율(%)", "en": "Current smoking (%)"},
    "obesity": {"ko": "비만율(%)", "en": "Obesity (%)"},
    "hypertension_dx": {"ko": "고혈압 진단 경험률(%)", "en": "Diagnosed hypertension (%)"},
    "unmet_medical_need": {"ko": "미충족 의료율(%)", "en": "Unmet medical need (%)"},
    "basic_livelihood_recipients": {"ko": "기초생활수급자 비율(%)", "en": "Basic livelihood recipients (%)"},
    "steps_change": {"ko": "참여 전후 일평균 걸음 수 변화", "en": "Change in mean daily steps after enrolment"},
    "inequality_trend": {"ko": "자치구 간 격차 추이 (95% 신뢰구간)", "en": "Gap between districts over time (95% CI)"},
}

i18n.register(LABELS)
