"""Ingest: schema errors, coercion, time zones, quarantine with reasons, row accounting, pseudonyms."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import ingest, signals

KEY = "k" * 32


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def test_time_zones_and_coercion(tmp_path):
    f = write_csv(tmp_path / "a.csv", """
pid,time,steps,hr
u1,2023-03-06 09:00:00,10,70
u1,2023-03-06T00:01:00Z,11,
u1,2023-03-06 09:02:00+09:00,12,71.5
u1,2023-03-05 19:03:00-05:00,0,72
""")
    r = ingest.read_exports(f, columns={"pid": "participant_id", "time": "ts", "hr": "heart_rate"}, key=KEY)
    m = r.minutes
    assert str(m["ts"].dt.tz) == "Asia/Seoul"
    expected = pd.date_range("2023-03-06 09:00", periods=4, freq="min", tz="Asia/Seoul")
    assert (m["ts"] == expected).all()
    assert m["steps"].dtype == np.int32 and m["heart_rate"].dtype == np.float32
    assert np.isnan(m["heart_rate"].iloc[1])
    assert r.accounting.rows_in == 4 and r.accounting.rows_kept == 4
    # naive times from a UTC export
    r2 = ingest.read_exports(f, columns={"pid": "participant_id", "time": "ts", "hr": "heart_rate"}, key=KEY, source_tz="UTC")
    assert r2.minutes["ts"].iloc[0] == pd.Timestamp("2023-03-06 18:00", tz="Asia/Seoul")


def test_quarantine_reasons_and_accounting(tmp_path):
    f = write_csv(tmp_path / "b.csv", """
participant_id,ts,steps,heart_rate
u1,2023-03-06 00:00,5,60
,2023-03-06 00:01,5,60
u1,not a time,5,60
u1,2023-03-06 00:03,five,60
u1,2023-03-06 00:04,2.5,60
u1,2023-03-06 00:05,5,fast
u2,2023-03-06 00:06,5,60
u1,2023-04-01 00:00,5,60
u1,2023-03-06 00:08,,
""")
    enrolled = ingest.pseudonymise(["u1"], ingest.load_key(KEY)).tolist()
    qdir = tmp_path / "q"
    r = ingest.read_exports(f, key=KEY, participants=enrolled, period=("2023-03-01", "2023-03-31"), quarantine_dir=qdir)
    acc = r.accounting
    assert (acc.rows_in, acc.rows_kept, acc.rows_quarantined) == (9, 2, 7)
    assert acc.by_reason == {
        "missing_participant": 1, "unparseable_ts": 1, "unparseable_steps": 1, "non_integer_steps": 1,
        "unparseable_heart_rate": 1, "unknown_participant": 1, "out_of_period": 1,
    }
    q = pd.read_parquet(r.quarantine_path)
    assert len(q) == 7 and set(q["reason"]) == set(acc.by_reason)
    assert q.loc[q["reason"] == "unparseable_steps", "row"].tolist() == [4]
    assert "u2" not in set(q["participant_id"].dropna())  # never a raw id in an output
    assert r.minutes["steps"].dtype == "Int32" and r.minutes["steps"].isna().sum() == 1
    s = r.summary()
    assert s["rows"].sum() == acc.rows_in and s.loc[s["outcome"] == "kept", "rows"].item() == 2


def test_raise_mode_names_file_row_column(tmp_path):
    f = write_csv(tmp_path / "c.csv", "participant_id,ts,steps,heart_rate\nu1,2023-03-06 00:00,5,60\nu1,2023-03-06 00:01,lots,60")
    with pytest.raises(ingest.SchemaError) as e:
        ingest.read_exports(f, key=KEY, on_error="raise")
    err = e.value
    assert (err.file, err.row, err.column, err.found) == (str(f), 2, "steps", "a value shaped 'aaaa'")
    assert "c.csv, row 2, column 'steps': expected an integer step count, found a value shaped 'aaaa'" in str(err)
    assert "lots" not in str(err)  # the value's shape, never the value


def test_missing_column_is_a_schema_error(tmp_path):
    f = write_csv(tmp_path / "d.csv", "Id,When,Steps\n1,2023-03-06 00:00,3")
    with pytest.raises(ingest.SchemaError, match=r"d.csv, column 'Stepz': expected a column 'steps' \(mapped from 'Stepz'\), found columns"):
        ingest.read_exports(f, columns={"Id": "participant_id", "When": "ts", "Stepz": "steps"}, key=KEY, on_error="raise")
    with pytest.raises(ingest.SchemaError, match="column 'ts'"):
        ingest.read_exports(f, columns={"Id": "participant_id", "Steps": "steps"}, key=KEY, on_error="raise")
    # quarantine mode: the file is reported by name (a warning and result.files), the call goes on
    with pytest.warns(UserWarning, match=r"d.csv, column 'ts'"):
        r = ingest.read_exports(f, columns={"Id": "participant_id", "Steps": "steps"}, key=KEY)
    assert r.accounting.files_failed == {str(f): "schema"} and len(r.minutes) == 0
    assert r.files.loc[0, "status"] == "schema"
    # step-only export: heart_rate becomes all NaN
    r = ingest.read_exports(f, columns={"Id": "participant_id", "When": "ts", "Steps": "steps"}, key=KEY)
    assert r.minutes["heart_rate"].isna().all()


def test_key_handling(tmp_path, monkeypatch):
    f = write_csv(tmp_path / "e.csv", "participant_id,ts,steps,heart_rate\nu1,2023-03-06 00:00,5,60")
    monkeypatch.delenv(ingest.KEY_ENV, raising=False)
    monkeypatch.delenv(ingest.KEY_FILE_ENV, raising=False)
    with pytest.raises(ingest.MissingKeyError, match="demo=True"):
        ingest.read_exports(f)
    demo = ingest.read_exports(f, demo=True).minutes["participant_id"].iloc[0]
    monkeypatch.setenv(ingest.KEY_ENV, KEY)
    env = ingest.read_exports(f).minutes["participant_id"].iloc[0]
    assert env != demo and env.startswith("p") and len(env) == 25 and "u1" not in env
    assert env == ingest.read_exports(f, key=KEY).minutes["participant_id"].iloc[0]  # stable
    monkeypatch.delenv(ingest.KEY_ENV)
    keyfile = tmp_path / "secret.key"
    keyfile.write_text(KEY)
    assert ingest.read_exports(f, key_file=keyfile).minutes["participant_id"].iloc[0] == env
    inside = Path(__file__).resolve().parent / "not_a_key.key"
    with pytest.raises(ingest.MissingKeyError, match="inside the git repository"):
        ingest.load_key(key_file=inside)
    with pytest.raises(ingest.MissingKeyError, match="at least 16"):
        ingest.load_key("short")
    with pytest.raises(ValueError, match="demo=True"):
        ingest.read_exports(f, key=KEY, pseudonymise_ids=False)


def test_parquet_and_folders_and_duplicated_participants(tmp_path):
    ts = pd.date_range("2023-03-06 23:58", periods=4, freq="min")  # naive local, crosses midnight
    a = pd.DataFrame({"participant_id": "u1", "ts": ts, "steps": [1, 2, 3, 4], "heart_rate": 70.0})
    (tmp_path / "in").mkdir()
    a.to_parquet(tmp_path / "in" / "day1.parquet")
    a.iloc[2:].assign(ts=a["ts"].iloc[2:].dt.tz_localize("Asia/Seoul").dt.tz_convert("UTC")).to_parquet(tmp_path / "in" / "day2.parquet")
    r = ingest.read_exports(tmp_path / "in", key=KEY)
    assert r.accounting.rows_in == 6 and len(r.accounting.by_file) == 2
    c = signals.clean_minutes(r.minutes)
    assert c["flag_duplicate"].sum() == 2 and not c["flag_conflict"].any()
    d = signals.daily_summary(c)
    assert d["steps"].tolist() == [3, 7] and d["date"].dt.day.tolist() == [6, 7]


def test_fitabase_csv_through_ingest(tmp_path, data_dir):
    """A real Fitbit minute export (Furberg et al. 2016, Zenodo 53894): every row accounted for."""
    src = data_dir / "fitabase" / "fitabase_minute_steps_hr_5users.csv.gz"
    head = tmp_path / "fitabase_head.csv.gz"
    with gzip.open(src, "rt") as fin, gzip.open(head, "wt") as fout:
        for i, line in enumerate(fin):
            if i > 20_000:
                break
            fout.write(line)
    r = ingest.read_exports(head, columns={"Id": "participant_id", "ActivityMinute": "ts", "Steps": "steps", "HR_mean": "heart_rate"},
                            key=KEY, source_tz="America/Chicago")
    assert r.accounting.rows_in == 20_000 == r.accounting.rows_kept
    assert r.minutes["steps"].isna().sum() == pd.read_csv(head)["Steps"].isna().sum()


def test_ingested_nullable_steps_go_straight_into_cleaning(tmp_path):
    f = write_csv(tmp_path / "g.csv", "participant_id,ts,steps,heart_rate\nu1,2023-03-06 00:00,5,60\nu1,2023-03-06 00:01,,61\nu1,2023-03-06 00:02,7,")
    m = ingest.read_exports(f, key=KEY).minutes
    assert m["steps"].dtype == "Int32" and m["steps"].isna().sum() == 1
    cleaned, daily = signals.process(m)
    assert cleaned["steps_clean"].tolist() == [5, 0, 7]  # no step record counts as 0 steps
    assert daily["steps"].item() == 12 and daily["wear_minutes"].item() == 3


def test_parquet_with_text_columns_is_checked_per_row(tmp_path):
    df = pd.DataFrame({
        "pid": ["u1", "u1", "u1", "u1", "u2", "u2"],
        "when": ["2023-03-06 09:00", "2023-03-06T00:01:00Z", "2023-03-06T09:02:00+09:00", "nope", "2023-03-06", "2023-03-06 09:05"],
        "steps": ["1", "2", "x", "4", "5", "3000000000"],
        "hr": [60.0, np.inf, 61.0, 62.0, np.nan, 63.0],
    })
    f = tmp_path / "text.parquet"
    df.to_parquet(f)
    r = ingest.read_exports(f, key=KEY, columns={"pid": "participant_id", "when": "ts", "hr": "heart_rate"})
    assert r.quarantine.set_index("row")["reason"].to_dict() == {
        2: "heart_rate_out_of_range", 3: "unparseable_steps", 4: "unparseable_ts", 6: "steps_out_of_range"}
    m = r.minutes
    assert m["ts"].tolist() == [pd.Timestamp("2023-03-06 09:00", tz="Asia/Seoul"), pd.Timestamp("2023-03-06 00:00", tz="Asia/Seoul")]
    assert m["source"].astype(str).tolist() == ["band_parquet"] * 2 and r.accounting.check().rows_in == 6
