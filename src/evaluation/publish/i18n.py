"""Korean / English labels for figures, tables and dashboards.

Korean is the default because foundation staff read Korean; every label has an
English twin. Modules register their own labels with :func:`register` so one
lookup serves notebooks and dashboards alike.
"""
from __future__ import annotations

from typing import Literal

Lang = Literal["ko", "en"]
LANGS: tuple[str, ...] = ("ko", "en")

_LABELS: dict[str, dict[str, str]] = {
    "participants": {"ko": "참여자 수", "en": "Participants"},
    "enrolled": {"ko": "등록자", "en": "Enrolled"},
    "active": {"ko": "활동 참여자", "en": "Active"},
    "completed": {"ko": "완료자", "en": "Completed"},
    "district": {"ko": "자치구", "en": "District"},
    "arm": {"ko": "참여 유형", "en": "Arm"},
    "week": {"ko": "주", "en": "Week"},
    "month": {"ko": "월", "en": "Month"},
    "date": {"ko": "날짜", "en": "Date"},
    "steps": {"ko": "걸음 수", "en": "Steps"},
    "daily_steps": {"ko": "일평균 걸음 수", "en": "Mean daily steps"},
    "age_band": {"ko": "연령대", "en": "Age band"},
    "sex": {"ko": "성별", "en": "Sex"},
    "M": {"ko": "남성", "en": "Men"},
    "F": {"ko": "여성", "en": "Women"},
    "band_issued": {"ko": "밴드 보급", "en": "Band issued"},
    "own_device": {"ko": "개인 기기", "en": "Own device"},
    "comparison": {"ko": "비교군", "en": "Comparison"},
    "suppressed": {"ko": "비공개(소표본)", "en": "Suppressed (small cell)"},
    "weeks_since_enrolment": {"ko": "등록 후 주차", "en": "Weeks since enrolment"},
    "enrolment_by_district": {"ko": "자치구별 등록자 수", "en": "Enrolment by district"},
    "steps_by_week": {"ko": "주별 일평균 걸음 수 (95% 신뢰구간)", "en": "Mean daily steps by week (95% CI)"},
    "perturbation_notice": {
        "ko": "개인정보 보호를 위해 인원 수에 작은 변동을 주었습니다. 표의 합계는 칸의 합이라 다른 표와 몇 명 다를 수 있고, 작은 칸이 많은 표에서는 더 다를 수 있습니다.",
        "en": "Counts are slightly perturbed to protect privacy. A table's total is the sum of its cells, so totals may differ by a few between tables, and by more in tables with many small cells.",
    },
    "no_run": {"ko": "아직 완료된 평가 실행이 없습니다.", "en": "No completed evaluation run yet."},
}


def register(labels: dict[str, dict[str, str]]) -> None:
    """Add labels (key -> {'ko': ..., 'en': ...}); both languages are required."""
    for key, pair in labels.items():
        missing = [lang for lang in LANGS if lang not in pair]
        if missing:
            raise ValueError(f"label {key!r} lacks {missing}")
        _LABELS[key] = dict(pair)


def t(key: str, lang: str = "ko") -> str:
    """Label for ``key`` in ``lang``; unknown keys fall back to the key itself."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return _LABELS.get(key, {}).get(lang, key)


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise a clear ``ValueError``."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang
