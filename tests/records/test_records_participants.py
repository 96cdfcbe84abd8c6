"""Records -> participants: pseudonyms join the wearable store's, the long->wide pivot on known data, the
synthetic centre files read back to the generator's cohort, and the build from a params file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import ingest, records
from records_files import ENROL_ROWS, ENROL_TOP, SURVEY_ROWS, SURVEY_TOP, write_csv, write_xlsx

KEY = "a-test-key-of-at-least-16-bytes"


def test_pseudonyms_join_the_wearable_store(tmp_path):
    raw = ["A-001", "A-002", "A-003"]
    band = tmp_path / "band.csv"
    band.write_text("participant_id,ts,steps,heart_rate\n" + "".join(
        f"{pid},2023-03-{d:02d} 08:00:00,{50 + d},70\n" for pid in raw for d in (6, 7)), encoding="utf-8")
    minutes = ingest.read_exports(band, key=KEY).minutes
    write_xlsx(tmp_path / "등록.xlsx", ENROL_ROWS, top=ENROL_TOP, sub=None, notes_sheet=False)
    rec = records.read_records([tmp_path / "등록.xlsx"], key=KEY)
    ids = set(rec.enrolment["participant_id"])
    assert ids == set(minutes["participant_id"].astype(str)) and len(ids) == 3
    assert not ids & set(raw) and all(i.startswith("p") for i in ids)
    assert ids == set(ingest.pseudonymise(pd.Series(raw), ingest.load_key(KEY)))
    other = records.read_records([tmp_path / "등록.xlsx"], key=KEY[::-1])  # another key: no join
    assert not set(other.enrolment["participant_id"]) & ids


def test_no_key_no_reading(monkeypatch):
    monkeypatch.delenv(ingest.KEY_ENV, raising=False)  # conftest sets a test key for the whole suite
    with pytest.raises(ingest.MissingKeyError):
        records.read_records([], key=None)
    with pytest.raises(ValueError, match="demo"):
        records.read_records([], pseudonymise_ids=False)


def test_long_to_participants_on_known_data(tmp_path):
    write_xlsx(tmp_path / "등록.xlsx", ENROL_ROWS, top=ENROL_TOP, sub=None, notes_sheet=False)
    write_csv(tmp_path / "검진.csv")  # A-001 기초+중간, A-002 기초+최종
    write_csv(tmp_path / "설문.csv", SURVEY_ROWS, title=[], top=SURVEY_TOP, sub=None)  # A-003 기초+최종
    rec = records.read_records([tmp_path], demo=True, pseudonymise_ids=False)
    assert rec.ok, rec.error_lines()
    p = records.to_participants(rec, programme="mobile_health").set_index("participant_id")
    assert list(p.reset_index().columns) == records.participant_columns()
    assert not [c for c in p.columns if c.endswith("_cf")] and "birth_date" not in p.columns
    a1, a2, a3 = p.loc["A-001"], p.loc["A-002"], p.loc["A-003"]
    # arm, treatment, wave (기수 given / derived from the enrolment month / comparison 0)
    assert (a1["arm"], a2["arm"], a3["arm"]) == ("band_issued", "own_device", "comparison")
    assert a1["treated"] and a2["treated"] and not a3["treated"]
    assert (a1["wave"], a2["wave"], a3["wave"]) == (1, 1, 0)
    # index date: enrolment, else the baseline measurement; age in completed years there
    assert a1["index_date"] == pd.Timestamp("2023-03-06") and a3["index_date"] == pd.Timestamp("2023-03-20")
    assert pd.isna(a3["enrolled_on"])
    assert (a1["age"], a2["age"], a3["age"]) == (52, 32, 64)  # 1958-03-21 -> 64 on 2023-03-20, a day short of 65
    assert (a1["age_band"], a3["age_band"]) == ("50-59", "60-69")
    assert (a1["district"], a2["district"], a3["district"]) == ("11680", "11140", "11350")
    # dropout: 2023-03-06 -> 2023-05-01 is 8 weeks; no withdrawal = inf; comparison NaN
    assert a1["dropout_week"] == 8.0 and np.isinf(a2["dropout_week"]) and np.isnan(a3["dropout_week"])
    assert (a1["completed"], a2["completed"], a3["completed"]) == (False, True, False)
    # measures by round; unmeasured rounds NaN
    assert (a1["waist_w0"], a1["waist_w12"]) == (91.5, 89.0) and np.isnan(a1["waist_w24"])
    assert (a2["sbp_w0"], a2["sbp_w24"], a2["smoker_w24"]) == (118.0, 117.0, 0.0) and np.isnan(a2["sbp_w12"])
    assert (a3["walk_days_w0"], a3["walk_days_w24"]) == (2.0, 3.0) and np.isnan(a3["waist_w0"])


def test_screening_and_survey_rows_merge_and_conflicts_are_errors(tmp_path):
    write_xlsx(tmp_path / "등록.xlsx", ENROL_ROWS, top=ENROL_TOP, sub=None, notes_sheet=False)
    write_csv(tmp_path / "검진.csv")
    # the survey repeats A-001's baseline smoking answer, once agreeing and (in another file) disagreeing
    write_csv(tmp_path / "설문.csv", [["A-001", "기초", "2023-03-06", "4", "예"]], title=[],
              top=["참여자번호", "측정시기", "설문일", "걷기 실천 일수", "흡연"], sub=None)
    rec = records.read_records([tmp_path], demo=True, pseudonymise_ids=False)
    assert rec.ok, rec.error_lines()
    base = rec.measurements.set_index(["participant_id", "round"]).loc[("A-001", 0.0)]
    assert (base["waist"], base["walk_days"], base["smoker"]) == (91.5, 4.0, 1.0)
    write_csv(tmp_path / "설문2.csv", [["A-001", "기초", "2023-03-06", "4", "아니오"]], title=[],
              top=["참여자번호", "측정시기", "설문일", "걷기 실천 일수", "흡연"], sub=None)
    rec = records.read_records([tmp_path], demo=True, pseudonymise_ids=False)
    assert rec.errors[["file", "row", "check"]].to_dict("records") == [
        {"file": str(tmp_path / "설문2.csv"), "row": 3, "check": "conflict"}]


def test_orphan_rounds_and_enrolment_errors_are_quarantined(tmp_path):
    rows = [r[:] for r in ENROL_ROWS]
    rows[0][3] = "부산진구"  # not a Seoul district: A-001's enrolment row is quarantined, with their rounds
    write_xlsx(tmp_path / "등록.xlsx", rows, top=ENROL_TOP, sub=None, notes_sheet=False)
    write_csv(tmp_path / "검진.csv", [["A-009", "기초", "2023-03-06", "80", "120", "80", "90", "아니오"],
                                     ["A-001", "기초", "2023-03-06", "91.5", "135", "88", "104", "예"]])
    rec = records.read_records([tmp_path], demo=True, pseudonymise_ids=False)
    got = {(r.file.rsplit("/", 1)[-1], int(r.row), r.check) for r in rec.errors.itertuples()}
    assert got == {("등록.xlsx", 5, "not_district"), ("검진.csv", 6, "no_enrolment")}
    assert set(rec.quarantine["reason"]) == {"not_district", "no_enrolment", "enrolment_quarantined"}
    assert rec.rows_read == rec.rows_kept + rec.rows_quarantined == 5 and rec.rows_quarantined == 3
    assert set(rec.enrolment["participant_id"]) == {"A-002", "A-003"} and rec.measurements.empty


def test_synthetic_centre_files_read_back_to_the_generator_cohort(tmp_path):
    from evaluation import synth
    from evaluation.synth.records import write_records

    people = synth.participants(300, seed=11)
    paths = write_records(people, tmp_path / "records", seed=11)
    assert paths["screening"].read_bytes().decode("cp949").startswith("모바일 헬스케어")  # CP949, title line
    rec = records.read_records([tmp_path / "records"], demo=True, pseudonymise_ids=False)
    assert rec.rows_read == len(people) + 2 * int(people[[f"waist_w{w}" for w in (0, 12, 24)]].notna().sum().sum())
    assert rec.rows_read == rec.rows_kept + rec.rows_quarantined
    got = records.to_participants(rec, programme="smartband_9988").set_index("participant_id")
    want = people.set_index("participant_id")
    assert not [c for c in got.columns if c.endswith("_cf")] and "habitual_steps" not in got.columns
    bad = set(rec.quarantine["participant_id"])  # implausible generator draws (e.g. DBP >= SBP) are quarantined
    assert len(bad) <= 0.02 * len(people)
    ok = got.index.difference(list(bad))
    for col in got.columns:
        a, b = got.loc[ok, col], want.loc[ok, col]
        if col == "dropout_week":  # recorded as a date (whole days), and only when someone left before week 24
            b = b.where(~(b > 24), np.inf)
            assert np.allclose(a.fillna(-1), b.fillna(-1), atol=1 / 7), col
        elif col == "programme":
            continue
        else:
            assert ((a.astype(object) == b.astype(object)) | (a.isna() & b.isna())).all(), col
    assert (got.loc[ok, "completed"] == want.loc[ok, "completed"]).all()
    # Table 1 of notebook 10 works on a table read from records (no latent habitual_steps in it)
    from evaluation.cohort import overview

    t1 = overview.baseline_table(got.reset_index(), by="arm", reference="comparison")
    assert "habitual_steps" not in set(t1["variable"]) and {"age", "sbp_w0", "income_quintile"} <= set(t1["variable"])


def test_build_from_params_writes_the_table_once_and_keeps_truth_apart(tmp_path):
    from evaluation.runs import params

    (tmp_path / "notebooks").mkdir()
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        "programme: smartband_9988\nnotebooks: [{path: notebooks/x.ipynb}]\n"
        "records:\n  files: [data/records]\n  output: data/participants.parquet\n  demo: true\n"
        "  pseudonymise_ids: false\n  synthetic: {n: 120, seed: 5, folder: data/records, truth: data/truth}\n",
        encoding="utf-8")
    loaded = params.load(cfg, base_dir=tmp_path, check_files=False)
    first = records.build(loaded, base_dir=tmp_path)
    assert first.written and first.synthetic["written"]
    table = pd.read_parquet(tmp_path / "data" / "participants.parquet")
    truth = pd.read_parquet(tmp_path / "data" / "truth" / "participants_truth.parquet")
    assert len(table) == len(truth) == 120
    assert not [c for c in table.columns if c.endswith("_cf")] and [c for c in truth.columns if c.endswith("_cf")]
    assert not list((tmp_path / "data" / "records").glob("*truth*"))
    m = first.manifest()
    assert m["rows"]["balanced"] and m["participants"] == 120 and m["files"] and not m["files_refused"]
    again = records.build(loaded, base_dir=tmp_path)
    assert not again.written and not again.synthetic["written"]
