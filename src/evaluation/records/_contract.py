"""The records contract: what a public-health centre's enrolment, screening and survey files mean.

Two tables, both tidy:

* **enrolment** -- one row per person (the centre's 등록 대장);
* **measurements** -- *long*: one row per person and measurement round
  (측정시기 기초 / 중간 / 최종 = week 0 / 12 / 24 of the 24-week mobile-healthcare
  programme), holding the screening (검진) and the behaviour survey (설문).

A file may hold either or both (a long file that repeats the enrolment columns on
every round is read as both). Units and definitions are those of the national
public-health-centre mobile-healthcare programme (보건소 모바일 헬스케어 사업):
the five metabolic-syndrome criteria decide eligibility and the risk-factor KPI,
the behaviour items decide the behaviour-improvement KPI (see
:mod:`evaluation.effects._kpi`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "date", "sex", "district", "arm", "group", "round", "int", "number", "binary"]
Table = Literal["enrolment", "measurement"]


@dataclass(frozen=True)
class Field:
    """One contract column: its name, Korean / English label, unit, kind, plausible range and definition."""

    name: str
    table: Table
    ko: str
    en: str
    kind: Kind
    unit: str = ""
    required: bool = False
    low: float | None = None  # plausible range (inclusive); outside is an error, not a warning
    high: float | None = None
    definition: str = ""
    aliases: tuple[str, ...] = ()  # further header labels recognised without configuration


ROUNDS: dict[str, int] = {"기초": 0, "중간": 12, "최종": 24}
"""측정시기 -> programme week."""

ROUND_ALIASES: dict[str, int] = {
    **ROUNDS, "사전": 0, "초기": 0, "등록시": 0, "0주": 0, "0": 0, "1차": 0, "baseline": 0,
    "12주": 12, "12": 12, "2차": 12, "interim": 12, "midline": 12,
    "사후": 24, "24주": 24, "24": 24, "3차": 24, "final": 24, "endline": 24,
}

SEX_VALUES = {"남": "M", "남자": "M", "남성": "M", "m": "M", "male": "M", "1": "M", "3": "M",
              "여": "F", "여자": "F", "여성": "F", "f": "F", "female": "F", "2": "F", "4": "F"}

ARM_VALUES = {
    # the smart-band programme: band issued / own device / screened comparison people
    "밴드지급": "band_issued", "밴드": "band_issued", "스마트밴드": "band_issued", "지급": "band_issued",
    "band_issued": "band_issued",
    "개인기기": "own_device", "본인기기": "own_device", "자가기기": "own_device", "own_device": "own_device",
    "비교군": "comparison", "대조군": "comparison", "비참여": "comparison", "comparison": "comparison",
    # the 24-week mobile-healthcare programme: participants / screened people on the waiting list
    "참여자": "participant", "참여": "participant", "사업참여": "participant", "participant": "participant",
    "대기자": "waiting_list", "대기": "waiting_list", "대기군": "waiting_list", "대기자명단": "waiting_list",
    "waiting_list": "waiting_list", "waitinglist": "waiting_list",
}

ARM_DESIGNS: tuple[tuple[str, ...], ...] = (("band_issued", "own_device", "comparison"), ("participant", "waiting_list"))
"""The arms of one programme design, in order: a table lists the arms of its design (structural zeros
included), never another design's."""

CONTROL_ARMS = ("comparison", "waiting_list")
"""Arms that did not (yet) take part: ``treated`` is False."""

GROUP_VALUES = {
    "건강위험군": "at_risk", "위험군": "at_risk", "건강위험": "at_risk", "위험요인보유": "at_risk", "at_risk": "at_risk",
    "atrisk": "at_risk",
    "만성질환자": "chronic", "만성질환": "chronic", "만성질환군": "chronic", "고혈압·당뇨": "chronic",
    "고혈압/당뇨": "chronic", "고혈압당뇨": "chronic", "chronic": "chronic",
}
"""대상구분 of the mobile-healthcare programme: people at health risk, or patients with hypertension / diabetes."""

LABELS: dict[str, dict[str, str]] = {
    "participant": {"ko": "참여자", "en": "Participants"},
    "waiting_list": {"ko": "대기자 (비교군)", "en": "Waiting list (comparison)"},
    "at_risk": {"ko": "건강위험군", "en": "At health risk"},
    "chronic": {"ko": "만성질환자 (고혈압·당뇨)", "en": "Hypertension / diabetes"},
}
"""Staff names of the coded values the reader produces (registered with :mod:`evaluation.publish.i18n`)."""

BINARY_VALUES = {"예": 1, "네": 1, "있음": 1, "유": 1, "y": 1, "yes": 1, "1": 1, "true": 1, "o": 1,
                 "현재흡연": 1, "흡연": 1, "고위험": 1, "고위험음주": 1, "해당": 1,
                 "아니오": 0, "아니요": 0, "없음": 0, "무": 0, "n": 0, "no": 0, "0": 0, "false": 0, "x": 0,
                 "비흡연": 0, "과거흡연": 0, "금연": 0, "비음주": 0, "저위험": 0, "적정음주": 0, "비해당": 0}

FIELDS: tuple[Field, ...] = (
    # enrolment (one row per person)
    Field("participant_id", "enrolment", "참여자번호", "participant number", "id", required=True,
          definition="the centre's participant number; pseudonymised on reading (HMAC, the wearable store's key)",
          aliases=("참여자id", "참여자아이디", "대상자번호", "등록번호", "관리번호", "회원번호", "id", "participantid")),
    Field("sex", "enrolment", "성별", "sex", "sex", required=True,
          definition="남/여 (M/F)", aliases=("성", "남녀")),
    Field("birth_date", "enrolment", "생년월일", "date of birth", "date", required=True,
          definition="used only to compute age at the index date; never stored",
          aliases=("출생일", "생일")),
    Field("district", "enrolment", "자치구", "district", "district", required=True,
          definition="Seoul district (gu) of residence: Korean name (강남구), English name or 5-digit code; "
                     "a centre outside Seoul leaves the column out (records: optional: [district])",
          aliases=("거주지", "거주자치구", "거주구", "구", "주소지", "시군구")),
    Field("enrolled_on", "enrolment", "등록일", "enrolment date", "date",
          definition="date the person joined the 24-week programme; empty for the comparison group",
          aliases=("등록일자", "참여일", "참여일자", "가입일", "시작일")),
    Field("arm", "enrolment", "참여구분", "arm", "arm",
          definition="밴드지급 / 개인기기 / 비교군, or 참여자 / 대기자 (mobile healthcare); when the column is "
                     "absent, people with an enrolment date are band_issued and the others comparison",
          aliases=("참여유형", "참여형태", "구분", "군", "집단", "기기구분")),
    Field("group", "enrolment", "대상구분", "target group", "group",
          definition="건강위험군 (at least one metabolic-syndrome criterion) / 만성질환자 (hypertension or diabetes "
                     "patients), as the mobile-healthcare programme enrols them",
          aliases=("대상군", "대상자구분", "참여대상", "대상유형", "위험군구분")),
    Field("wave", "enrolment", "기수", "enrolment wave", "int", low=1, high=99,
          definition="recruitment wave; when absent, enrolment months in order (1 = first)",
          aliases=("모집기수", "차수", "모집차수")),
    Field("income_quintile", "enrolment", "소득분위", "income quintile", "int", low=1, high=5,
          definition="1 (lowest) .. 5, e.g. from the health-insurance premium",
          aliases=("소득5분위", "소득수준", "보험료분위")),
    Field("withdrew_on", "enrolment", "중도탈락일", "withdrawal date", "date",
          definition="date a participant left the programme before week 24; empty if they did not",
          aliases=("탈락일", "중단일", "중도포기일", "탈락일자")),
    # measurements (long: one row per person and round)
    Field("round", "measurement", "측정시기", "measurement round", "round", required=True,
          definition="기초 (week 0) / 중간 (week 12) / 최종 (week 24)",
          aliases=("측정차수", "시기", "회차", "측정회차", "평가시기")),
    Field("measured_on", "measurement", "측정일", "measurement date", "date",
          aliases=("측정일자", "검진일", "검사일", "설문일", "조사일", "평가일")),
    Field("waist", "measurement", "허리둘레", "waist circumference", "number", "cm", low=40, high=200,
          definition="at risk: >= 90 cm (men) / >= 85 cm (women), Korean Society for the Study of Obesity",
          aliases=("복부둘레", "waist")),
    Field("sbp", "measurement", "수축기 혈압", "systolic blood pressure", "number", "mmHg", low=50, high=300,
          definition="at risk: >= 130 mmHg (or diastolic >= 85)",
          aliases=("수축기혈압", "혈압수축기", "수축기", "최고혈압", "sbp")),
    Field("dbp", "measurement", "이완기 혈압", "diastolic blood pressure", "number", "mmHg", low=30, high=200,
          definition="at risk: >= 85 mmHg (or systolic >= 130)",
          aliases=("이완기혈압", "혈압이완기", "이완기", "확장기혈압", "확장기", "최저혈압", "dbp")),
    Field("glucose", "measurement", "공복혈당", "fasting glucose", "number", "mg/dL", low=30, high=700,
          definition="at risk: >= 100 mg/dL after at least 8 h fasting",
          aliases=("공복시혈당", "혈당공복", "혈당", "fbs", "glucose")),
    Field("tg", "measurement", "중성지방", "triglycerides", "number", "mg/dL", low=10, high=5000,
          definition="at risk: >= 150 mg/dL", aliases=("트리글리세라이드", "혈액검사중성지방", "tg")),
    Field("hdl", "measurement", "HDL 콜레스테롤", "HDL cholesterol", "number", "mg/dL", low=5, high=200,
          definition="at risk: < 40 mg/dL (men) / < 50 mg/dL (women)",
          aliases=("hdl콜레스테롤", "hdl-콜레스테롤", "hdl", "고밀도콜레스테롤", "hdlc", "hdl-c")),
    Field("bmi", "measurement", "체질량지수", "body-mass index", "number", "kg/m²", low=10, high=80,
          aliases=("bmi",)),
    Field("walk_days", "measurement", "걷기 실천 일수", "walking days", "int", "days/week", low=0, high=7,
          definition="days in the last week with at least 30 minutes of walking (10 minutes or more at a time)",
          aliases=("걷기실천일수", "걷기일수", "걷기실천", "걷기")),
    Field("breakfast_days", "measurement", "아침식사", "breakfast days", "int", "days/week", low=0, high=7,
          definition="days in the last week with breakfast",
          aliases=("아침식사일수", "아침식사횟수", "아침식사실천일수", "아침")),
    Field("salt_high", "measurement", "짜게 먹는 습관", "high-salt eating", "binary", low=0, high=1,
          definition="1 = usually eats salty food (survey: 짜게 먹는 편)",
          aliases=("짜게먹는습관", "짜게먹기", "염분과다섭취", "짠음식선호")),
    Field("smoker", "measurement", "흡연", "current smoking", "binary", low=0, high=1,
          definition="1 = current smoker (5 packs or more in a lifetime and smoking now)",
          aliases=("현재흡연", "흡연여부", "흡연상태")),
    Field("heavy_drinker", "measurement", "음주", "high-risk drinking", "binary", low=0, high=1,
          definition="1 = high-risk drinking: 7+ drinks (men) / 5+ (women) per occasion, twice a week or more",
          aliases=("고위험음주", "음주여부", "음주상태")),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
OPTIONAL_OK = ("district",)
"""Required fields a programme's files may declare absent (``records: optional:``): a centre outside Seoul
has no Seoul district. Ids, sex, birth date and round are never optional."""
ENROLMENT = tuple(f.name for f in FIELDS if f.table == "enrolment")
MEASUREMENT = tuple(f.name for f in FIELDS if f.table == "measurement" or f.name == "participant_id")
MEASURES = tuple(f.name for f in FIELDS if f.table == "measurement" and f.name not in ("round", "measured_on"))

PII_LABELS: dict[str, str] = {
    "성명": "name", "이름": "name", "성함": "name", "참여자명": "name", "대상자명": "name", "환자명": "name", "name": "name",
    "연락처": "phone", "전화번호": "phone", "휴대폰": "phone", "휴대폰번호": "phone", "핸드폰": "phone",
    "휴대전화": "phone", "전화": "phone", "phone": "phone", "mobile": "phone",
    "주민등록번호": "resident registration number", "주민번호": "resident registration number",
    "주민등록": "resident registration number", "rrn": "resident registration number",
    "주소": "address", "상세주소": "address", "이메일": "e-mail", "email": "e-mail",
}
"""Header labels (normalised) of columns that must not be handed over: the file is refused."""


def describe(lang: str = "ko") -> "list[dict[str, object]]":
    """The contract as rows (name, table, label, unit, required, range, definition) for docs and notebooks."""
    return [{"name": f.name, "table": f.table, "label": f.ko if lang == "ko" else f.en, "unit": f.unit,
             "required": f.required, "low": f.low, "high": f.high, "definition": f.definition} for f in FIELDS]
