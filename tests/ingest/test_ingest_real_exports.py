"""Real own-device exports through ``read_exports``, each against an independent count.

The files are in tests/data/vendor_exports (sources and licences: tests/data/README.md). The readers
allocate records to minutes and round to whole steps; the counts here come by another route: the
XML parsed with ElementTree and dates with ``strptime``, the FIT file decoded with Garmin's SDK
directly (the device's own daily totals). Totals must agree exactly (whole steps, no drift), and
the first and last minutes must be where the records say.

``EVALUATION_EXTRA_EXPORTS`` may name a folder of further real files that cannot be kept in the
repository (e.g. the fenix activity files of python-fitparse's test suite, MIT): those found there
are checked the same way.
"""
from __future__ import annotations

import gzip
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import ingest
from evaluation.ingest import vendors

KST = "Asia/Seoul"
KEY = "test-key-not-secret"
DATA = Path(__file__).resolve().parents[1] / "data" / "vendor_exports"
FIT_EPOCH_S = 631_065_600


def _records(path: Path) -> pd.DataFrame:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        root = ET.parse(fh).getroot()
    rows = []
    for r in root.findall("Record"):
        manual = any(m.get("key") == "HKWasUserEntered" and m.get("value") == "1" for m in r.findall("MetadataEntry"))
        rows.append((r.get("type"), r.get("sourceName"), r.get("startDate"), r.get("endDate"), r.get("value"), manual))
    df = pd.DataFrame(rows, columns=["type", "source", "start", "end", "value", "manual"])
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c], format="%Y-%m-%d %H:%M:%S %z", utc=True)
    return df


def test_apple_hkimport_totals_and_placement():
    """ashtom/hkimport export.xml: iPhone, Garmin Connect and manual step records overlapping in time."""
    path = DATA / "apple_health_export_2017_hkimport.xml.gz"
    rec = _records(path)
    steps = rec[(rec["type"] == "HKQuantityTypeIdentifierStepCount")]
    vf = vendors.read_vendor(path, "apple_health_xml", participant_id="P")
    r = ingest.read_exports(path, participant_id="P", key=KEY)
    # conservation: every step read is in a minute or accounted for by reason, in whole steps
    assert vf.steps_in == steps["value"].sum()
    kept = int(r.minutes["steps"].sum())
    assert kept == vf.frame["steps"].sum()  # read_exports adds no rounding drift
    assert kept + sum(vf.steps_dropped.values()) == steps["value"].sum()
    # the band's own records (tier 1, never overlapped by a better source) are whole in the minutes
    connect = steps[(steps["source"] == "Connect") & ~steps["manual"]]
    got = r.minutes.loc[r.minutes["source"].astype(str).str.startswith("apple_health:Connect"), "steps"].sum()
    assert int(got) == int(connect["value"].sum())
    # placement: each Connect record's start minute (strptime with its own offset) is a Connect minute
    first = connect["start"].dt.floor("min").dt.tz_convert(KST)
    con_minutes = set(r.minutes.loc[r.minutes["source"].astype(str).str.startswith("apple_health:Connect"), "ts"])
    starts_with_steps = first[connect["value"].to_numpy() > 0]
    share = np.mean([t in con_minutes for t in starts_with_steps])
    assert share > 0.99, share
    assert r.minutes["ts"].min() == min(steps.loc[~steps["manual"], "start"].min(),
                                        rec.loc[rec["type"] == "HKQuantityTypeIdentifierHeartRate", "start"].min()
                                        ).floor("min").tz_convert(KST)
    assert r.files["status"].tolist() == ["ok"] and r.accounting.rows_quarantined == 0


def test_apple_small_export_totals_and_placement():
    """tdda/applehealthdata sample: ten step records of 5 s each, dates with +0100."""
    path = DATA / "apple_health_export_small_applehealthdata.xml"
    rec = _records(path)
    steps = rec[rec["type"] == "HKQuantityTypeIdentifierStepCount"]
    r = ingest.read_exports(path, participant_id="P", key=KEY)
    assert int(r.minutes["steps"].sum()) == int(steps["value"].sum()) == 2517
    expected = steps.groupby(steps["start"].dt.floor("min").dt.tz_convert(KST))["value"].sum()
    got = r.minutes.set_index("ts")["steps"].astype(float)
    pd.testing.assert_series_equal(got, expected, check_names=False, check_freq=False, check_index_type=False)


def _fit(path: Path) -> dict:
    from garmin_fit_sdk import Decoder, Stream

    msgs, errors = Decoder(Stream.from_file(str(path))).read(convert_datetimes_to_dates=False)
    assert not errors
    return msgs


def test_garmin_vivofit_monitoring_totals_and_placement():
    """python-fitparse MonitoringFile.fit: the device's own daily totals (duration_min messages, read with
    the SDK here) against the minutes read through ``read_exports``."""
    path = DATA / "garmin_vivofit_monitoring_fitparse.fit"
    msgs = _fit(path)
    mon = msgs["monitoring_mesgs"]
    daily = [m for m in mon if "duration_min" in m and m.get("activity_type") in ("walking", "running")]
    device_total = sum(m.get("steps", 2 * m.get("cycles", 0)) for m in daily)
    r = ingest.read_exports(path, participant_id="P", key=KEY)
    assert int(r.minutes["steps"].sum()) == device_total == 3173
    # placement: minutes run from the first monitoring message (its 16-bit time resolved against the
    # monitoring_info timestamp, as the FIT protocol defines) to the daily totals' time, every minute
    info = msgs["monitoring_info_mesgs"][0]["timestamp"]
    first = info + ((mon[0]["timestamp_16"] - (info & 0xFFFF)) & 0xFFFF)
    end = max(m["timestamp"] for m in daily)
    utc = r.minutes["ts"].dt.tz_convert("UTC")
    assert utc.min() == pd.Timestamp((first + FIT_EPOCH_S) * 10**9, tz="UTC").floor("min") \
        == pd.Timestamp("2014-12-27 13:43", tz="UTC")
    assert utc.max() == pd.Timestamp((end + FIT_EPOCH_S) * 10**9, tz="UTC") - pd.Timedelta("1min")
    assert len(r.minutes) == int((utc.max() - utc.min()) / pd.Timedelta("1min")) + 1


EXTRA = Path(os.environ["EVALUATION_EXTRA_EXPORTS"]) if os.environ.get("EVALUATION_EXTRA_EXPORTS") else None
_FENIX = ["garmin-fenix-5-run.fit", "garmin-fenix-5-walk.fit", "activity-small-fenix2-run.fit",
          "activity-large-fenxi2-multisport.fit"]


@pytest.mark.skipif(EXTRA is None, reason="EVALUATION_EXTRA_EXPORTS not set (real files that are not kept here)")
@pytest.mark.parametrize("name", _FENIX)
def test_garmin_activity_files_extra(name):
    """Garmin Connect "Export original" activity files (fenix 2 and 5): heart-rate minutes equal the SDK's
    records averaged per minute; steps equal 2 x the laps' strides."""
    path = EXTRA / name
    if not path.exists():
        pytest.skip(f"{name} not in EVALUATION_EXTRA_EXPORTS")
    msgs = _fit(path)
    rec = pd.DataFrame(msgs["record_mesgs"])
    rec = rec[rec["heart_rate"].between(1, 254)] if "heart_rate" in rec else rec.iloc[:0]
    t = pd.to_datetime((rec["timestamp"].astype("int64") + FIT_EPOCH_S) * 10**9, utc=True)
    expected_hr = rec.groupby(t.dt.floor("min").dt.tz_convert(KST))["heart_rate"].mean().astype(float)
    strides = sum(lap.get("total_strides", lap.get("total_cycles")) or 0 for lap in msgs.get("lap_mesgs", [])
                  if (lap.get("sport") or msgs["session_mesgs"][0].get("sport")) in ("walking", "running", "hiking"))
    r = ingest.read_exports(path, participant_id="P", key=KEY)
    assert r.files["status"].tolist() == ["ok"]
    got = r.minutes.set_index("ts")
    pd.testing.assert_series_equal(got["heart_rate"].dropna().astype(float), expected_hr, check_names=False,
                                   check_freq=False, check_index_type=False, rtol=1e-6)
    assert int(got["steps"].sum()) == 2 * strides
