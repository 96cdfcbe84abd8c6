"""The mobile-healthcare programme (seed 003) from the centre's own files: synthetic 등록대장.xlsx, 검진결과.csv (CP949)
and 건강행태설문.xlsx -> evaluation.records -> effects.kpis.

The generator's expected rates are the reported ones (57.4% behaviour improvement, 65.1% risk-factor reduction),
so the Wilson CIs computed from what the reader makes of the files must cover them; the waiting list must survive
the reader as a comparison group (its own arm, never treated) and still differ from the participants; the rows
damaged on purpose must be quarantined with their reasons while everything else goes on.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation import effects, records
from evaluation.synth import mobile_healthcare as mh
from records_files import ENROL_ROWS, ENROL_TOP, write_xlsx

PARAMS = """programme: mobile_healthcare_ilsandong
notebooks: [{path: notebooks/x.ipynb}]
records:
  files: [data/records]
  output: data/participants.parquet
  optional: [district]
  demo: true
  pseudonymise_ids: false
  synthetic: {generator: mobile_healthcare, n: 990, chronic: 50, waiting_list: 400, seed: 3, start: "2022-07-01",
              plant_errors: true, folder: data/records, truth: data/truth}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One records build of the programme's params section: the files written, read, the table written."""
    from evaluation.runs import params

    root = tmp_path_factory.mktemp("mhc-records")
    (root / "notebooks").mkdir()
    (root / "p.yaml").write_text(PARAMS, encoding="utf-8")
    cfg = params.load(root / "p.yaml", base_dir=root, check_files=False)
    result = records.build(cfg, base_dir=root)
    truth = json.loads((root / "data" / "truth" / "participants_truth.json").read_text(encoding="utf-8"))
    return root, result, truth


def test_the_centre_files_are_written_as_handed_over(built):
    root, result, truth = built
    folder = root / "data" / "records"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["건강행태설문.xlsx", "검진결과.csv", "등록대장.xlsx"]
    raw = (folder / "검진결과.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    head = raw.decode("cp949").splitlines()[:4]
    assert "일산동구보건소" in head[0]
    assert head[2].startswith("참여자번호,측정시기,측정일,허리둘레(cm),혈압(mmHg)") and "수축기" in head[3]
    assert "체질량지수" not in head[2]  # this programme measures no BMI
    sheets = {f: result.records.files.set_index("file").loc[f"data/records/{f}", "columns"] for f in ("등록대장.xlsx",)}
    assert set(sheets["등록대장.xlsx"]) == {"participant_id", "sex", "birth_date", "enrolled_on", "arm", "group", "withdrew_on"}
    # the truth (the generator's own table and rates) sits apart from the handed-over files
    assert not list(folder.glob("*truth*")) and (root / "data" / "truth" / "participants_truth.parquet").exists()
    assert truth["rates"] == mh.REPORTED and truth["waiting_list"] == 400 and truth["chronic"] == 50


def test_planted_damage_is_quarantined_with_reasons_and_the_rest_goes_on(built):
    root, result, truth = built
    rec = result.records
    planted = {(t["participant_id"], t["check"].removeprefix("survey_")) for t in truth["planted"]}
    assert len(planted) == 10
    errors = set(zip(rec.errors["file"].str.rsplit("/", n=1).str[-1], rec.errors["check"]))
    assert {(t["file"], t["check"].removeprefix("survey_")) for t in truth["planted"]} == errors  # nothing else is an error
    q = rec.quarantine
    got = {(pid, reason) for pid, reason in zip(q["participant_id"], q["reason"]) if reason != "enrolment_quarantined"}
    assert got == planted
    # a person whose enrolment row is refused takes their rounds along; everybody else is kept
    refused = {t["participant_id"] for t in truth["planted"] if t["file"] == "등록대장.xlsx"}
    assert set(q.loc[q["reason"] == "enrolment_quarantined", "participant_id"]) == refused
    people = pd.read_parquet(root / "data" / "participants.parquet")
    assert len(people) == 990 + 400 - len(refused) and not set(people["participant_id"]) & refused
    m = result.manifest()
    assert m["rows"]["balanced"] and m["rows"]["rows_quarantined"] == len(q) and not m["files_refused"]
    saved = pd.read_parquet(records.quarantine_path(root / "data" / "participants.parquet"))
    assert len(saved) == len(q)
    reasons = records.quarantine_reasons(root / "data" / "participants.parquet")
    assert "이완기 혈압이 수축기 혈압 이상" in reasons and "등록 자료에 없는 참여자번호" in reasons


def test_files_reader_kpis_cover_the_reported_rates_and_keep_the_waiting_list(built):
    root, _, _ = built
    p = pd.read_parquet(root / "data" / "participants.parquet")
    assert list(p.columns) == records.participant_columns(group=True)
    arm = p["arm"].astype(str)
    assert list(p["arm"].cat.categories) == ["participant", "waiting_list"]
    assert (p["treated"] == (arm == "participant")).all() and p.loc[arm == "waiting_list", "enrolled_on"].isna().all()
    truth = pd.read_parquet(root / "data" / "truth" / "participants_truth.parquet")
    truth = truth[truth["participant_id"].isin(p["participant_id"])]
    assert (p.groupby([arm, p["group"].astype(str)]).size().to_dict()
            == truth.groupby([truth["arm"].astype(str), truth["group"].astype(str)]).size().to_dict())
    assert set(truth["group"]) == {"at_risk", "chronic"} and (truth["arm"].astype(str) == "waiting_list").sum() == len(p) - p["treated"].sum()
    waiting = p[arm == "waiting_list"]
    assert waiting[[f"{m}_w12" for m in ("sbp", "walk_days")]].isna().all().all()  # the waiting list has no 중간 round
    assert waiting["sbp_w24"].notna().mean() > 0.9

    kpi = effects.kpis(p, benchmarks=mh.NATIONAL, verbose=False)  # joiners only
    t = kpi.table.set_index(["indicator", "week"])
    for ind, rate in mh.REPORTED.items():
        row = t.loc[(ind, 24)]
        assert row["n"] > 800 and row["ci_low"] <= rate <= row["ci_high"], (ind, row["ci_low"], row["ci_high"])
    cmp = effects.kpis(waiting, weeks=(24,), joiners_only=False, verbose=False)
    for ind, rate in mh.COMPARISON_RATES.items():
        row = cmp.table.set_index(["indicator", "week"]).loc[(ind, 24)]
        assert row["n"] > 350 and row["ci_low"] <= rate <= row["ci_high"], (ind, row["ci_low"], row["ci_high"])
    contrast = effects.kpi_contrast(kpi, cmp, week=24).set_index("indicator")
    for ind, rate in mh.REPORTED.items():  # the comparison survives the reader: the programme's edge is still there
        r = contrast.loc[ind]
        assert r["ci_low"] > 0 and r["ci_low"] <= rate - mh.COMPARISON_RATES[ind] <= r["ci_high"], (ind, r.to_dict())


def test_records_equal_the_generator_cohort_where_nothing_was_damaged(built):
    root, result, truth = built
    got = pd.read_parquet(root / "data" / "participants.parquet").set_index("participant_id")
    want = pd.read_parquet(root / "data" / "truth" / "participants_truth.parquet").set_index("participant_id")
    damaged = {t["participant_id"] for t in truth["planted"]}
    ok = got.index.difference(list(damaged))
    assert len(ok) == len(got) - (len(damaged) - 3)  # two refused at enrolment, one never enrolled
    measures = [c for c in want.columns if c.rsplit("_w", 1)[-1] in ("0", "12", "24")]
    a, b = got.loc[ok, measures].astype(float), want.loc[ok, measures].astype(float)
    assert np.allclose(a.fillna(-1), b.fillna(-1)), (a != b).sum()[lambda s: s > 0]
    assert (got.loc[ok, "age"] == want.loc[ok, "age"]).all() and (got.loc[ok, "sex"] == want.loc[ok, "sex"]).all()
    assert (got.loc[ok, "group"].astype(str) == want.loc[ok, "group"].astype(str)).all()
    joined = ok[want.loc[ok, "treated"].to_numpy(bool)]
    dw = want.loc[joined, "dropout_week"].where(lambda s: s <= 24, np.inf)  # recorded as a date only when someone left
    assert np.allclose(got.loc[joined, "dropout_week"], dw)


def test_arm_and_group_codes_and_a_centre_outside_seoul(tmp_path):
    top = ["참여자번호", "성별", "생년월일", "등록일", "참여구분", "대상구분"]
    rows = [["M-1", "여", "1970-05-10", "2023-03-06", "참여자", "건강위험군"],
            ["M-2", "남", "1980-01-02", "2023-03-06", "참여", "만성질환자"],
            ["M-3", "남", "1965-07-08", "", "대기자", "위험군"],
            ["M-4", "여", "1975-03-04", "", "대기군", "고위험?"]]
    write_xlsx(tmp_path / "등록.xlsx", rows, top=top, sub=None, notes_sheet=False)
    refused = records.read_records([tmp_path / "등록.xlsx"], demo=True, pseudonymise_ids=False)
    assert refused.files_refused and refused.errors["check"].tolist() == ["missing_column"]
    assert refused.errors["column"].iloc[0] == "자치구"
    rec = records.read_records([tmp_path / "등록.xlsx"], demo=True, pseudonymise_ids=False, optional=["district"])
    assert rec.errors[["row", "column", "check"]].to_dict("records") == [{"row": 8, "column": "F (대상구분)", "check": "not_group"}]
    assert "대상구분은 건강위험군/만성질환자" in rec.error_lines()[0]
    p = records.to_participants(rec, programme="mobile_healthcare_ilsandong").set_index("participant_id")
    assert p["arm"].astype(str).to_dict() == {"M-1": "participant", "M-2": "participant", "M-3": "waiting_list"}
    assert p["group"].astype(str).to_dict() == {"M-1": "at_risk", "M-2": "chronic", "M-3": "at_risk"}
    assert p["treated"].to_dict() == {"M-1": True, "M-2": True, "M-3": False} and p["district"].isna().all()
    with pytest.raises(ValueError, match="cannot be left out"):
        records.read_records([tmp_path / "등록.xlsx"], demo=True, pseudonymise_ids=False, optional=["sex"])
    # the smart-band design keeps its own arms only (no empty mobile-healthcare categories in its tables)
    (tmp_path / "sb").mkdir()
    write_xlsx(tmp_path / "sb" / "등록.xlsx", ENROL_ROWS, top=ENROL_TOP, sub=None, notes_sheet=False)
    sb = records.to_participants(records.read_records([tmp_path / "sb"], demo=True, pseudonymise_ids=False), programme="x")
    assert list(sb["arm"].cat.categories) == ["band_issued", "own_device", "comparison"] and "group" not in sb.columns


def test_params_refuse_what_does_not_fit_the_generator(tmp_path):
    from evaluation.runs import params

    (tmp_path / "notebooks").mkdir()
    bad = PARAMS.replace("generator: mobile_healthcare, ", "")
    (tmp_path / "p.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(params.ParamsError, match="mobile_healthcare only"):
        params.load(tmp_path / "p.yaml", base_dir=tmp_path, check_files=False)
    (tmp_path / "p.yaml").write_text(PARAMS.replace("optional: [district]", "optional: [birth_date]"), encoding="utf-8")
    with pytest.raises(params.ParamsError, match="cannot be left out"):
        params.load(tmp_path / "p.yaml", base_dir=tmp_path, check_files=False)
