"""Property tests for the vendor readers: round trips over random minutes, and damaged exports.

Damage never gives an unexplained exception: a reader returns a frame whose record accounting holds
(``records_in == records_used + dropped``) and whose minutes are a subset of the truth written, or it
raises ``VendorFileError`` naming the file. No raw participant id appears in any message.
Samsung files here are synthetic (no real Samsung export is public), written from the documented layout.
Bounded: about 20 s in total.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.ingest import vendors
from evaluation.ingest.vendors import VendorFileError

DATA = Path(__file__).resolve().parents[1] / "data"

KST = "Asia/Seoul"
RAW_ID = "RID-9f3a-홍길동"
FORMATS = ("apple_health_xml", "samsung_health_csv", "fitbit_json")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def minute_tables(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    start = draw(st.datetimes(min_value=pd.Timestamp("2019-01-01").to_pydatetime(),
                              max_value=pd.Timestamp("2030-01-01").to_pydatetime()))
    gaps = draw(st.lists(st.integers(1, 400), min_size=n, max_size=n))
    ts = pd.Timestamp(start).floor("min").tz_localize(KST) + pd.to_timedelta(np.cumsum(gaps), unit="min")
    steps = draw(st.lists(st.one_of(st.none(), st.integers(0, 300)), min_size=n, max_size=n))
    hr = draw(st.lists(st.one_of(st.none(), st.floats(30, 220, allow_nan=False)), min_size=n, max_size=n))
    m = pd.DataFrame({"ts": ts, "steps": pd.array(steps, dtype="float64"), "heart_rate": pd.array(hr, dtype="float64")})
    m = m.dropna(subset=["steps", "heart_rate"], how="all")
    if m.empty:
        m = pd.DataFrame({"ts": ts[:1], "steps": [1.0], "heart_rate": [np.nan]})
    return m.reset_index(drop=True)


def _write(fmt: str, m: pd.DataFrame, d: Path, dup: bool) -> Path:
    name = {"apple_health_xml": "export.xml", "samsung_health_csv": "samsung", "fitbit_json": "fitbit"}[fmt]
    return vendors.write_synthetic(fmt, m, d / name, participant_id=RAW_ID, duplicate_source=dup and fmt != "fitbit_json")


@SETTINGS
@given(m=minute_tables(), fmt=st.sampled_from(FORMATS), dup=st.booleans())
def test_round_trip_any_minutes(m, fmt, dup):
    with tempfile.TemporaryDirectory() as d:
        out = _write(fmt, m, Path(d), dup)
        vf = vendors.read_vendor(out, fmt, participant_id=RAW_ID)
    got = vf.frame.set_index("ts")
    exp = m.set_index("ts")
    assert got.index.equals(exp.index)
    assert np.array_equal(got["steps"].to_numpy(), exp["steps"].to_numpy(), equal_nan=True)
    assert np.allclose(got["heart_rate"], exp["heart_rate"], atol=1e-6, rtol=0, equal_nan=True)
    assert vf.frame["steps"].sum() + sum(vf.steps_dropped.values()) == vf.steps_in or np.isclose(
        vf.frame["steps"].sum() + sum(vf.steps_dropped.values()), vf.steps_in)


def _damage(data: bytes, kind: str, at: float, junk: bytes) -> bytes:
    i = int(at * len(data))
    if kind == "truncate":
        return data[:i]
    if kind == "garbage":
        return data[:i] + junk + data[i + len(junk):]
    if kind == "insert":
        return data[:i] + junk + data[i:]
    if kind == "nul":
        return data[:i] + b"\x00" + data[i + 1:]
    if kind == "bad_date":  # the first digit of a date becomes a letter
        j = data.find(b"20", i)
        return data if j < 0 else data[:j] + b"2O" + data[j + 2:]
    return data[:i] + data[i:].replace(b",", b",,", 1)  # "extra_field"


@SETTINGS
@given(m=minute_tables(), fmt=st.sampled_from(FORMATS),
       kind=st.sampled_from(["truncate", "garbage", "insert", "nul", "bad_date", "extra_field"]),
       at=st.floats(0, 1), junk=st.binary(min_size=1, max_size=12), which=st.integers(0, 5))
def test_damaged_exports_are_explained(m, fmt, kind, at, junk, which):
    with tempfile.TemporaryDirectory() as d:
        out = _write(fmt, m, Path(d), dup=False)
        files = sorted(p for p in out.rglob("*") if p.is_file()) if out.is_dir() else [out]
        victim = files[which % len(files)]
        victim.write_bytes(_damage(victim.read_bytes(), kind, at, junk))
        try:
            vf = vendors.read_vendor(out, fmt, participant_id=RAW_ID)
        except VendorFileError as exc:
            assert victim.name in str(exc) or out.name in str(exc)
            assert RAW_ID not in str(exc)
            return
    vf.check()
    assert vf.records_in == vf.records_used + sum(vf.dropped.values())
    assert set(vf.dropped) <= set(vendors.REASONS)  # every code is documented
    # nothing invented: every minute read was written, and its steps are the written steps
    truth = m.set_index("ts")
    got = vf.frame.set_index("ts")
    assert got.index.isin(truth.index).all() or kind in ("garbage", "insert", "bad_date")
    assert RAW_ID not in " ".join(vf.notes)


@settings(max_examples=15, deadline=None)
@given(cut=st.integers(0, 2086), flip=st.integers(0, 2086))
def test_damaged_fit_is_explained(cut, flip):
    src = DATA / "vendor_exports" / "garmin_vivofit_monitoring_fitparse.fit"
    data = bytearray(src.read_bytes())
    data[flip] ^= 0xFF
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "watch.fit"
        p.write_bytes(bytes(data[:cut]) if cut > 14 else bytes(data))
        try:
            vf = vendors.read_vendor(p, "garmin_fit", participant_id=RAW_ID)
        except VendorFileError as exc:
            assert "watch.fit" in str(exc)
            return
    vf.check()


@st.composite
def apple_dates(draw) -> str:
    y, mo, d = draw(st.integers(1971, 2099)), draw(st.integers(0, 13)), draw(st.integers(0, 32))
    h, mi, s = draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 61))
    sign, oh, om = draw(st.sampled_from("+-")), draw(st.integers(0, 14)), draw(st.sampled_from([0, 30, 45, 60, 99]))
    text = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d} {sign}{oh:02d}{om:02d}"
    mutate = draw(st.integers(0, 6))
    if mutate == 1:
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw(st.sampled_from(["", "x", "０", " ", "T", "99"])) + text[i + 1:]
    elif mutate == 2:
        text = text[: draw(st.integers(0, len(text)))]
    return text


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(apple_dates(), min_size=1, max_size=50))
def test_apple_date_parser_matches_pandas(texts):
    """Parity of the hand-written Apple date parser with pandas' strict ``%z`` parse, valid or not."""
    from evaluation.ingest.vendors.apple import parse_dates

    ns, ok = parse_dates(texts)
    ref = pd.to_datetime(pd.Series(texts, dtype=object), format="%Y-%m-%d %H:%M:%S %z", utc=True, errors="coerce")
    ref_ok = ref.notna().to_numpy()
    # the wall-clock part is pandas' own strict parse; the parser is stricter in the layout: Apple's fixed
    # two-digit fields (pandas' %S also takes '0 ' for '00') and ``' +HHMM'`` at characters 19-24, minutes < 60
    canonical = np.array([len(t) == 25 and bool(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", t[:19]))
                          and bool(re.fullmatch(r" [+-][0-9]{2}[0-5][0-9]", t[19:])) for t in texts])
    assert not (ok & ~ref_ok).any()
    assert np.array_equal(ok, ref_ok & canonical)
    assert np.array_equal(ns[ok], ref[ok].to_numpy(dtype="datetime64[ns]").view(np.int64))


@settings(max_examples=30, deadline=None)
@given(m=minute_tables(), kind=st.sampled_from(["truncate", "garbage", "insert", "nul", "bad_date", "extra_field"]),
       at=st.floats(0, 1), junk=st.binary(min_size=1, max_size=12), us_dates=st.booleans())
def test_damaged_fitabase_is_explained(m, kind, at, junk, us_dates):
    """Fitabase CSVs carry the raw Id in every row: damage never puts it in a message."""
    fmt = "%m/%d/%Y %I:%M:%S %p" if us_dates else "%Y-%m-%d %H:%M:%S"
    body = "".join(f"{RAW_ID},{t.strftime(fmt)},{'' if np.isnan(s) else int(s)}\n"
                   for t, s in zip(m["ts"].dt.tz_localize(None), m["steps"]))
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "minuteStepsNarrow_merged.csv"
        p.write_bytes(_damage(("Id,ActivityMinute,Steps\n" + body).encode("utf-8"), kind, at, junk))
        try:
            vf = vendors.read_vendor(p, "fitabase_csv")
        except VendorFileError as exc:
            assert "minuteStepsNarrow_merged.csv" in str(exc) and RAW_ID not in str(exc)
            return
    vf.check()
    assert RAW_ID not in " ".join(vf.notes)
    assert vf.frame["steps"].sum() <= m["steps"].sum() or kind in ("garbage", "insert")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 15), st.sampled_from(["x", "y", "z", None])),
                min_size=1, max_size=200))
def test_joined_sources_match_the_per_minute_rule(rows):
    """``combine``'s vectorised source labels = distinct non-missing sources of each minute in order of
    appearance, joined by "+" (the rule it replaced, applied per minute in Python)."""
    from evaluation.ingest.vendors import _joined_sources

    df = pd.DataFrame(rows, columns=["p", "t", "source"])
    g = df.groupby(["p", "t"], sort=True)
    want = g["source"].agg(lambda s: "+".join(dict.fromkeys(s.dropna()))).tolist()
    assert _joined_sources(g.ngroup().to_numpy(), df["source"], g.ngroups).tolist() == want
