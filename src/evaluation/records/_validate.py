"""Validation of typed records with pandera (``lazy=True``: every failure at once), reported by file, row and column.

pandera's failure cases carry the offending value; it is dropped here, so an
error names where and which rule, never what was written.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ._contract import BY_NAME, ENROLMENT, MEASUREMENT

MESSAGES: dict[str, tuple[str, str]] = {
    "out_of_range": ("허용 범위 밖", "outside the plausible range"),
    "not_number": ("숫자가 아님", "not a number"),
    "not_whole_number": ("정수가 아님", "not a whole number"),
    "not_date": ("날짜로 읽을 수 없음 (예: 2023-03-06)", "not a date (e.g. 2023-03-06)"),
    "not_sex": ("성별은 남/여", "sex must be 남/여 (M/F)"),
    "not_district": ("서울 25개 자치구가 아님", "not one of Seoul's 25 districts"),
    "not_arm": ("참여구분은 밴드지급/개인기기/비교군 또는 참여자/대기자", "arm must be 밴드지급/개인기기/비교군 or 참여자/대기자"),
    "not_group": ("대상구분은 건강위험군/만성질환자", "target group must be 건강위험군/만성질환자 (at risk / chronic)"),
    "not_round": ("측정시기는 기초/중간/최종", "round must be 기초/중간/최종"),
    "not_yes_no": ("예/아니오로 읽을 수 없음", "not a yes/no answer"),
    "duplicate": ("같은 참여자(·측정시기)가 다시 나옴", "the same participant (and round) appears again"),
    "conflict": ("같은 참여자의 등록 정보가 다른 행과 다름", "enrolment details differ from another row of the same participant"),
    "dbp_not_below_sbp": ("이완기 혈압이 수축기 혈압 이상", "diastolic pressure is not below systolic"),
    "withdrew_before_enrolment": ("중도탈락일이 등록일보다 이름", "withdrawal date before the enrolment date"),
    "withdrew_without_enrolment": ("등록일 없이 중도탈락일이 있음", "withdrawal date without an enrolment date"),
    "age_out_of_range": ("기준일 나이가 19–100세 밖", "age at the index date outside 19-100"),
    "no_enrolment": ("등록 자료에 없는 참여자번호", "participant number not in the enrolment records"),
    "no_baseline": ("기초 측정이 없음", "no baseline (기초) measurement"),
    # whole-file refusals (row empty)
    "pii_column": ("개인식별정보 열(성명·연락처·주민등록번호 등): 파일 거부, 저장하지 않음",
                   "a column of direct identifiers (name, phone, resident registration number): file refused, nothing stored"),
    "pii_rrn_values": ("주민등록번호 형식의 값: 파일 거부, 저장하지 않음",
                       "values shaped like resident registration numbers: file refused, nothing stored"),
    "pii_phone_values": ("전화번호 형식의 값: 파일 거부, 저장하지 않음", "values shaped like phone numbers: file refused, nothing stored"),
    "pii_name_values": ("참여자번호 열에 이름으로 보이는 값: 파일 거부, 저장하지 않음",
                        "participant numbers look like names: file refused, nothing stored"),
    "no_header": ("머리글 행(참여자번호와 다른 알려진 열)을 찾지 못함", "no header row (참여자번호 and another known column) found"),
    "missing_column": ("필수 열이 없음", "a required column is missing"),
    "duplicate_column": ("두 열이 같은 항목을 가리킴", "two columns name the same field"),
    "wrong_unit": ("단위가 계약과 다름 (환산 후 제출)", "unit differs from the contract's (convert before hand-over)"),
    "encoding": ("UTF-8 또는 CP949(EUC-KR) 문서가 아님", "not UTF-8 or CP949 (EUC-KR) text"),
    "ragged_row": ("머리글보다 칸이 많은 행", "a row has more cells than the header"),
    "unreadable": ("엑셀 파일을 읽을 수 없음", "not a readable workbook"),
    "no_records": ("등록·측정 열이 없음", "no enrolment or measurement column"),
    "missing": ("필수 값이 비어 있음", "required value is empty"),
}


def message(check: str, lang: str = "ko") -> str:
    """The staff-facing text of an error code (Korean first; ``lang='en'`` for English)."""
    ko, en = MESSAGES.get(check, (check, check))
    return ko if lang == "ko" else en


def _column(name: str, optional: tuple[str, ...] = ()) -> pa.Column:
    f = BY_NAME[name]
    checks = []
    if f.low is not None and f.kind in ("number", "int", "binary"):
        checks.append(pa.Check.in_range(f.low, f.high, name="out_of_range"))
    return pa.Column(dtype=None, nullable=not f.required or name in optional, checks=checks, required=False)


def enrolment_schema(optional: tuple[str, ...] = ()) -> pa.DataFrameSchema:
    """One row per participant; ranges per :data:`FIELDS`; withdrawal after enrolment. ``optional``: required
    fields this programme's files do not carry (empty cells allowed)."""
    return pa.DataFrameSchema(
        {n: _column(n, optional) for n in ENROLMENT},
        checks=[
            pa.Check(lambda d: ~(d["withdrew_on"] < d["enrolled_on"]) if {"withdrew_on", "enrolled_on"} <= set(d) else
                     pd.Series(True, index=d.index), name="withdrew_before_enrolment"),
            pa.Check(lambda d: ~(d["withdrew_on"].notna() & d["enrolled_on"].isna()) if {"withdrew_on", "enrolled_on"} <= set(d) else
                     pd.Series(True, index=d.index), name="withdrew_without_enrolment"),
        ],
        unique=["participant_id"], report_duplicates="exclude_first",
    )


def measurement_schema() -> pa.DataFrameSchema:
    """One row per participant and round within a sheet (``_grid``; the screening and survey files each hold
    a row per person and round, merged afterwards); ranges per :data:`FIELDS`; diastolic below systolic."""
    return pa.DataFrameSchema(
        {n: _column(n) for n in MEASUREMENT} | {"_grid": pa.Column(dtype=None)},
        checks=[pa.Check(lambda d: ~(d["dbp"] >= d["sbp"]) if {"dbp", "sbp"} <= set(d) else pd.Series(True, index=d.index),
                         name="dbp_not_below_sbp")],
        unique=["_grid", "participant_id", "round"], report_duplicates="exclude_first",
    )


def _check_code(check: object, schema_context: str) -> str:
    text = str(check)
    if text in ("not_nullable",):
        return "missing"
    if "uniqueness" in text or text.startswith("unique") or "duplicates" in text:
        return "duplicate"
    code = text.split("(")[0]
    return {"in_range": "out_of_range", "greater_than_or_equal_to": "out_of_range", "less_than_or_equal_to": "out_of_range"}.get(code, code)


def validate(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Failures of ``frame`` (index = position into ``frame``) as rows ``index, field, check`` (no values)."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        fc = exc.failure_cases
        out = pd.DataFrame({
            "index": pd.to_numeric(fc["index"], errors="coerce"),
            "field": fc["column"].where(fc["schema_context"] == "Column", None),
            "check": [_check_code(c, s) for c, s in zip(fc["check"], fc["schema_context"])],
        })
        out = out[out["index"].notna()].astype({"index": np.int64})
        # a dataframe-wide check names its fields; uniqueness names the key
        out.loc[out["check"] == "dbp_not_below_sbp", "field"] = "dbp"
        out.loc[out["check"].str.startswith("withdrew"), "field"] = "withdrew_on"
        out.loc[out["check"] == "duplicate", "field"] = "participant_id"
        return out.drop_duplicates().reset_index(drop=True)
    return pd.DataFrame({"index": pd.Series(dtype=np.int64), "field": pd.Series(dtype=object),
                         "check": pd.Series(dtype=object)})
