"""Synthetic programme records in the shape a public-health centre hands them over, with the truth apart.

:func:`write_records` turns a synthetic cohort (:func:`evaluation.synth.participants`) into
the centre's three files, all with Korean headers:

* ``등록대장.xlsx`` -- enrolment, one row per person, under two title rows, plus a notes sheet
  (참여자번호, 성별, 생년월일, 자치구, 등록일, 참여구분, 기수, 소득분위, 중도탈락일);
* ``검진결과.csv`` -- screening, CP949, long (one row per person and 측정시기 기초/중간/최종), a
  title line and a two-row header whose upper cells span their sub-columns (혈압 / 혈액검사);
* ``건강행태설문.xlsx`` -- the behaviour survey, long, with merged upper header cells (건강행태).

A round that was not measured (after a participant left) has no row. The cohort itself,
every latent and counterfactual column included, goes to ``<truth>/participants_truth.parquet``
(never next to the handed-over files); the analysis table is what the records reader makes of
the files. Written once: a marker records the settings and a second call writes nothing.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .participants import TRUTH, participants as make_participants

MARKER = ".synthetic_records.json"
ENROLMENT_FILE, SCREENING_FILE, SURVEY_FILE = "등록대장.xlsx", "검진결과.csv", "건강행태설문.xlsx"
ARM_KO = {"band_issued": "밴드지급", "own_device": "개인기기", "comparison": "비교군"}
ROUND_KO = {0: "기초", 12: "중간", 24: "최종"}


def _birth_dates(index_date: pd.Series, age: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """Birth dates giving exactly ``age`` completed years at ``index_date``."""
    idx = pd.to_datetime(index_date)
    year = idx.dt.year.to_numpy() - age
    month, day = idx.dt.month.to_numpy(), idx.dt.day.to_numpy()
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    day = np.where((month == 2) & (day == 29) & ~leap, 28, day)
    same_day = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}))
    return same_day - pd.to_timedelta(rng.integers(1, 365, size=len(idx)), unit="D")


def _long(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Rounds actually measured, with their dates (the index date for the baseline)."""
    rows = []
    for wk in (0, 12, 24):
        seen = people[people[f"waist_w{wk}"].notna()]
        jitter = rng.integers(-3, 4, size=len(seen)) if wk else np.zeros(len(seen), int)
        on = pd.to_datetime(seen["index_date"]) + pd.to_timedelta(wk * 7 + jitter, unit="D")
        rows.append(seen.assign(_week=wk, _on=on.to_numpy()))
    return pd.concat(rows).sort_values(["participant_id", "_week"], kind="stable").reset_index(drop=True)


def _excel(path: Path, title: list[str], top: list[tuple[str, int]], below: list[str] | None,
           body: pd.DataFrame, notes: list[str] | None = None) -> None:
    """A workbook: title rows, a header (``top`` cells spanning ``n`` columns, merged; ``below`` the sub-labels)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("자료")
    bold = book.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for i, line in enumerate(title):
        sheet.write(i, 0, line)
    r = len(title) + 1
    c = 0
    for label, span in top:
        if span > 1:
            sheet.merge_range(r, c, r, c + span - 1, label, bold)
        elif below is not None:  # a label without sub-columns spans both header rows
            sheet.merge_range(r, c, r + 1, c, label, bold)
        else:
            sheet.write(r, c, label, bold)
        c += span
    if below is not None:
        r += 1
        for j, label in enumerate(below):
            if label:
                sheet.write(r, j, label, bold)
    r += 1
    for j, col in enumerate(body.columns):
        values = body[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            for i, v in enumerate(values):
                if pd.notna(v):
                    sheet.write_datetime(r + i, j, v.to_pydatetime(), date)
        else:
            for i, v in enumerate(values.tolist()):
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    continue
                sheet.write(r + i, j, v)
    if notes:
        extra = book.add_worksheet("작성요령")
        for i, line in enumerate(notes):
            extra.write(i, 0, line)
    book.close()


def write_records(people: pd.DataFrame, folder: str | Path, *, seed: int = 2023,
                  centre: str = "○○구 보건소") -> dict[str, Path]:
    """Write the centre's enrolment, screening and survey files for ``people``; returns their paths."""
    from ..reference import districts

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    treated = people["treated"].to_numpy(bool)
    enrolled = pd.to_datetime(people["enrolled_on"])
    drop = people["dropout_week"].to_numpy(float)
    left = treated & (drop <= 24)  # only a departure during the 24 weeks is recorded
    withdrew = enrolled + pd.to_timedelta(np.where(left, np.ceil(np.where(left, drop, 0.0) * 7), 0), unit="D")
    enrol = pd.DataFrame({
        "참여자번호": people["participant_id"].astype(str).to_numpy(),
        "성별": np.where(people["sex"].to_numpy() == "M", "남", "여"),
        "생년월일": _birth_dates(people["index_date"], people["age"].to_numpy(int), rng).to_numpy(),
        "자치구": people["district"].map(districts.names("ko")).to_numpy(),
        "등록일": enrolled.where(treated).to_numpy(),
        "참여구분": people["arm"].astype(str).map(ARM_KO).to_numpy(),
        "기수": np.where(treated, people["wave"].to_numpy(), np.nan),
        "소득분위": people["income_quintile"].to_numpy(),
        "중도탈락일": withdrew.where(left).to_numpy(),
    })
    for c in ("생년월일", "등록일", "중도탈락일"):
        enrol[c] = pd.to_datetime(enrol[c])
    enrol["기수"] = [None if np.isnan(v) else int(v) for v in enrol["기수"]]
    enrol["소득분위"] = enrol["소득분위"].astype(int).tolist()
    paths = {"enrolment": folder / ENROLMENT_FILE, "screening": folder / SCREENING_FILE, "survey": folder / SURVEY_FILE}
    _excel(paths["enrolment"], [f"2023년 모바일 헬스케어 사업 참여자 등록 대장 ({centre})", "작성일: 2023-12-31"],
           [(c, 1) for c in enrol.columns], None, enrol,
           notes=["작성요령", "참여구분: 밴드지급 / 개인기기 / 비교군", "중도탈락일: 24주 이전 탈락자만 기재"])

    long = _long(people, rng)
    pid = long["participant_id"].astype(str).to_numpy()
    screening = pd.DataFrame({
        "참여자번호": pid,
        "측정시기": long["_week"].map(ROUND_KO).to_numpy(),
        "측정일": pd.to_datetime(long["_on"]).dt.strftime("%Y.%m.%d").to_numpy(),
        **{k: [np.nan if pd.isna(v) else round(float(v), 1) for v in
               [long.at[i, f"{m}_w{w}"] for i, w in zip(long.index, long["_week"])]]
           for k, m in (("허리둘레", "waist"), ("수축기", "sbp"), ("이완기", "dbp"), ("공복혈당", "glucose"),
                        ("중성지방", "tg"), ("HDL 콜레스테롤", "hdl"), ("체질량지수", "bmi"))},
    })
    top = ["참여자번호", "측정시기", "측정일", "허리둘레(cm)", "혈압(mmHg)", "", "혈액검사(mg/dL)", "", "", "체질량지수(kg/m2)"]
    sub = ["", "", "", "", "수축기", "이완기", "공복혈당", "중성지방", "HDL 콜레스테롤", ""]
    csv_body = screening.to_csv(index=False, header=False, float_format="%.1f", lineterminator="\r\n")
    head = (f"모바일 헬스케어 건강검진 결과 ({centre}),,,,,,,,,\r\n,,,,,,,,,\r\n"
            + ",".join(top) + "\r\n" + ",".join(sub) + "\r\n")
    paths["screening"].write_bytes((head + csv_body).encode("cp949"))

    def answer(col: str, yes: str, no: str) -> list[object]:
        return [None if pd.isna(v) else (yes if v >= 0.5 else no) for v in col]

    behaviour = {m: [long.at[i, f"{m}_w{w}"] for i, w in zip(long.index, long["_week"])]
                 for m in ("walk_days", "breakfast_days", "salt_high", "smoker", "heavy_drinker")}
    survey = pd.DataFrame({
        "참여자번호": pid,
        "측정시기": long["_week"].map(ROUND_KO).to_numpy(),
        "설문일": pd.to_datetime(long["_on"]).to_numpy(),
        "걷기 실천 일수(일/주)": [None if pd.isna(v) else int(v) for v in behaviour["walk_days"]],
        "아침식사(일/주)": [None if pd.isna(v) else int(v) for v in behaviour["breakfast_days"]],
        "짜게 먹는 습관": answer(behaviour["salt_high"], "예", "아니오"),
        "흡연": answer(behaviour["smoker"], "흡연", "비흡연"),
        "음주": answer(behaviour["heavy_drinker"], "고위험", "저위험"),
    })
    _excel(paths["survey"], [f"건강행태 설문 결과 ({centre})", "측정시기: 기초(0주) / 중간(12주) / 최종(24주)"],
           [("참여자번호", 1), ("측정시기", 1), ("설문일", 1), ("건강행태", 5)],
           ["", "", "", *survey.columns[3:]], survey)
    return paths


def write_from_params(syn: Any, base: str | Path = ".") -> dict[str, Any]:
    """The ``records.synthetic`` section: a cohort of ``n`` (seed ``seed``) written as the centre's files into
    ``folder`` and in full into ``<truth>/participants_truth.parquet``; once (a marker keeps the settings)."""
    base = Path(base)
    folder, truth = base / syn.folder, base / syn.truth
    settings = {"n": syn.n, "seed": syn.seed, "programme_start": syn.start, "version": 1}
    marker = folder / MARKER
    truth_file = truth / "participants_truth.parquet"
    if marker.exists() and truth_file.exists() and json.loads(marker.read_text(encoding="utf-8")).get("settings") == settings:
        return {**json.loads(marker.read_text(encoding="utf-8"))["result"], "written": False}
    people = make_participants(syn.n, seed=syn.seed, start=syn.start)
    truth.mkdir(parents=True, exist_ok=True)
    people.to_parquet(truth_file, index=False)
    (truth / "participants_truth.json").write_text(json.dumps({"truth": asdict(TRUTH), "seed": syn.seed, "n": syn.n},
                                                              indent=2), encoding="utf-8")
    paths = write_records(people, folder, seed=syn.seed)
    result = {"files": {k: str(p.relative_to(base)) for k, p in paths.items()}, "people": int(len(people)),
              "truth": str(truth_file.relative_to(base))}
    marker.write_text(json.dumps({"settings": settings, "result": result}, ensure_ascii=False, indent=2), encoding="utf-8")
    return {**result, "written": True}
