"""The own-device defects of issue 25, each as it was met in real exports, with the behaviour now expected.

Layouts are the documented ones of each vendor (the real files met are other people's and cannot be kept
here; tests/data/README.md): Samsung's "Download personal data" folder (metadata line, dotted header,
trailing commas; ``pedometer_day_summary`` and ``alerted_heart_rate`` files beside the minute files),
Fitbit account-export day files (UTC ``dateTime``, local day in the name), Garmin activity FIT files
(written here with Garmin's own ``garmin-fit-sdk`` encoder and read back independently with its
decoder), Apple Health exports of iOS 8/9 (compact dates, ``source=``).
"""
from __future__ import annotations

import json
import sqlite3
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluation import ingest
from evaluation.ingest import vendors
from evaluation.ingest.vendors import VendorFileError, fitbit

KST = "Asia/Seoul"
KEY = "test-key-not-secret"


def _samsung_file(folder: Path, dtype: str, prefix: str, cols: list[str], rows: list[list[str]], stamp="20240105093000") -> Path:
    p = folder / f"{dtype}.{stamp}.csv"
    p.write_text(f"{dtype},6315007,{len(cols)}\n" + ",".join(prefix + c for c in cols) + ",\n"
                 + "".join(",".join(r) + ",\n" for r in rows), encoding="utf-8")
    return p


@pytest.fixture()
def samsung_folder(tmp_path) -> Path:
    """A personal-data folder: steps, heart rate, the day summary that used to refuse the folder, and
    alert episodes that used to be read as samples."""
    d = tmp_path / "samsunghealth_user_20240105093000"
    d.mkdir()
    steps = "com.samsung.health.step_count."
    _samsung_file(d, "com.samsung.shealth.tracker.pedometer_step_count", steps,
                  ["start_time", "end_time", "time_offset", "count", "update_time", "deviceuuid"],
                  [["2024-01-01 00:00:00.000", "2024-01-01 00:03:00.000", "UTC+0900", "100", "2024-01-01 01:00:00.000", "devA"],
                   ["2024-01-01 00:10:00.000", "2024-01-01 00:11:00.000", "UTC+0900", "7", "2024-01-01 01:00:00.000", "devA"]])
    hr = "com.samsung.health.heart_rate."
    _samsung_file(d, "com.samsung.shealth.tracker.heart_rate", hr, ["start_time", "end_time", "time_offset", "heart_rate"],
                  [[f"2024-01-01 00:0{k}:10.000", f"2024-01-01 00:0{k}:10.000", "UTC+0900", str(60 + k)] for k in range(5)])
    _samsung_file(d, "com.samsung.shealth.tracker.pedometer_day_summary", "com.samsung.shealth.tracker.pedometer_day_summary.",
                  ["create_sh_ver", "step_count", "binning_data", "active_time", "run_step", "update_time", "create_time",
                   "distance", "calorie", "walk_step", "deviceuuid", "datauuid", "day_time"],
                  [["6315007", "107", "", "180000", "0", "2024-01-01 01:00:00.000", "2024-01-01 01:00:00.000", "80.5",
                    "4.1", "107", "devA", "uuid-1", "1704067200000"]])
    _samsung_file(d, "com.samsung.shealth.alerted_heart_rate", "com.samsung.health.heart_rate.",
                  ["start_time", "end_time", "time_offset", "heart_rate", "min", "max"],
                  [["2024-01-01 00:02:00.000", "2024-01-01 00:12:00.000", "UTC+0900", "142", "120", "160"]])
    return d


# -- 1. Samsung day summaries; 6. alert episodes ---------------------------------------------------

def test_samsung_day_summary_is_kept_apart_and_the_folder_is_read(samsung_folder):
    """Before: 'header lacks start_time or count' for pedometer_day_summary, the whole folder refused."""
    vf = vendors.read_vendor(samsung_folder, "samsung_health_csv", participant_id="P")
    f = vf.frame
    assert f["steps"].sum() == 107 and f["heart_rate"].notna().sum() == 5
    assert vf.dropped == {"daily_total_only": 1, "alert_episode": 1}
    assert any("pedometer_day_summary" in n and "kept apart" in n for n in vf.notes)
    # 6: the alert's 142 bpm (00:02) is not averaged into the 00:02 minute (62 bpm, the routine sample)
    hr = f.set_index("ts")["heart_rate"]
    assert hr[pd.Timestamp("2024-01-01 09:02", tz=KST)] == 62
    assert vendors.samsung.data_kind("com.samsung.shealth.alerted_heart_rate") == "alert_episode"
    assert vendors.samsung.data_kind("com.samsung.shealth.exercise.max_heart_rate") is None


def test_samsung_one_bad_file_does_not_refuse_the_folder(samsung_folder):
    """A minute-steps file whose header lost its columns, and a file that is not CSV at all: both named,
    skipped, and the heart-rate minutes kept."""
    _samsung_file(samsung_folder, "com.samsung.shealth.tracker.pedometer_step_count", "x.", ["a", "b"], [["1", "2"]],
                  stamp="20240105093001")
    (samsung_folder / "com.samsung.shealth.tracker.heart_rate.20240105093002.csv").write_bytes(b"com.samsung.x\n\x00\xff\xfe")
    vf = vendors.read_vendor(samsung_folder, "samsung_health_csv", participant_id="P")
    assert vf.frame["heart_rate"].notna().sum() == 5 and vf.frame["steps"].sum() == 107
    assert vf.dropped["unrecognised_layout"] == 1
    assert any("20240105093001.csv, line 2: header lacks start_time or count" in n for n in vf.notes)
    assert any("20240105093002.csv: file skipped" in n for n in vf.notes)


# -- 2. Fitbit UTC times -------------------------------------------------------------------------------

def _fitbit_utc_day(folder: Path, day: str, tz: str, bpm_every: int = 10) -> pd.DatetimeIndex:
    """A Fitbit account-export day as the account export writes it: name = the local day, times = UTC."""
    folder.mkdir(exist_ok=True)
    start = pd.Timestamp(day, tz=tz).tz_convert("UTC").tz_localize(None)
    ts = pd.date_range(start, periods=1440, freq="min")
    (folder / f"steps-{day}.json").write_text(json.dumps(
        [{"dateTime": t.strftime("%m/%d/%y %H:%M:%S"), "value": str(i % 9)} for i, t in enumerate(ts)]))
    (folder / f"heart_rate-{day}.json").write_text(json.dumps(
        [{"dateTime": (t + pd.Timedelta(seconds=5)).strftime("%m/%d/%y %H:%M:%S"), "value": {"bpm": 70, "confidence": 2}}
         for t in ts[::bpm_every]]))
    return ts


def test_fitbit_utc_placement_found_from_the_data(tmp_path):
    """Before: with source_tz = the account's zone (as the README advised) every minute moved -11 h, silently.
    Now the file day against the first time says the times are UTC; the minutes are the account's day."""
    d = tmp_path / "fitbit"
    _fitbit_utc_day(d, "2020-03-02", "Australia/Sydney")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right zone: no warning
        vf = vendors.read_vendor(d, "fitbit_json", participant_id="P", source_tz="Australia/Sydney")
    local = vf.frame["ts"].dt.tz_convert("Australia/Sydney")
    assert local.min() == pd.Timestamp("2020-03-02 00:00", tz="Australia/Sydney")
    assert local.max() == pd.Timestamp("2020-03-02 23:59", tz="Australia/Sydney")
    assert vf.frame["steps"].sum() == sum(i % 9 for i in range(1440))
    assert any("UTC" in n for n in vf.notes)
    # a wrong source_tz cannot move UTC times, but it is named: the files say UTC+11
    with pytest.warns(fitbit.FitbitClockWarning, match=r"UTC\+11.00 h.*source_tz='Asia/Seoul' is UTC\+9.00 h"):
        vendors.read_vendor(d, "fitbit_json", participant_id="P", source_tz="Asia/Seoul")
    # an explicit clock the data contradict is followed, with a warning
    with pytest.warns(fitbit.FitbitClockWarning, match="clock='local'"):
        wrong = vendors.read_vendor(d, "fitbit_json", participant_id="P", source_tz="Australia/Sydney", clock="local")
    assert wrong.frame["ts"].min() == pd.Timestamp("2020-03-02 00:00", tz="Australia/Sydney") - pd.Timedelta(hours=11)


def test_fitbit_placement_rule():
    day = pd.Timestamp("2020-03-02")
    inside = pd.Series(pd.date_range(day, periods=1440, freq="min"))
    assert fitbit.placement([(Path("steps-2020-03-02.json"), inside)]) == ("local", {Path("steps-2020-03-02.json"): 0.0})
    utc = inside - pd.Timedelta(hours=11)
    assert fitbit.placement([(Path("steps-2020-03-02.json"), utc)]) == ("utc", {Path("steps-2020-03-02.json"): 11.0})
    west = inside + pd.Timedelta(hours=5)  # New York: local midnight is 05:00 UTC
    assert fitbit.placement([(Path("steps-2020-03-02.json"), west)])[1] == {Path("steps-2020-03-02.json"): -5.0}
    assert fitbit.placement([(Path("steps.json"), utc)]) == (None, {})


# -- 3. Garmin activity files ------------------------------------------------------------------------

def _activity_fit(path: Path, sport: str = "running", strides: int | None = 850, with_hr: bool = True) -> Path:
    """A fenix-style activity file written with Garmin's SDK encoder: file_id, 1 Hz records over 10 min,
    one lap and one session."""
    from garmin_fit_sdk import Encoder, Profile

    num = Profile["mesg_num"]
    t0 = 999_999_960  # FIT seconds: 2021-09-08 01:46:00 UTC (a whole minute)
    enc = Encoder()
    enc.write_mesg({"mesg_num": num["FILE_ID"], "type": "activity", "manufacturer": "garmin", "product": 3110,
                    "time_created": t0, "serial_number": 1234})
    for k in range(600):
        rec = {"mesg_num": num["RECORD"], "timestamp": t0 + k, "distance": float(k * 3)}
        if with_hr:
            rec["heart_rate"] = 100 + (k // 60)
        enc.write_mesg(rec)
    lap = {"mesg_num": num["LAP"], "timestamp": t0 + 600, "start_time": t0, "total_elapsed_time": 600.0,
           "total_timer_time": 600.0, "sport": sport}
    if strides is not None:
        lap["total_cycles"] = strides
    enc.write_mesg(lap)
    enc.write_mesg({"mesg_num": num["SESSION"], "timestamp": t0 + 600, "start_time": t0, "total_elapsed_time": 600.0,
                    "sport": sport})
    path.write_bytes(enc.close())
    return path


def test_garmin_activity_file_gives_heart_rate_and_lap_steps(tmp_path):
    """Before: 0 rows, status 'header_only', no warning. Compared with Garmin's decoder read directly."""
    from garmin_fit_sdk import Decoder, Stream

    p = _activity_fit(tmp_path / "fenix_run.fit")
    msgs, errors = Decoder(Stream.from_file(str(p))).read(convert_datetimes_to_dates=False)
    assert not errors
    rec = pd.DataFrame(msgs["record_mesgs"])
    t = pd.to_datetime((rec["timestamp"] + 631_065_600) * 10**9, utc=True)
    expected_hr = rec.groupby(t.dt.floor("min").dt.tz_convert(KST))["heart_rate"].mean()
    vf = vendors.read_vendor(p, "garmin_fit", participant_id="P")
    f = vf.frame.set_index("ts")
    pd.testing.assert_series_equal(f["heart_rate"], expected_hr.astype(float), check_names=False, check_freq=False)
    assert f["steps"].sum() == 2 * msgs["lap_mesgs"][0]["total_cycles"] == 1700
    assert f["steps"].tolist() == [170.0] * 10  # 600 s lap spread evenly over its 10 minutes
    assert any("activity file" in n for n in vf.notes)
    r = ingest.read_exports(p, participant_id="P", key=KEY)
    assert r.files["status"].tolist() == ["ok"] and int(r.minutes["steps"].sum()) == 1700 and len(r.minutes) == 10


def test_garmin_activity_file_without_heart_rate_or_steps_is_refused(tmp_path):
    p = _activity_fit(tmp_path / "bike.fit", sport="cycling", strides=None, with_hr=False)
    with pytest.raises(VendorFileError, match="activity file, not daily monitoring"):
        vendors.read_vendor(p, "garmin_fit", participant_id="P")
    cycling = _activity_fit(tmp_path / "bike_hr.fit", sport="cycling", strides=400)
    vf = vendors.read_vendor(cycling, "garmin_fit", participant_id="P")
    assert vf.frame["steps"].isna().all() and vf.frame["heart_rate"].notna().sum() == 10  # pedal strokes are not steps


# -- 4. Apple Health iOS 8/9 -----------------------------------------------------------------------

_OLD = ('<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="de_DE">\n'
        ' <ExportDate value="20151201120000+0100"/>\n'
        ' <Record type="HKQuantityTypeIdentifierStepCount" source="Health" unit="count" '
        'startDate="20151107171924+0100" endDate="20151107172424+0100" value="250"/>\n'
        ' <Record type="HKQuantityTypeIdentifierStepCount" source="Health" unit="count" '
        'startDate="20151107180000+0100" endDate="20151107180100+0100" value="40"/>\n'
        ' <Record type="HKQuantityTypeIdentifierHeartRate" source="Health" unit="count/min" '
        'startDate="20151107171930+0100" endDate="20151107171930+0100" value="88"/>\n'
        '</HealthData>\n')


def test_apple_ios8_compact_dates_and_source_attribute(tmp_path):
    """Before: 3.5M steps dropped silently (every date unparseable). Compared with a strptime count."""
    p = tmp_path / "export.xml"
    p.write_text(_OLD, encoding="utf-8")
    vf = vendors.read_vendor(p, "apple_health_xml", participant_id="P")
    assert vf.dropped == {} and vf.records_used == 3
    f = vf.frame
    assert f["steps"].sum() == 290
    first = pd.Timestamp(pd.to_datetime("20151107171924+0100", format="%Y%m%d%H%M%S%z")).tz_convert(KST).floor("min")
    assert f["ts"].iloc[0] == first == pd.Timestamp("2015-11-08 01:19", tz=KST)
    assert set(f["source"]) == {"apple_health:Health"}
    assert vf.export_time == pd.Timestamp("2015-12-01 11:00", tz="UTC")
    assert any("old export format" in n for n in vf.notes)


def test_apple_old_format_malformed_says_what_it_is(tmp_path):
    """Before: 'XML is malformed' and nothing more for a German-locale iOS 8 export."""
    p = tmp_path / "export.xml"
    p.write_text(_OLD.replace('source="Health"', 'source="Max & Co"', 1), encoding="utf-8")
    with pytest.raises(VendorFileError, match=r"line 4, column \d+: XML is malformed .*old export format \(iOS 8/9"):
        vendors.read_vendor(p, "apple_health_xml", participant_id="P")


def test_apple_old_export_with_vertical_tabs_is_read(tmp_path):
    """Older exports hold vertical tabs in source names (expat: 'not well-formed'): removed, counted."""
    p = tmp_path / "export.xml"
    p.write_text(_OLD.replace('source="Health"', 'source="Max\x0bs iPhone"'), encoding="utf-8")
    vf = vendors.read_vendor(p, "apple_health_xml", participant_id="P")
    assert vf.frame["steps"].sum() == 290 and any("3 control characters" in n for n in vf.notes)


def test_apple_dates_stay_strict():
    from evaluation.ingest.vendors.apple import parse_dates

    ns, ok = parse_dates(["20150230120000+0100", "2015-11-07 17:19:24 +0100", "20151107171924+0100", "20151107171924"])
    assert ok.tolist() == [False, True, True, False]
    assert ns[1] == ns[2]


# -- 5. totals conserved ----------------------------------------------------------------------------

def test_read_exports_conserves_every_records_steps(tmp_path):
    """Before: each minute's share rounded on its own (359,979 against 359,942 on a real export)."""
    rng = np.random.default_rng(3)
    rows = []
    t = pd.Timestamp("2024-05-01 08:00:07", tz="+09:00")
    for _ in range(400):  # records of odd lengths and counts: many fractional shares
        dur = int(rng.integers(30, 400))
        rows.append((t, t + pd.Timedelta(seconds=dur), int(rng.integers(1, 500))))
        t += pd.Timedelta(seconds=dur + int(rng.integers(0, 90)))
    fmt = "%Y-%m-%d %H:%M:%S %z"
    body = "".join(f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Apple Watch" unit="count" '
                   f'startDate="{a.strftime(fmt)}" endDate="{b.strftime(fmt)}" value="{v}"/>\n' for a, b, v in rows)
    p = tmp_path / "export.xml"
    p.write_text(f'<?xml version="1.0"?>\n<HealthData locale="ko_KR">\n{body}</HealthData>\n')
    total = sum(v for _, _, v in rows)
    vf = vendors.read_vendor(p, "apple_health_xml", participant_id="P")
    assert vf.frame["steps"].sum() == total and (vf.frame["steps"] == np.floor(vf.frame["steps"])).all()
    r = ingest.read_exports(p, participant_id="P", key=KEY)
    assert int(r.minutes["steps"].sum()) == total
    # the old rule, rounding each minute on its own, does drift on these records
    from evaluation.ingest.vendors._common import MINUTE_NS
    drift = 0.0
    for a, b, v in rows:
        s, e = a.value, b.value
        m = np.arange(s // MINUTE_NS, (e - 1) // MINUTE_NS + 1)
        share = v * (np.minimum(e, (m + 1) * MINUTE_NS) - np.maximum(s, m * MINUTE_NS)) / (e - s)
        drift += np.rint(share).sum() - v
    assert drift != 0


def test_whole_shares_largest_remainder():
    from evaluation.ingest.vendors._common import whole_shares

    rec = np.array([0, 0, 0, 1, 1])
    got = whole_shares(rec, np.array([10 / 3, 10 / 3, 10 / 3, 2.5, 2.5]), np.array([10.0, 5.0]))
    assert got.tolist() == [4.0, 3.0, 3.0, 3.0, 2.0]  # ties go to the earlier minute


# -- 7. silent outcomes -------------------------------------------------------------------------------

def test_reader_that_drops_everything_warns_with_its_reasons(tmp_path):
    p = tmp_path / "export.xml"
    p.write_text('<?xml version="1.0"?>\n<HealthData locale="ko_KR">\n'
                 ' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Health" unit="count" '
                 'startDate="2024-05-01 10:00:00 +0900" endDate="2024-05-01 10:01:00 +0900" value="50">'
                 '<MetadataEntry key="HKWasUserEntered" value="1"/></Record>\n'
                 ' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Health" unit="km" '
                 'startDate="2024-05-01 10:00:00 +0900" endDate="2024-05-01 10:01:00 +0900" value="50"/>\n'
                 '</HealthData>\n')
    with pytest.warns(UserWarning, match=r"2 records read, none used \((manual_entry 1, unexpected_unit 1|unexpected_unit 1, manual_entry 1)\)"):
        r = ingest.read_exports(p, participant_id="P", key=KEY)
    assert r.files["status"].tolist() == ["no_usable_records"] and "manual_entry" in r.files["detail"].iloc[0]


def test_steps_after_the_export_date_are_quarantined(tmp_path):
    """A phone clock set to 2030: the minutes are quarantined with a reason, the others kept."""
    p = tmp_path / "export.xml"
    rec = ' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="iPhone" unit="count" startDate="{0}" endDate="{0}" value="{1}"/>\n'
    p.write_text('<?xml version="1.0"?>\n<HealthData locale="ko_KR">\n <ExportDate value="2024-06-01 09:00:00 +0900"/>\n'
                 + rec.format("2024-05-01 10:00:00 +0900", 5) + rec.format("2030-05-01 10:00:00 +0900", 9)
                 + rec.format("2024-06-01 20:00:00 +0900", 3) + "</HealthData>\n")
    with pytest.warns(UserWarning, match="after the export"):
        r = ingest.read_exports(p, participant_id="P", key=KEY)
    assert r.minutes["steps"].tolist() == [5, 3]  # the same day as the export is kept (a day's slack)
    assert r.quarantine["reason"].tolist() == ["after_export_date"] and r.quarantine["column"].tolist() == ["ts"]
    assert r.accounting.by_reason == {"after_export_date": 1}
    # no export date in the file (Fitbit): the time of reading is the bound
    d = tmp_path / "fitbit"
    d.mkdir()
    (d / "steps-2031-01-01.json").write_text(json.dumps([{"dateTime": "01/01/31 10:00:00", "value": "4"}]))
    with pytest.warns(UserWarning, match="time of reading"):
        r2 = ingest.read_exports(d, participant_id="P", key=KEY)
    assert len(r2.minutes) == 0 and r2.accounting.by_reason == {"after_export_date": 1}


def test_one_id_for_several_peoples_exports_is_refused(tmp_path):
    minutes = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=3, freq="min", tz=KST), "steps": [1.0, 2.0, 3.0],
                            "heart_rate": np.nan})
    for person in ("a", "b"):  # a folder tree of two people's Apple exports
        (tmp_path / person).mkdir()
        vendors.write_synthetic("apple_health_xml", minutes, tmp_path / person / "export.xml", participant_id="x")
    with pytest.raises(ValueError, match="2 exports without ids.*one_participant=True"):
        ingest.read_exports(tmp_path, participant_id="P", key=KEY)
    r = ingest.read_exports(tmp_path, participant_id="P", key=KEY, one_participant=True)
    assert r.minutes["participant_id"].nunique() == 1 and len(r.minutes) == 6  # both read, under the one id asked for
    # one export under one id is fine
    assert len(ingest.read_exports(tmp_path / "a", participant_id="P", key=KEY).minutes) == 3


# -- 8. damaged Parquet -----------------------------------------------------------------------------

def test_parquet_nested_and_out_of_range_columns(tmp_path):
    """Before: 'Buffer has wrong number of dimensions' and 'Out of bounds nanosecond timestamp: 1-01-01',
    naming no file."""
    import datetime as dt

    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"participant_id": pa.array([["a"], ["b"]]), "ts": ["2024-01-01T00:00:00", "2024-01-01T00:01:00"],
                             "steps": [1, 2]}), nested)
    oob = tmp_path / "oob.parquet"
    pq.write_table(pa.table({"participant_id": ["a", "b", "c"],
                             "ts": pa.array([dt.datetime(1, 1, 1), dt.datetime(2024, 1, 1), None], pa.timestamp("us")),
                             "steps": [1, 2, 3]}), oob)
    oob_date = tmp_path / "oob_date.parquet"
    pq.write_table(pa.table({"participant_id": ["a"], "ts": pa.array([dt.date(9999, 12, 31)], pa.date32()), "steps": [1]}),
                   oob_date)
    with pytest.warns(UserWarning, match="nested.parquet.*nested \\(list\\) column"):
        r = ingest.read_exports([nested, oob, oob_date], key=KEY)
    assert r.files.set_index("file").loc[str(nested), "status"] == "schema"
    assert r.accounting.rows_in == 4 and r.accounting.rows_kept == 1
    assert r.quarantine["reason"].tolist() == ["unparseable_ts"] * 3
    assert r.quarantine["row"].tolist() == [1, 3, 1]
    with pytest.raises(ingest.SchemaError, match=r"oob\.parquet, row 1, column 'ts'"):
        ingest.read_exports(oob, key=KEY, on_error="raise")


# -- 9. formats we do not read --------------------------------------------------------------------------

def test_unsupported_formats_are_named_not_given_csv_or_encoding_advice(tmp_path):
    db = tmp_path / "health.db"
    con = sqlite3.connect(db)
    con.execute("create table steps (t integer, n integer)")
    con.commit()
    con.close()
    cda = tmp_path / "export_cda.xml"
    cda.write_text('<?xml version="1.0"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3"><component/></ClinicalDocument>\n')
    gfit = tmp_path / "2024-01-01.csv"
    gfit.write_text("Start time,End time,Move Minutes count,Calories (kcal),Distance (m),Heart Points,Step count\n"
                    "00:00:00.000+09:00,00:15:00.000+09:00,1,12.5,30.1,,40\n")
    daily = tmp_path / "dailyActivity_merged.csv"
    daily.write_text("Id,ActivityDate,TotalSteps\n1503960366,4/12/2016,13162\n")
    garmin_json = tmp_path / "UDSFile_2024.json"
    garmin_json.write_text('[{"userProfilePK": 1, "calendarDate": "2024-01-01", "totalSteps": 5000}]')
    zipped = tmp_path / "samsung.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("samsunghealth_x_20240101/com.samsung.shealth.tracker.heart_rate.20240101.csv", "x")
    takeout = tmp_path / "steps_2024-01-01.csv"
    takeout.write_text("timestamp,steps\n2024-01-01T00:00:00Z,3\n")
    expected = {db: "SQLite database", cda: "clinical-document (CDA) XML", daily: "daily-activity table",
                takeout: "Fitbit time-series CSV from Google Takeout",
                garmin_json: "Garmin Connect account-export JSON", zipped: "zipped Samsung Health export"}
    if vendors.detect_format(gfit) is None:  # until Google Fit daily metrics are read (then it is a vendor format)
        expected[gfit] = "Google Fit Takeout daily-metrics CSV"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = ingest.read_exports(list(expected), key=KEY, participant_id="P")
    files = r.files.set_index("file")
    for path, what in expected.items():
        assert files.loc[str(path), "status"] == "unsupported_format", path.name
        detail = files.loc[str(path), "detail"]
        assert "format not supported" in detail and what in detail, detail
        assert "header" not in detail and "encoding" not in detail
    assert not any("encoding" in str(x.message) for x in w)
    # a band CSV with a typo in a column name is still a schema error, not "unsupported"; so is text in
    # an encoding we cannot guess (UTF-16 without its mark), while bytes that are no text are named
    band = tmp_path / "band.csv"
    band.write_text("participant_id,tss,steps\nR1,2024-01-01T00:00:00,3\n")
    assert ingest.detect_format(band) == "band_csv"
    band.write_text("participant_id,timestamp,steps\nR1,2024-01-01T00:00:00,3\n")
    assert ingest.detect_format(band) == "band_csv"
    u16 = tmp_path / "u16.csv"
    u16.write_bytes("participant_id,ts,steps\nR1,2024-01-01T00:00:00,3\n".encode("utf-16-le"))
    assert ingest.detect_format(u16) == "band_csv"
    junk = tmp_path / "steps.csv"
    junk.write_bytes(bytes(range(256)) * 8)
    assert ingest.detect_format(junk) == "unsupported" and "binary" in vendors.describe_unsupported(junk)


def test_samsung_binning_files_are_read_with_their_folder_not_refused(tmp_path, samsung_folder):
    """A folder tree walk meets jsons/<data type>/<x>/<name>.binning_data.json: part of the Samsung export."""
    b = samsung_folder / "jsons" / "com.samsung.shealth.tracker.heart_rate" / "a"
    b.mkdir(parents=True)
    (b / "abc.binning_data.json").write_text(json.dumps([{"heart_rate": 70.0, "start_time": 1704067200000}]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = ingest.read_exports(samsung_folder.parent, participant_id="P", key=KEY)
    assert r.files["status"].tolist() == ["ok"] and int(r.minutes["steps"].sum()) == 107


# -- 10. Google Fit Takeout daily metrics -------------------------------------------------------------

_GFIT_HEADER = ("Start time,End time,Move Minutes count,Calories (kcal),Distance (m),Heart Points,Heart Minutes,"
                "Average heart rate (bpm),Max heart rate (bpm),Min heart rate (bpm),Average speed (m/s),"
                "Max speed (m/s),Min speed (m/s),Step count,Walking duration (ms)\n")


def _gfit_day(folder: Path, day: str, rows: list[tuple[str, str, str]]) -> Path:
    """A Takeout 'Daily activity metrics' day file: 15-minute rows, times of day with the UTC offset."""
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"{day}.csv"
    p.write_text(_GFIT_HEADER + "".join(f"{a},{b},1,12.3,40.1,,,72.5,80,65,1.1,1.4,0.9,{n},60000\n" for a, b, n in rows),
                 encoding="utf-8")
    return p


def test_google_fit_takeout_daily_metrics(tmp_path):
    """Steps per 15-minute row, whole steps per minute, instants from the row's own offset; compared with
    the csv module and datetime.fromisoformat."""
    import csv
    from datetime import datetime

    d = tmp_path / "Takeout" / "Fit" / "Daily activity metrics"
    rows = [("08:00:00.000+09:00", "08:15:00.000+09:00", "1000"), ("08:15:00.000+09:00", "08:30:00.000+09:00", ""),
            ("23:45:00.000+09:00", "00:00:00.000+09:00", "31")]
    _gfit_day(d, "2024-03-05", rows)
    _gfit_day(d, "2024-03-06", [("07:00:00.000+09:00", "07:15:00.000+09:00", "abc")])
    (d / "Daily activity metrics.csv").write_text("Date,Move Minutes count,Step count\n2024-03-05,30,1031\n")
    assert vendors.detect_format(d / "2024-03-05.csv") == "google_fit_csv"
    assert "day-totals" in vendors.describe_unsupported(d / "Daily activity metrics.csv")
    vf = vendors.read_vendor(d, "google_fit_csv", participant_id="P")
    f = vf.frame
    with open(d / "2024-03-05.csv", newline="", encoding="utf-8") as fh:
        truth = [r for r in csv.DictReader(fh) if r["Step count"]]
    assert f["steps"].sum() == sum(int(r["Step count"]) for r in truth) == 1031
    first = datetime.fromisoformat("2024-03-05T" + truth[0]["Start time"])
    assert f["ts"].iloc[0] == pd.Timestamp(first).tz_convert(KST)
    assert f["steps"].iloc[:15].tolist() == [67.0] * 10 + [66.0] * 5  # 1000 over 15 minutes, largest remainder
    assert f["ts"].iloc[-1] == pd.Timestamp("2024-03-05 23:59", tz=KST)  # 23:45-00:00 stays on its day
    assert vf.dropped == {"non_step_record": 1, "unparseable_value": 1}
    with pytest.warns(UserWarning, match="day-totals"):  # the day-totals file beside them is named, not read
        r = ingest.read_exports(tmp_path / "Takeout", participant_id="P", key=KEY)
    assert int(r.minutes["steps"].sum()) == 1031
    assert sorted(r.files["status"]) == ["ok", "unsupported_format"]
    with pytest.raises(VendorFileError, match="needs its day in the name"):
        renamed = tmp_path / "steps.csv"
        renamed.write_text((d / "2024-03-05.csv").read_text())
        vendors.read_vendor(renamed, "google_fit_csv", participant_id="P")
