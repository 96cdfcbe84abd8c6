"""Own-device export readers (evaluation.ingest.vendors) against real exports and known truth.

Real files: tests/data/vendor_exports/ (Apple Health 2017 export of ashtom/hkimport, MIT;
Apple Health sample of tdda/applehealthdata, MIT; Garmin vivofit monitoring FIT of
dtcooper/python-fitparse, MIT) and tests/data/fitabase/ (Furberg et al. 2016, Zenodo 53894,
CC0). Expected numbers are computed independently here (ElementTree over the XML, pandas over the
CSVs) or quoted from the READMEs of those folders.

Samsung Health: no real export is public. Those tests use files built here from the documented
layout (metadata line, dotted header, trailing commas, ``time_offset`` like ``UTC+0900``).
"""
from __future__ import annotations

import gzip
import io
import json
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.ingest import vendors
from evaluation.ingest.vendors import VendorFileError

KST = "Asia/Seoul"


@pytest.fixture(scope="module")
def ref(data_dir) -> Path:
    return data_dir


@pytest.fixture(scope="module")
def hk(ref) -> Path:
    return ref / "vendor_exports" / "apple_health_export_2017_hkimport.xml.gz"


@pytest.fixture(scope="module")
def hk_records(hk) -> pd.DataFrame:
    """Independent parse of the top-level Records (ElementTree), for expected values."""
    rows = []
    with gzip.open(hk) as fh:
        root = ET.parse(fh).getroot()
    for r in root.findall("Record"):  # top-level only, as the reader counts them
        manual = any(m.get("key") == "HKWasUserEntered" and m.get("value") == "1" for m in r.findall("MetadataEntry"))
        rows.append((r.get("type"), r.get("sourceName"), r.get("startDate"), r.get("endDate"), r.get("value"), manual))
    df = pd.DataFrame(rows, columns=["type", "source", "start", "end", "value", "manual"])
    df["start"] = pd.to_datetime(df["start"], utc=True, format="%Y-%m-%d %H:%M:%S %z")
    df["end"] = pd.to_datetime(df["end"], utc=True, format="%Y-%m-%d %H:%M:%S %z")
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    return df


@pytest.fixture(scope="module")
def hk_frame(hk) -> vendors.VendorFrame:
    return vendors.read_vendor(hk, "apple_health_xml", participant_id="P-apple")


# -- detection ---------------------------------------------------------------------------------

def test_detect_format_from_content(ref, tmp_path):
    v = ref / "vendor_exports"
    assert vendors.detect_format(v / "apple_health_export_2017_hkimport.xml.gz") == "apple_health_xml"
    assert vendors.detect_format(v / "apple_health_export_small_applehealthdata.xml") == "apple_health_xml"
    assert vendors.detect_format(v / "garmin_vivofit_monitoring_fitparse.fit") == "garmin_fit"
    for f in ("fitabase_minuteSteps_4.12-5.12_33users_reconstructed.csv.gz", "fitabase_heartrate_seconds_5users_local.csv.gz"):
        assert vendors.detect_format(ref / "fitabase" / f) == "fitabase_csv"
    assert vendors.detect_format(ref / "fitabase" / "dailyActivity_merged.csv") is None
    band = tmp_path / "band.csv"
    band.write_text("participant_id,ts,steps,heart_rate\nR1,2024-01-01T00:00:00+09:00,3,70\n")
    assert vendors.detect_format(band) is None
    renamed = tmp_path / "data.bin"  # the name does not matter, the content does
    shutil.copy(v / "garmin_vivofit_monitoring_fitparse.fit", renamed)
    assert vendors.detect_format(renamed) == "garmin_fit"
    (tmp_path / "empty.csv").write_bytes(b"")
    assert vendors.detect_format(tmp_path / "empty.csv") is None
    assert set(vendors.FORMATS) == {"apple_health_xml", "samsung_health_csv", "fitbit_json", "fitabase_csv", "garmin_fit",
                                    "google_fit_csv"}


# -- Apple Health ------------------------------------------------------------------------------

def test_apple_real_export_counts_and_conservation(hk_frame, hk_records):
    vf, rec = hk_frame, hk_records
    steps = rec[rec["type"] == "HKQuantityTypeIdentifierStepCount"]
    hr = rec[rec["type"] == "HKQuantityTypeIdentifierHeartRate"]
    assert len(steps) == 3980 and len(hr) == 2177  # README of vendor_exports
    assert vf.records_in == len(rec)
    assert vf.dropped["non_step_record"] == len(rec) - 3980 - 2177
    assert vf.dropped["manual_entry"] == int(steps["manual"].sum()) == 21
    assert vf.records_used + sum(vf.dropped.values()) == vf.records_in
    assert set(vf.dropped) <= set(vendors.REASONS)
    # every step read is either in a minute or accounted for by reason
    assert vf.steps_in == pytest.approx(steps["value"].sum())
    assert vf.frame["steps"].sum() + sum(vf.steps_dropped.values()) == pytest.approx(steps["value"].sum(), abs=1e-6)
    assert vf.steps_dropped["manual_entry"] == pytest.approx(steps.loc[steps["manual"], "value"].sum())
    f = vf.frame
    assert list(f.columns) == ["participant_id", "ts", "steps", "heart_rate", "source"]
    assert str(f["ts"].dt.tz) == KST and f["ts"].is_monotonic_increasing and not f["ts"].duplicated().any()
    assert (f["ts"].dt.second == 0).all() and (f["participant_id"] == "P-apple").all()
    # each record's own offset sets the instant: the earliest non-manual record starts the frame
    first = min(steps.loc[~steps["manual"], "start"].min(), hr["start"].min())
    assert f["ts"].iloc[0] == first.floor("min").tz_convert(KST)


def test_apple_source_priority_band_over_phone(hk_frame, hk_records):
    """Garmin Connect (a band's app, tier 1) wins every minute it covers over the iPhone (tier 2)."""
    steps = hk_records[(hk_records["type"] == "HKQuantityTypeIdentifierStepCount") & ~hk_records["manual"]]
    connect = steps[steps["source"] == "Connect"]
    f = hk_frame.frame
    is_connect = f["source"].str.startswith("apple_health:Connect")
    assert f.loc[is_connect, "steps"].sum() == pytest.approx(connect["value"].sum(), abs=1e-6)
    covered = set()
    for s, e in zip(connect["start"], connect["end"]):
        m = pd.date_range(s.floor("min"), (max(e - pd.Timedelta("1ns"), s)).floor("min"), freq="min")
        covered.update(m.tz_convert(KST))
    rows = f[f["ts"].isin(covered) & f["steps"].notna()]
    assert len(rows) and rows["source"].str.startswith("apple_health:Connect").all()
    # phone records fully under the band's minutes are dropped with the reason code
    assert hk_frame.dropped["overlap_lower_priority"] > 0
    assert not f["source"].str.contains("Participant").any()  # the owner's device name never becomes a label


def test_apple_heart_rate_minute_means(hk_frame, hk_records):
    hr = hk_records[hk_records["type"] == "HKQuantityTypeIdentifierHeartRate"]
    expected = hr.groupby(hr["start"].dt.floor("min").dt.tz_convert(KST))["value"].mean()
    got = hk_frame.frame.dropna(subset=["heart_rate"]).set_index("ts")["heart_rate"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False, check_index_type=False,
                                   check_freq=False)


def test_apple_small_export(ref):
    vf = vendors.read_vendor(ref / "vendor_exports" / "apple_health_export_small_applehealthdata.xml",
                             "apple_health_xml", participant_id="P-small")
    f = vf.frame
    assert vf.records_in == 15 and vf.dropped == {"non_step_record": 5} and vf.records_used == 10
    assert len(f) == 10 and f["steps"].sum() == 329 + 283 + 426 + 61 + 10 + 200 + 390 + 320 + 216 + 282
    # 2014-09-13 10:27:54 +0100 -> 18:27 in Seoul; a 5-second record falls in one minute
    assert f["ts"].iloc[0] == pd.Timestamp("2014-09-13 18:27", tz=KST) and f["steps"].iloc[0] == 329
    assert set(f["source"]) == {"apple_health:Health"}


def test_apple_allocation_rule_and_zip(tmp_path):
    """A record over 10:00:30-10:03:30 (180 s, 90 steps) gives 15, 30, 30, 15; from a phone's export.zip."""
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="ko_KR">\n'
           ' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="김철수의 iPhone" unit="count" '
           'startDate="2024-05-01 10:00:30 +0900" endDate="2024-05-01 10:03:30 +0900" value="90"/>\n'
           ' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Health" unit="count" '
           'startDate="2024-05-01 10:00:00 +0900" endDate="2024-05-01 10:01:00 +0900" value="500">\n'
           '  <MetadataEntry key="HKWasUserEntered" value="1"/>\n </Record>\n'
           ' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Health" unit="count" '
           'startDate="2024-05-01 1O:00:00 +0900" endDate="2024-05-01 10:01:00 +0900" value="5"/>\n'
           '</HealthData>\n')
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        zf.writestr("apple_health_export/내보내기.xml", xml)
    assert vendors.detect_format(z) == "apple_health_xml"
    vf = vendors.read_vendor(z, "apple_health_xml", participant_id="P")
    assert vf.frame["steps"].tolist() == [15.0, 30.0, 30.0, 15.0]
    assert vf.frame["source"].unique().tolist() == ["apple_health:iPhone"]
    assert vf.dropped == {"manual_entry": 1, "unparseable_date": 1}
    assert any("line 7" in n for n in vf.notes)  # the bad date is located by line


def test_apple_truncated_export_names_file_and_line(ref, tmp_path):
    data = (ref / "vendor_exports" / "apple_health_export_small_applehealthdata.xml").read_bytes()
    cut = tmp_path / "export.xml"
    cut.write_bytes(data[: len(data) // 2 + 1000])
    with pytest.raises(VendorFileError, match=r"export\.xml, line \d+, column \d+: XML is cut short"):
        vendors.read_vendor(cut, "apple_health_xml", participant_id="P")
    gz = tmp_path / "export.xml.gz"
    gz.write_bytes(gzip.compress(data)[:-200])
    with pytest.raises(VendorFileError, match=r"export\.xml\.gz.*(cut short|damaged)"):
        vendors.read_vendor(gz, "apple_health_xml", participant_id="P")


# -- Garmin FIT --------------------------------------------------------------------------------

def test_garmin_real_monitoring_file(ref):
    vf = vendors.read_vendor(ref / "vendor_exports" / "garmin_vivofit_monitoring_fitparse.fit", "garmin_fit",
                             participant_id="P-garmin")
    f = vf.frame
    assert vf.records_in == 337 and vf.dropped == {"daily_summary": 2} and vf.records_used == 335
    utc = f["ts"].dt.tz_convert("UTC")
    # README: 2014-12-27 13:43 to 2014-12-28 06:00 UTC (06:00 is the two daily-summary messages)
    assert utc.min() == pd.Timestamp("2014-12-27 13:43", tz="UTC")
    assert utc.max() == pd.Timestamp("2014-12-28 05:59", tz="UTC")
    assert utc.diff().dropna().eq(pd.Timedelta("1min")).all()  # the device counted every minute in between
    # the device's own daily totals (walking 3,142 = 2 x 1,571 cycles, running 31) equal the summed minutes
    assert f["steps"].sum() == pytest.approx(3142 + 31)
    assert any("agree" in n for n in vf.notes)
    # first walking message: cumulative 50 cycles at 14:15 UTC after a message at 14:11 -> 100 steps in 14:11-14:14
    win = f[(utc >= pd.Timestamp("2014-12-27 14:11", tz="UTC")) & (utc < pd.Timestamp("2014-12-27 14:15", tz="UTC"))]
    assert win["steps"].tolist() == [25.0, 25.0, 25.0, 25.0]
    assert f.loc[utc < pd.Timestamp("2014-12-27 14:11", tz="UTC"), "steps"].sum() == 0
    assert set(f["source"]) == {"garmin_fit:vivo_fit"} and (f["participant_id"] == "P-garmin").all()


def test_garmin_damaged_file(ref, tmp_path):
    data = (ref / "vendor_exports" / "garmin_vivofit_monitoring_fitparse.fit").read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[:1200])
    with pytest.raises(VendorFileError, match=r"cut\.fit.*(damaged|cut short|decoding)"):
        vendors.read_vendor(cut, "garmin_fit", participant_id="P")
    notfit = tmp_path / "x.fit"
    notfit.write_bytes(b"hello world, not a fit file")
    with pytest.raises(VendorFileError, match=r"x\.fit: not a FIT file"):
        vendors.read_vendor(notfit, "garmin_fit", participant_id="P")


# -- Fitabase ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fitabase_steps(ref) -> vendors.VendorFrame:
    return vendors.read_vendor(ref / "fitabase" / "fitabase_minuteSteps_4.12-5.12_33users_reconstructed.csv.gz",
                               "fitabase_csv", source_tz="America/Chicago")


def test_fitabase_minute_steps_published_facts(fitabase_steps, ref):
    vf = fitabase_steps
    f = vf.frame
    raw = pd.read_csv(ref / "fitabase" / "fitabase_minuteSteps_4.12-5.12_33users_reconstructed.csv.gz")
    assert vf.records_in == len(raw) == 1_298_700 and vf.records_used == len(raw) and vf.dropped == {}
    assert f["participant_id"].nunique() == 33 and f["steps"].sum() == raw["Steps"].sum()
    assert f["steps"].max() == 220  # README: the highest steps in a minute is 220
    # README: Fitbit's own daily totals equal the summed minutes on 744 of 887 full days; 74 full days are zero
    local = f.assign(date=f["ts"].dt.tz_convert("America/Chicago").dt.date)
    day = local.groupby(["participant_id", "date"])["steps"].agg(["sum", "size"]).reset_index()
    full = day[day["size"] == 1440]
    daily = pd.read_csv(ref / "fitabase" / "dailyActivity_merged.csv", dtype={"Id": str})
    daily["date"] = pd.to_datetime(daily["ActivityDate"], format="%m/%d/%Y").dt.date
    j = full.merge(daily, left_on=["participant_id", "date"], right_on=["Id", "date"])
    assert len(j) == 887 and int((j["sum"] == j["TotalSteps"]).sum()) == 744
    assert int((full["sum"] == 0).sum()) == 74


def test_fitabase_heart_rate_seconds_to_minute_means(ref):
    hr = vendors.read_vendor(ref / "fitabase" / "fitabase_heartrate_seconds_5users_local.csv.gz", "fitabase_csv",
                             source_tz="America/Chicago")
    assert hr.records_in == 791_446 and hr.records_used == 791_446
    joined = vendors.read_vendor(ref / "fitabase" / "fitabase_minute_steps_hr_5users.csv.gz", "fitabase_csv",
                                 source_tz="America/Chicago").frame.dropna(subset=["heart_rate"])
    m = hr.frame.merge(joined, on=["participant_id", "ts"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all() and len(m) == len(joined)
    # the joined file rounds the mean to 2 decimals
    assert np.abs(m["heart_rate_x"].round(2) - m["heart_rate_y"]).max() < 1e-9


def test_fitabase_original_date_format_bad_rows_and_id_arg(tmp_path):
    p = tmp_path / "minuteStepsNarrow_merged.csv"
    p.write_text("Id,ActivityMinute,Steps\n"
                 "1503960366,4/12/2016 12:00:00 AM,0\n1503960366,4/12/2016 12:01:00 AM,12\n"
                 "1503960366,4/12/2016 12:01:00 AM,13\n1503960366,4/31/2016 12:02:00 AM,5\n"
                 "1503960366,4/12/2016 12:03:00 AM,x\n1624580081,4/12/2016 1:00:00 PM,7\n")
    vf = vendors.read_vendor(p, "fitabase_csv", source_tz="America/New_York")
    assert vf.dropped == {"duplicate_record": 1, "unparseable_date": 1, "unparseable_value": 1}
    f = vf.frame
    assert f["steps"].tolist() == [0.0, 12.0, 7.0]
    assert f["ts"].iloc[2] == pd.Timestamp("2016-04-12 13:00", tz="America/New_York").tz_convert(KST)
    assert "unparseable_date: 1 records, first at line 5" in vf.notes
    with pytest.raises(VendorFileError, match="own Id column"):
        vendors.read_vendor(p, "fitabase_csv", participant_id="X")


# -- Fitbit account JSON -----------------------------------------------------------------------

def test_fitbit_documented_records_and_zone(tmp_path):
    """Records in the documented layout (README of vendor_exports); the account zone is declared."""
    d = tmp_path / "fitbit"
    d.mkdir()
    (d / "heart_rate-2020-01-01.json").write_text(json.dumps([
        {"dateTime": "01/01/20 00:00:05", "value": {"bpm": 69, "confidence": 2}},
        {"dateTime": "01/01/20 00:00:20", "value": {"bpm": 72, "confidence": 3}},
        {"dateTime": "01/01/20 00:00:35", "value": {"bpm": 75, "confidence": 2}},
        {"dateTime": "13/01/20 00:00:50", "value": {"bpm": 75, "confidence": 2}},
        {"dateTime": "01/01/20 00:01:05", "value": {"confidence": 2}},
    ]))
    (d / "steps-2020-01-01.json").write_text(json.dumps([
        {"dateTime": "01/01/20 00:00:00", "value": "12"}, {"dateTime": "01/01/20 00:01:00", "value": "0"}]))
    (d / "calories-2020-01-01.json").write_text(json.dumps([{"dateTime": "01/01/20 00:00:00", "value": "1.2"}]))
    assert vendors.detect_format(d / "steps-2020-01-01.json") == "fitbit_json"
    vf = vendors.read_vendor(d, "fitbit_json", participant_id="P", source_tz="America/New_York")
    f = vf.frame
    assert f["ts"].tolist() == [pd.Timestamp("2020-01-01 14:00", tz=KST), pd.Timestamp("2020-01-01 14:01", tz=KST)]
    assert f["steps"].tolist() == [12.0, 0.0] and f["heart_rate"].iloc[0] == pytest.approx(72.0)
    assert np.isnan(f["heart_rate"].iloc[1])
    assert vf.dropped == {"unparseable_date": 1, "missing_field": 1, "non_step_record": 1}
    assert set(vf.dropped) <= set(vendors.REASONS)
    assert vf.records_in == 8 and vf.records_used == 5
    utc_hr = vendors.read_vendor(d / "heart_rate-2020-01-01.json", "fitbit_json", participant_id="P",
                                 source_tz="America/New_York", hr_tz="UTC").frame
    assert utc_hr["ts"].tolist() == [pd.Timestamp("2020-01-01 09:00", tz=KST)]
    gap = tmp_path / "steps-2020-03-08.json"
    gap.write_text(json.dumps([{"dateTime": "03/08/20 02:30:00", "value": "5"}, {"dateTime": "03/08/20 03:30:00", "value": "6"}]))
    vf = vendors.read_vendor(gap, "fitbit_json", participant_id="P", source_tz="America/New_York")
    assert vf.dropped == {"nonexistent_local_time": 1} and vf.frame["steps"].tolist() == [6.0]
    bad = tmp_path / "steps-2020-01-02.json"
    bad.write_text('[{"dateTime": "01/02/20 00:00:00", "value": "1"},\n {"dateTime": "01/02/20 00:01')
    with pytest.raises(VendorFileError, match=r"steps-2020-01-02\.json, line 2, column \d+: JSON"):
        vendors.read_vendor(bad, "fitbit_json", participant_id="P")


# -- Samsung Health (synthetic: no real export is public) ---------------------------------------

def _samsung_steps(path: Path, rows: list[str], bare: bool = False) -> Path:
    p = "" if bare else "com.samsung.health.step_count."
    cols = ["start_time", "end_time", "time_offset", "count", "update_time", "deviceuuid"]
    path.write_text("com.samsung.shealth.tracker.pedometer_step_count,6315007,6\n"
                    + ",".join(p + c for c in cols) + ",\n" + "".join(r + ",\n" for r in rows), encoding="utf-8")
    return path


def test_samsung_zone_and_duplicates_by_update_time(tmp_path):
    """Built from the documented layout (no public real file)."""
    f = _samsung_steps(tmp_path / "com.samsung.shealth.tracker.pedometer_step_count.20240101.csv", [
        "2024-01-01 00:00:00.000,2024-01-01 00:01:00.000,UTC+0900,40,2024-01-01 01:00:00.000,devA",
        # the same minute from a second device, updated later: it wins
        "2024-01-01 00:00:00.000,2024-01-01 00:01:00.000,UTC+0900,44,2024-01-01 02:00:00.000,devB",
        # travelling: the owner is in New York; start_time is still UTC
        "2024-01-02 15:00:00.000,2024-01-02 15:02:00.000,UTC-0500,30,2024-01-02 16:00:00.000,devA",
        "2024-01-02 16:00:00.000,2024-01-02 16:01:00.000,UTC-0500,x,2024-01-02 16:00:00.000,devA",
        "not a date,2024-01-02 16:01:00.000,UTC-0500,3,2024-01-02 16:00:00.000,devA",
    ])
    assert vendors.detect_format(f) == "samsung_health_csv"
    vf = vendors.read_vendor(f, "samsung_health_csv", participant_id="P")
    fr = vf.frame
    assert fr["ts"].tolist() == [pd.Timestamp("2024-01-01 09:00", tz=KST), pd.Timestamp("2024-01-03 00:00", tz=KST),
                                 pd.Timestamp("2024-01-03 00:01", tz=KST)]
    assert fr["steps"].tolist() == [44.0, 15.0, 15.0]
    assert vf.dropped == {"duplicate_older_update": 1, "unparseable_value": 1, "unparseable_date": 1}
    assert vf.steps_dropped["duplicate_older_update"] == 40
    # clock="local": the same text read as wall clock at time_offset
    loc = vendors.read_vendor(f, "samsung_health_csv", participant_id="P", clock="local").frame
    assert loc["ts"].iloc[0] == pd.Timestamp("2024-01-01 00:00", tz=KST)
    assert loc["ts"].iloc[1] == pd.Timestamp("2024-01-02 15:00", tz="America/New_York").tz_convert(KST)


def test_samsung_bare_columns_heart_rate_and_daily_trend(tmp_path):
    d = tmp_path / "samsunghealth_export"
    d.mkdir()
    _samsung_steps(d / "com.samsung.shealth.tracker.pedometer_step_count.1.csv",
                   ["2024-01-01 00:00:00.000,2024-01-01 00:01:00.000,UTC+0900,10,2024-01-01 01:00:00.000,devA"], bare=True)
    q = "com.samsung.health.heart_rate."
    (d / "com.samsung.shealth.tracker.heart_rate.1.csv").write_text(
        "com.samsung.shealth.tracker.heart_rate,6302001,4\n"
        + ",".join(q + c for c in ("start_time", "end_time", "time_offset", "heart_rate")) + ",\n"
        "2024-01-01 00:00:10.000,2024-01-01 00:10:00.000,UTC+0900,70,\n"
        "2024-01-01 00:00:40.000,2024-01-01 00:00:40.000,UTC+0900,80,\n")
    (d / "com.samsung.shealth.step_daily_trend.1.csv").write_text(
        "com.samsung.shealth.step_daily_trend,6315007,3\nday_time,count,deviceuuid,\n1704067200000,8000,devA,\n")
    assert vendors.detect_format(d) == "samsung_health_csv"
    vf = vendors.read_vendor(d, "samsung_health_csv", participant_id="P")
    fr = vf.frame
    assert len(fr) == 1 and fr["steps"].iloc[0] == 10 and fr["heart_rate"].iloc[0] == 75  # HR at its start minute
    assert vf.dropped == {"daily_total_only": 1} and vf.records_in == 4
    with pytest.raises(VendorFileError, match="participant_id"):
        vendors.read_vendor(d, "samsung_health_csv")


# -- synthetic writers round trip ----------------------------------------------------------------

@pytest.fixture(scope="module")
def minutes() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    ts = pd.date_range("2024-03-09 22:00", periods=2 * 1440, freq="min", tz=KST)
    m = pd.DataFrame({"participant_id": "R-77", "ts": ts, "steps": rng.integers(0, 140, len(ts)).astype(float),
                      "heart_rate": rng.normal(74, 9, len(ts))})
    m.loc[rng.random(len(ts)) < 0.25, "steps"] = np.nan
    m.loc[rng.random(len(ts)) < 0.3, "heart_rate"] = np.nan
    return m


@pytest.mark.parametrize("fmt,name,dup", [("apple_health_xml", "export.xml", False), ("apple_health_xml", "export.xml.gz", True),
                                          ("samsung_health_csv", "samsung", False), ("samsung_health_csv", "samsung", True),
                                          ("fitbit_json", "fitbit", False)])
def test_write_then_read_round_trip(minutes, tmp_path, fmt, name, dup):
    out = vendors.write_synthetic(fmt, minutes, tmp_path / name, participant_id="R-77", duplicate_source=dup)
    assert vendors.detect_format(out) == fmt
    vf = vendors.read_vendor(out, fmt, participant_id="R-77")
    expected = minutes.dropna(subset=["steps", "heart_rate"], how="all").set_index("ts")
    got = vf.frame.set_index("ts")
    assert got.index.equals(expected.index)
    pd.testing.assert_series_equal(got["steps"], expected["steps"], check_freq=False)
    assert np.allclose(got["heart_rate"], expected["heart_rate"], atol=1e-6, rtol=0, equal_nan=True)
    assert vf.records_used == minutes["steps"].notna().sum() + minutes["heart_rate"].notna().sum()
    if dup:  # the lower-priority decoy source never reaches the minutes
        assert sum(vf.dropped.values()) == minutes["steps"].notna().sum()
        assert vf.frame["source"].nunique() == 1
    assert "R-77" not in out.read_bytes().decode("utf-8", "replace") if out.is_file() and name.endswith(".xml") else True


def test_apple_chunk_boundaries_do_not_change_the_result(hk, hk_frame, monkeypatch):
    """The streaming reader flushes every _CHUNK records; a tiny chunk (manual flags of a record's
    MetadataEntry children straddling a flush) gives the same minutes."""
    from evaluation.ingest.vendors import apple

    monkeypatch.setattr(apple, "_CHUNK", 97)
    small = vendors.read_vendor(hk, "apple_health_xml", participant_id="P-apple")
    pd.testing.assert_frame_equal(small.frame, hk_frame.frame)
    assert small.dropped == hk_frame.dropped


def test_fitabase_damage_keeps_ids_apart_and_out_of_messages(tmp_path):
    """NUL bytes do not truncate ids into one; wrong field counts are counted by line; no raw id in any message."""
    p = tmp_path / "minuteStepsNarrow_merged.csv"
    p.write_bytes(b"Id,ActivityMinute,Steps\nRID\x00AAA,2016-04-13 00:00:00,4\nRID\x00BBB,2016-04-13 00:00:00,5\n"
                  b"RID777,2016-04-13 00:00:00,3,9\nRID777,2016-04-13 00:01:00\nRID777,2016-04-13 00:02:00,1\n"
                  b"RID777,2016-04-13 00:03:00,NA\n")
    vf = vendors.read_vendor(p, "fitabase_csv")
    assert vf.dropped == {"invalid_id": 2, "wrong_field_count": 2, "unparseable_value": 1}
    assert vf.records_in == 6 and vf.frame["participant_id"].tolist() == ["RID777"]
    assert "invalid_id: 2 records, first at line 2" in vf.notes and "unparseable_value: 1 records, first at line 7" in vf.notes
    assert not any("RID" in n for n in vf.notes)
    headless = tmp_path / "noheader.csv"
    headless.write_text("RID777,2016-04-13 00:00:00,3\n")
    with pytest.raises(VendorFileError) as err:
        vendors.read_vendor(headless, "fitabase_csv")
    assert "RID777" not in str(err.value) and "noheader.csv" in str(err.value)


def test_group_exports_reads_a_fitbit_day_once(minutes, tmp_path, ref):
    """Steps and heart-rate files of one folder are one unit: each minute once, with both values."""
    out = vendors.write_synthetic("fitbit_json", minutes, tmp_path / "fitbit", participant_id="R-77")
    fit = tmp_path / "w.fit"
    shutil.copy(ref / "vendor_exports" / "garmin_vivofit_monitoring_fitparse.fit", fit)
    files = sorted(out.iterdir()) + [fit]
    plan = vendors.group_exports(files)
    assert plan == [(out, "fitbit_json"), (fit, "garmin_fit")]
    vf = vendors.read_vendor(*plan[0], participant_id="R-77")
    assert not vf.frame.duplicated(["participant_id", "ts"]).any()
    assert len(vf.frame) == len(minutes.dropna(subset=["steps", "heart_rate"], how="all"))


def test_samsung_heart_rate_binning_files(tmp_path):
    """Galaxy-watch continuous heart rate: a row's binning_data JSON (per-bin start_time in epoch ms)
    replaces the row's single value; a missing binning file falls back to the row. Synthetic layout."""
    d = tmp_path / "samsunghealth_x_20240101"
    dtype = "com.samsung.shealth.tracker.heart_rate"
    (d / "jsons" / dtype / "a").mkdir(parents=True)
    t0 = pd.Timestamp("2024-01-01 00:00", tz="UTC")
    bins = [{"heart_rate": 60.0 + k, "heart_rate_min": 55, "heart_rate_max": 70,
             "start_time": int((t0 + pd.Timedelta(minutes=k)).timestamp() * 1000),
             "end_time": int((t0 + pd.Timedelta(minutes=k + 1)).timestamp() * 1000)} for k in range(10)]
    (d / "jsons" / dtype / "a" / "abc.binning_data.json").write_text(json.dumps(bins))
    q = "com.samsung.health.heart_rate."
    (d / f"{dtype}.20240101.csv").write_text(
        f"{dtype},6302001,5\n" + ",".join(q + c for c in ("start_time", "end_time", "time_offset", "heart_rate", "binning_data")) + ",\n"
        "2024-01-01 00:00:00.000,2024-01-01 00:10:00.000,UTC+0900,64.5,abc.binning_data.json,\n"
        "2024-01-01 01:00:00.000,2024-01-01 01:10:00.000,UTC+0900,71,missing.binning_data.json,\n")
    vf = vendors.read_vendor(d, "samsung_health_csv", participant_id="P")
    f = vf.frame
    assert len(f) == 11 and f["heart_rate"].tolist() == [60.0 + k for k in range(10)] + [71.0]
    assert f["ts"].iloc[0] == pd.Timestamp("2024-01-01 09:00", tz=KST)
    assert vf.records_in == 2 and vf.records_used == 2


def test_fitabase_cp949_and_undecodable(tmp_path):
    """Korean spreadsheet tools write CP949: read it; bytes that are neither give the file and line."""
    p = tmp_path / "minuteStepsNarrow_merged.csv"
    p.write_bytes("Id,ActivityMinute,Steps\n참여자01,2016-04-13 00:00:00,4\n".encode("cp949"))
    vf = vendors.read_vendor(p, "fitabase_csv")
    assert vf.frame["participant_id"].tolist() == ["참여자01"] and vf.frame["steps"].tolist() == [4.0]
    p.write_bytes(b"Id,ActivityMinute,Steps\nA1,2016-04-13 00:00:00,4\nA1,2016-04-13 00:01:00,\xff\xff\n")
    with pytest.raises(VendorFileError, match=r"minuteStepsNarrow_merged\.csv, line 3: text is neither"):
        vendors.read_vendor(p, "fitabase_csv")


def test_apple_per_record_offsets_and_heart_rate_priority(tmp_path):
    """Each record's own offset sets its instant; a watch's heart rate wins the minute over an app's."""
    rec = ('<Record type="{t}" sourceName="{n}" device="{d}" unit="{u}" startDate="{s}" endDate="{e}" value="{v}"/>\n')
    watch = "&lt;&lt;HKDevice: 0x1&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,1&gt;"
    body = "".join([
        rec.format(t="HKQuantityTypeIdentifierStepCount", n="Apple Watch", d=watch, u="count",
                   s="2024-05-01 10:00:00 +0900", e="2024-05-01 10:01:00 +0900", v=10),
        rec.format(t="HKQuantityTypeIdentifierStepCount", n="Apple Watch", d=watch, u="count",
                   s="2024-04-30 21:00:00 -0400", e="2024-04-30 21:01:00 -0400", v=20),  # = 10:00 KST next day
        rec.format(t="HKQuantityTypeIdentifierHeartRate", n="Apple Watch", d=watch, u="count/min",
                   s="2024-05-01 10:05:10 +0900", e="2024-05-01 10:05:10 +0900", v=80),
        rec.format(t="HKQuantityTypeIdentifierHeartRate", n="SomeApp", d="", u="count/min",
                   s="2024-05-01 10:05:20 +0900", e="2024-05-01 10:05:20 +0900", v=120),
        rec.format(t="HKQuantityTypeIdentifierHeartRate", n="SomeApp", d="", u="count/min",
                   s="2024-05-01 10:06:20 +0900", e="2024-05-01 10:06:20 +0900", v=90),
        rec.format(t="HKQuantityTypeIdentifierHeartRate", n="SomeApp", d="", u="count/s",
                   s="2024-05-01 10:07:20 +0900", e="2024-05-01 10:07:20 +0900", v=1.5),
    ])
    p = tmp_path / "export.xml"
    p.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="ko_KR">\n{body}</HealthData>\n')
    vf = vendors.read_vendor(p, "apple_health_xml", participant_id="P")
    f = vf.frame.set_index("ts")
    assert f.loc[pd.Timestamp("2024-05-01 10:00", tz=KST), "steps"] == 30  # two records, same instant minute
    assert f.loc[pd.Timestamp("2024-05-01 10:05", tz=KST), "heart_rate"] == 80
    assert f.loc[pd.Timestamp("2024-05-01 10:05", tz=KST), "source"] == "apple_health:Apple Watch"
    assert f.loc[pd.Timestamp("2024-05-01 10:06", tz=KST), "heart_rate"] == 90
    assert f.loc[pd.Timestamp("2024-05-01 10:06", tz=KST), "source"] == "apple_health:SomeApp"
    assert vf.dropped == {"overlap_lower_priority": 1, "unexpected_unit": 1}
