"""Synthetic programme records in the shape a public-health centre hands them over, with the truth apart.

:func:`write_records` turns a synthetic cohort into the centre's three files, all with Korean headers:

* ``등록대장.xlsx`` -- enrolment, one row per person, under two title rows, plus a notes sheet
  (참여자번호, 성별, 생년월일, 자치구, 등록일, 참여구분, 대상구분, 기수, 소득분위, 중도탈락일: the columns the
  cohort has);
* ``검진결과.csv`` -- screening, CP949, long (one row per person and 측정시기 기초/중간/최종), a
  title line and a two-row header whose upper cells span their sub-columns (혈압 / 혈액검사);
* ``건강행태설문.xlsx`` -- the behaviour survey, long, with merged upper header cells (건강행태).

Two cohorts are written (``records: synthetic: generator:``):

* ``cohort`` -- the smart-band programme (:func:`evaluation.synth.participants`): 밴드지급 / 개인기기 / 비교군,
  자치구, 기수, 소득분위, 체질량지수;
* ``mobile_healthcare`` -- 일산동구보건소's 24-week programme (:func:`evaluation.synth.mobile_healthcare.participants`,
  seed 003): 참여자 / 대기자, 대상구분 건강위험군 / 만성질환자, no Seoul district (the centre is in Goyang), no
  BMI; the waiting list is measured at 기초 and 최종 only.

A round that was not measured (after a participant left) has no row. With ``plant_errors`` a few rows are
damaged on purpose, one per kind in :data:`PLANTED` (an impossible value, a typo, a date that does not
exist, a repeated row, a person nobody enrolled...), as centres' files are; the reader quarantines them and
the truth lists them. The cohort itself, every latent and counterfactual column included, goes to
``<truth>/participants_truth.parquet`` (never next to the handed-over files); the analysis table is what
the records reader makes of the files. Written once: a marker records the settings and a second call
writes nothing.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .participants import TRUTH, participants as make_participants

MARKER = ".synthetic_records.json"
ENROLMENT_FILE, SCREENING_FILE, SURVEY_FILE = "등록대장.xlsx", "검진결과.csv", "건강행태설문.xlsx"
ARM_KO = {"band_issued": "밴드지급", "own_device": "개인기기", "comparison": "비교군",
          "participant": "참여자", "waiting_list": "대기자"}
GROUP_KO = {"at_risk": "건강위험군", "chronic": "만성질환자"}
ROUND_KO = {0: "기초", 12: "중간", 24: "최종"}
# screening columns: (header, sub-header, measure); the upper cells 혈압 / 혈액검사 span their sub-columns
SCREENING = (("허리둘레(cm)", "", "waist"), ("혈압(mmHg)", "수축기", "sbp"), ("", "이완기", "dbp"),
             ("혈액검사(mg/dL)", "공복혈당", "glucose"), ("", "중성지방", "tg"), ("", "HDL 콜레스테롤", "hdl"),
             ("체질량지수(kg/m2)", "", "bmi"))
ORPHAN_ID = "M99999"

PLANTED: dict[str, tuple[str, str]] = {
    "not_date": (ENROLMENT_FILE, "생년월일 1975.13.45 (a month and day that do not exist), one comparison person"),
    "withdrew_before_enrolment": (ENROLMENT_FILE, "중도탈락일 two weeks before 등록일, one participant who left"),
    "out_of_range": (SCREENING_FILE, "수축기 1400 (140.0 typed without its decimal point), one 최종 row"),
    "not_number": (SCREENING_FILE, "허리둘레 85..2, one 중간 (else 기초) row"),
    "dbp_not_below_sbp": (SCREENING_FILE, "수축기 and 이완기 swapped, one comparison person's 최종 row"),
    "not_round": (SCREENING_FILE, "측정시기 4차, one participant's row"),
    "no_enrolment": (SCREENING_FILE, f"a row for {ORPHAN_ID}, whom the enrolment file does not list"),
    "not_yes_no": (SURVEY_FILE, "흡연 모름, one 최종 row"),
    "survey_out_of_range": (SURVEY_FILE, "걷기 실천 일수 9 (a week has 7 days), one 기초 row"),
    "duplicate": (SURVEY_FILE, "one row handed over twice"),
}
"""The damage ``plant_errors`` writes, one row each: check code -> (file, what). ``survey_out_of_range`` is
reported by the reader as ``out_of_range``."""


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
                if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
                    continue
                if isinstance(v, dt.datetime):  # a date column holding a planted text too (object dtype)
                    sheet.write_datetime(r + i, j, pd.Timestamp(v).to_pydatetime(), date)
                else:
                    sheet.write(r + i, j, v)
    if notes:
        extra = book.add_worksheet("작성요령")
        for i, line in enumerate(notes):
            extra.write(i, 0, line)
    book.close()


def _text(v: object) -> str:
    """A screening cell as the centre's export writes it: one decimal, empty when not measured."""
    return "" if v is None or pd.isna(v) else f"{round(float(v), 1):.1f}"


def _frames(people: pd.DataFrame, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The three files' bodies (Korean column labels), from the columns the cohort has."""
    from ..reference import districts

    treated = people["treated"].to_numpy(bool)
    enrolled = pd.to_datetime(people["enrolled_on"])
    drop = people["dropout_week"].to_numpy(float)
    left = treated & (drop <= 24)  # only a departure during the 24 weeks is recorded
    withdrew = enrolled + pd.to_timedelta(np.where(left, np.ceil(np.where(left, drop, 0.0) * 7), 0), unit="D")
    enrol: dict[str, Any] = {
        "참여자번호": people["participant_id"].astype(str).to_numpy(),
        "성별": np.where(people["sex"].to_numpy() == "M", "남", "여"),
        "생년월일": pd.to_datetime(_birth_dates(people["index_date"], people["age"].to_numpy(int), rng)).to_numpy(),
    }
    if "district" in people:
        enrol["자치구"] = people["district"].map(districts.names("ko")).to_numpy()
    enrol["등록일"] = enrolled.where(treated).to_numpy()
    enrol["참여구분"] = people["arm"].astype(str).map(ARM_KO).to_numpy()
    if "group" in people:
        enrol["대상구분"] = people["group"].astype(str).map(GROUP_KO).to_numpy()
    if "wave" in people:
        enrol["기수"] = [None if not t or np.isnan(v) else int(v) for t, v in zip(treated, people["wave"].to_numpy(float))]
    if "income_quintile" in people:
        enrol["소득분위"] = people["income_quintile"].astype(int).tolist()
    enrol["중도탈락일"] = withdrew.where(left).to_numpy()
    enrol_df = pd.DataFrame(enrol)
    for c in ("생년월일", "등록일", "중도탈락일"):
        enrol_df[c] = pd.to_datetime(enrol_df[c])

    long = _long(people, rng)
    weeks = long["_week"].to_numpy()

    def at_round(measure: str) -> list[object]:
        return [long.at[i, f"{measure}_w{w}"] for i, w in zip(long.index, weeks)]

    screening = pd.DataFrame({"참여자번호": long["participant_id"].astype(str).to_numpy(),
                              "측정시기": long["_week"].map(ROUND_KO).to_numpy(),
                              "측정일": pd.to_datetime(long["_on"]).dt.strftime("%Y.%m.%d").to_numpy()})
    for top, sub, m in SCREENING:
        if f"{m}_w0" in people:
            screening[m] = [_text(v) for v in at_round(m)]

    def answer(values: list[object], yes: str, no: str) -> list[object]:
        return [None if pd.isna(v) else (yes if v >= 0.5 else no) for v in values]

    survey = pd.DataFrame({
        "참여자번호": long["participant_id"].astype(str).to_numpy(),
        "측정시기": long["_week"].map(ROUND_KO).to_numpy(),
        "설문일": pd.to_datetime(long["_on"]).to_numpy(),
        "걷기 실천 일수(일/주)": [None if pd.isna(v) else int(v) for v in at_round("walk_days")],
        "아침식사(일/주)": [None if pd.isna(v) else int(v) for v in at_round("breakfast_days")],
        "짜게 먹는 습관": answer(at_round("salt_high"), "예", "아니오"),
        "흡연": answer(at_round("smoker"), "흡연", "비흡연"),
        "음주": answer(at_round("heavy_drinker"), "고위험", "저위험"),
    })
    return {"enrolment": enrol_df, "screening": screening, "survey": survey}


def _plant(frames: dict[str, pd.DataFrame], people: pd.DataFrame, seed: int) -> list[dict[str, Any]]:
    """Damage one row per kind of :data:`PLANTED` in ``frames`` (in place), each in a different person;
    returns what was planted (check, file, participant_id, round in weeks or None)."""
    rng = np.random.default_rng([seed, 7])  # its own stream: the undamaged cells are those of plant_errors=False
    enrol, scr, srv = frames["enrolment"], frames["screening"], frames["survey"]
    used: set[str] = set()
    treated = dict(zip(people["participant_id"].astype(str), people["treated"].astype(bool)))
    planted: list[dict[str, Any]] = []

    def pick(frame: pd.DataFrame, mask: np.ndarray) -> int | None:
        ok = np.flatnonzero(mask & ~frame["참여자번호"].isin(used).to_numpy())
        if not len(ok):
            return None
        i = int(rng.choice(ok))
        used.add(str(frame.at[i, "참여자번호"]))
        return i

    def note(check: str, frame: pd.DataFrame, i: int, pid: str | None = None) -> None:
        rnd = frame.at[i, "측정시기"] if "측정시기" in frame else None
        week = {v: k for k, v in ROUND_KO.items()}.get(rnd) if rnd is not None else None
        planted.append({"check": check, "file": PLANTED[check][0], "participant_id": pid or str(frame.at[i, "참여자번호"]),
                        "round": week})

    is_control = ~enrol["참여자번호"].map(treated).astype(bool).to_numpy()
    enrol["생년월일"] = enrol["생년월일"].astype(object)
    if (i := pick(enrol, is_control)) is not None:
        enrol.at[i, "생년월일"] = "1975.13.45"
        note("not_date", enrol, i)
    if (i := pick(enrol, enrol["중도탈락일"].notna().to_numpy())) is not None:
        enrol["중도탈락일"] = enrol["중도탈락일"].astype(object)
        enrol.at[i, "중도탈락일"] = pd.Timestamp(enrol.at[i, "등록일"]) - pd.Timedelta(days=14)
        note("withdrew_before_enrolment", enrol, i)
    s_treated = scr["참여자번호"].map(treated).astype(bool).to_numpy()
    final, mid = (scr["측정시기"] == "최종").to_numpy(), (scr["측정시기"] == "중간").to_numpy()
    if "sbp" in scr and (i := pick(scr, final & s_treated & scr["sbp"].ne("").to_numpy())) is not None:
        scr.at[i, "sbp"] = "1400"
        note("out_of_range", scr, i)
    if "waist" in scr and (i := pick(scr, (mid if mid.any() else ~final) & s_treated)) is not None:
        scr.at[i, "waist"] = "85..2"
        note("not_number", scr, i)
    if {"sbp", "dbp"} <= set(scr) and (i := pick(scr, final & ~s_treated & scr["sbp"].ne("").to_numpy())) is not None:
        scr.at[i, "sbp"], scr.at[i, "dbp"] = scr.at[i, "dbp"], scr.at[i, "sbp"]
        note("dbp_not_below_sbp", scr, i)
    if (i := pick(scr, s_treated & ~(scr["측정시기"] == "기초").to_numpy())) is not None:
        note("not_round", scr, i)  # noted before the round is overwritten
        scr.at[i, "측정시기"] = "4차"
    clean = np.flatnonzero((scr["측정시기"] == "기초").to_numpy() & ~scr["참여자번호"].isin(used).to_numpy())
    orphan = scr.iloc[[int(clean[0])]].assign(참여자번호=ORPHAN_ID)  # an undamaged baseline row under an unknown id
    frames["screening"] = scr = pd.concat([scr, orphan], ignore_index=True)
    note("no_enrolment", scr, len(scr) - 1, ORPHAN_ID)
    v_final = (srv["측정시기"] == "최종").to_numpy()
    if (i := pick(srv, v_final & srv["흡연"].notna().to_numpy())) is not None:
        srv.at[i, "흡연"] = "모름"
        note("not_yes_no", srv, i)
    walk = "걷기 실천 일수(일/주)"
    srv[walk] = srv[walk].astype(object)
    if (i := pick(srv, (srv["측정시기"] == "기초").to_numpy() & srv[walk].notna().to_numpy())) is not None:
        srv.at[i, walk] = 9
        note("survey_out_of_range", srv, i)
    if (i := pick(srv, np.ones(len(srv), bool))) is not None:
        frames["survey"] = pd.concat([srv.iloc[: i + 1], srv.iloc[[i]], srv.iloc[i + 1:]], ignore_index=True)
        note("duplicate", srv, i)
    return planted


def write_centre_files(people: pd.DataFrame, folder: str | Path, *, seed: int = 2023, centre: str = "○○구 보건소",
                       programme: str = "2023년 모바일 헬스케어 사업", as_of: str = "2023-12-31",
                       plant_errors: bool = False) -> tuple[dict[str, Path], list[dict[str, Any]]]:
    """Write the centre's enrolment, screening and survey files for ``people``; returns their paths and the
    rows damaged on purpose (empty unless ``plant_errors``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    frames = _frames(people, rng)
    planted = _plant(frames, people, seed) if plant_errors else []
    paths = {"enrolment": folder / ENROLMENT_FILE, "screening": folder / SCREENING_FILE, "survey": folder / SURVEY_FILE}

    enrol = frames["enrolment"]
    arms = " / ".join(ARM_KO[a] for a in ARM_KO if a in set(people["arm"].astype(str)))
    notes = ["작성요령", f"참여구분: {arms}", "중도탈락일: 24주 이전 탈락자만 기재"]
    if "대상구분" in enrol:
        notes.append("대상구분: 건강위험군 (대사증후군 위험요인 1개 이상) / 만성질환자 (고혈압·당뇨)")
    _excel(paths["enrolment"], [f"{programme} 참여자 등록 대장 ({centre})", f"작성일: {as_of}"],
           [(c, 1) for c in enrol.columns], None, enrol, notes=notes)

    scr = frames["screening"]
    measures = [m for _, _, m in SCREENING if m in scr]
    top = ["참여자번호", "측정시기", "측정일"] + [t for t, _, m in SCREENING if m in measures]
    sub = ["", "", ""] + [s for _, s, m in SCREENING if m in measures]
    body = scr.to_csv(index=False, header=False, lineterminator="\r\n")
    blank = "," * (len(top) - 1)
    head = (f"모바일 헬스케어 건강검진 결과 ({centre}){blank}\r\n{blank}\r\n" + ",".join(top) + "\r\n" + ",".join(sub) + "\r\n")
    paths["screening"].write_bytes((head + body).encode("cp949"))

    survey = frames["survey"]
    _excel(paths["survey"], [f"건강행태 설문 결과 ({centre})", "측정시기: 기초(0주) / 중간(12주) / 최종(24주)"],
           [("참여자번호", 1), ("측정시기", 1), ("설문일", 1), ("건강행태", 5)],
           ["", "", "", *survey.columns[3:]], survey)
    return paths, planted


def write_records(people: pd.DataFrame, folder: str | Path, *, seed: int = 2023, centre: str = "○○구 보건소",
                  **kwargs: Any) -> dict[str, Path]:
    """Write the centre's enrolment, screening and survey files for ``people``; returns their paths
    (``kwargs``: see :func:`write_centre_files`)."""
    return write_centre_files(people, folder, seed=seed, centre=centre, **kwargs)[0]


def _mobile_healthcare(syn: Any) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Seed 003's programme: the cohort, its truth record and the file settings (centre, programme, as-of date)."""
    from . import mobile_healthcare as mh

    people = mh.participants(n_at_risk=syn.n - syn.chronic, n_chronic=syn.chronic, n_comparison=syn.waiting_list,
                             start=syn.start, seed=syn.seed)
    truth = {"generator": "mobile_healthcare", "seed": syn.seed, "participants": syn.n, "chronic": syn.chronic,
             "waiting_list": syn.waiting_list, "rates": dict(mh.REPORTED), "comparison_rates": dict(mh.COMPARISON_RATES),
             "national": dict(mh.NATIONAL)}
    last = pd.concat([pd.to_datetime(people["index_date"]) + pd.Timedelta(weeks=w) for w in (0, 24)]).max()
    files = {"centre": "일산동구보건소", "programme": "모바일 헬스케어 (24주) 사업",
             "as_of": (last + pd.offsets.MonthEnd(0)).strftime("%Y-%m-%d")}
    return people, truth, files


def write_from_params(syn: Any, base: str | Path = ".") -> dict[str, Any]:
    """The ``records.synthetic`` section: a cohort (``generator``: the smart band's ``n`` people, or the
    mobile-healthcare programme's ``n`` participants and ``waiting_list``) written as the centre's files into
    ``folder`` and in full into ``<truth>/participants_truth.parquet``; once (a marker keeps the settings)."""
    base = Path(base)
    folder, truth = base / syn.folder, base / syn.truth
    generator = getattr(syn, "generator", "cohort")
    settings: dict[str, Any] = {"n": syn.n, "seed": syn.seed, "programme_start": syn.start, "version": 1}
    if generator != "cohort":
        settings.update(generator=generator, chronic=syn.chronic, waiting_list=syn.waiting_list)
    if getattr(syn, "plant_errors", False):
        settings["plant_errors"] = True
    marker = folder / MARKER
    truth_file = truth / "participants_truth.parquet"
    if marker.exists() and truth_file.exists() and json.loads(marker.read_text(encoding="utf-8")).get("settings") == settings:
        return {**json.loads(marker.read_text(encoding="utf-8"))["result"], "written": False}
    if generator == "mobile_healthcare":
        people, record, files = _mobile_healthcare(syn)
    else:
        people = make_participants(syn.n, seed=syn.seed, start=syn.start)
        record, files = {"truth": asdict(TRUTH), "seed": syn.seed, "n": syn.n}, {}
    truth.mkdir(parents=True, exist_ok=True)
    people.to_parquet(truth_file, index=False)
    paths, planted = write_centre_files(people, folder, seed=syn.seed, plant_errors=settings.get("plant_errors", False),
                                        **files)
    if planted:
        record["planted"] = planted  # the rows damaged on purpose: what the reader must quarantine
    (truth / "participants_truth.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    result = {"files": {k: str(p.relative_to(base)) for k, p in paths.items()}, "people": int(len(people)),
              "truth": str(truth_file.relative_to(base))}
    if planted:
        result["planted"] = len(planted)
    marker.write_text(json.dumps({"settings": settings, "result": result}, ensure_ascii=False, indent=2), encoding="utf-8")
    return {**result, "written": True}
