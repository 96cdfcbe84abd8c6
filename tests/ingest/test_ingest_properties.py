"""Damaged-export property suite (hypothesis): every kind of damage from issue 12, item 4.

Each example writes one band export whose rows carry known damage (NUL bytes, huge / infinite /
fractional numbers, unparseable or mixed-offset timestamps, truncated lines, extra fields, repeated
headers, blank lines, trailing commas, CRLF) in one of several encodings (UTF-8 with or without BOM,
CP949, UTF-16) or gzip, plus -- in the same folder -- an empty file, a header-only file, a file whose
column mapping doubles a column and a cut-short gzip. Checked on every example:

* no exception escapes in quarantine mode, and in raise mode only :class:`ingest.IngestError`
  naming the file and quoting no raw id;
* ``rows_in == rows_kept + rows_quarantined`` overall and per file; nothing is invented
  (every kept row is a row that was written, at its instant) and the reasons are exactly the
  expected ones;
* distinct raw ids (also ``RID\\x00AAA`` vs ``RID\\x00BBB``) never share a pseudonym, and no
  pseudonym appears that does not belong to a written id;
* bad files are reported by name and the rest of the folder is read.
"""
from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation import ingest

KEY = "property-key-" + "z" * 20
IDS = ["RID001", "RID002", "홍길동", "RID\x00AAA", "RID\x00BBB", "", " "]
START = pd.Timestamp("2023-03-06 00:00", tz="Asia/Seoul")
TS_FORMATS = ["naive", "naive_t", "z", "colon", "nocolon", "hours"]
DAMAGE = ["none"] * 6 + ["extra", "truncated", "nul", "huge_steps", "frac_steps", "inf_hr", "bad_ts"]
EXPECTED_REASON = {"extra": "extra_fields", "truncated": "truncated_line", "nul": "nul_byte",
                   "huge_steps": "steps_out_of_range", "frac_steps": "non_integer_steps",
                   "inf_hr": "heart_rate_out_of_range", "bad_ts": "unparseable_ts"}
HEADERS = {"en": ["participant_id", "ts", "steps", "heart_rate"], "ko": ["참여자", "측정시각", "걸음수", "심박수"]}
MAPPING = {"참여자": "participant_id", "측정시각": "ts", "걸음수": "steps", "심박수": "heart_rate",
           "Id": "participant_id"}


def fmt_ts(minute: int, how: str) -> str:
    t = START + pd.Timedelta(minutes=minute)
    if how == "naive":
        return t.strftime("%Y-%m-%d %H:%M:%S")
    if how == "naive_t":
        return t.strftime("%Y-%m-%dT%H:%M")
    if how == "z":
        return t.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + {"colon": "+09:00", "nocolon": "+0900", "hours": "+09"}[how]


row = st.tuples(st.sampled_from(IDS), st.integers(0, 3000), st.integers(0, 250),
                st.one_of(st.just(""), st.integers(40, 180).map(str)), st.sampled_from(TS_FORMATS),
                st.sampled_from(DAMAGE), st.sampled_from(["2147483648", "1e12", "inf", "-inf", "99999999999"]))


@st.composite
def export(draw):
    rows = draw(st.lists(row, max_size=25))
    return {
        "rows": rows,
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "cp949", "utf-16"])),
        "header": draw(st.sampled_from(["en", "ko"])),
        "gzip": draw(st.booleans()),
        "trailing_comma": draw(st.booleans()),
        "crlf": draw(st.booleans()),
        "repeated_header_at": draw(st.one_of(st.none(), st.integers(0, 25))),
        "blank_at": draw(st.lists(st.integers(0, 25), max_size=3)),
        "no_final_newline": draw(st.booleans()),
        "extras": draw(st.sets(st.sampled_from(["empty", "header_only", "dup_mapping", "cut_gzip"]))),
    }


def build(spec: dict) -> tuple[str, list[dict]]:
    """The file text and, per written data line, what ingest must do with it."""
    header = HEADERS[spec["header"]]
    end = "," if spec["trailing_comma"] else ""
    lines = [",".join(header) + end]
    truth = []
    for rid, minute, steps, hr, how, damage, huge in spec["rows"]:
        fields = [rid, fmt_ts(minute, how), str(steps), hr]
        if damage == "extra":
            fields.append("99")
        elif damage == "truncated":
            fields = fields[:3]
        elif damage == "nul":
            fields[1] = fields[1][:4] + "\x00" + fields[1][4:]
        elif damage == "huge_steps":
            fields[2] = huge
        elif damage == "frac_steps":
            fields[2] = f"{steps}.5"
        elif damage == "inf_hr":
            fields[3] = "inf"
        elif damage == "bad_ts":
            fields[1] = "not-a-time"
        # reasons in priority order: NUL, then the line's structure, then the id, then the values
        if "\x00" in rid or damage == "nul":
            reason = "nul_byte"
        elif damage in ("extra", "truncated"):
            reason = EXPECTED_REASON[damage]
        elif not rid.strip():
            reason = "missing_participant"
        else:
            reason = EXPECTED_REASON.get(damage)
        lines.append(",".join(fields) + end)
        truth.append({"reason": reason, "id": rid, "ts": START + pd.Timedelta(minutes=minute), "steps": steps,
                      "hr": float(hr) if hr else None})
    if spec["repeated_header_at"] is not None:
        at = min(spec["repeated_header_at"], len(truth)) + 1
        lines.insert(at, lines[0])
        truth.insert(at - 1, {"reason": "repeated_header", "id": None})
    for b in sorted(spec["blank_at"], reverse=True):
        lines.insert(min(b, len(lines) - 1) + 1, "")
    data_lines = [i + 1 for i, ln in enumerate(lines) if i > 0 and ln != ""]
    for t, line in zip(truth, data_lines):
        t["line"] = line
    nl = "\r\n" if spec["crlf"] else "\n"
    text = nl.join(lines) + ("" if spec["no_final_newline"] else nl)
    return text, truth


def write_folder(tmp: Path, spec: dict) -> tuple[Path, Path, dict[str, str]]:
    folder = tmp / "exports"
    folder.mkdir()
    text, _ = build(spec)
    main = folder / ("main.csv.gz" if spec["gzip"] else "main.csv")
    data = text.encode(spec["encoding"])
    main.write_bytes(gzip.compress(data) if spec["gzip"] else data)
    bad: dict[str, str] = {}
    if "empty" in spec["extras"]:
        (folder / "x_empty.csv").write_bytes(b"")
        bad["x_empty.csv"] = "empty_file"
    if "header_only" in spec["extras"]:
        (folder / "x_header_only.csv").write_text("participant_id,ts,steps,heart_rate\n")
    if "dup_mapping" in spec["extras"]:
        (folder / "x_dup.csv").write_text("participant_id,Id,ts,steps\nRID001,RID001,2023-03-06 09:00,1\n")
        bad["x_dup.csv"] = "schema"
    if "cut_gzip" in spec["extras"]:
        z = gzip.compress(("participant_id,ts,steps,heart_rate\n" + "RID001,2023-03-06 09:00,1,70\n" * 500).encode())
        (folder / "x_cut.csv.gz").write_bytes(z[: len(z) // 2])
        bad["x_cut.csv.gz"] = "truncated_gzip"
    return folder, main, bad


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          deadline=None)
@given(spec=export())
def test_damaged_exports_are_accounted_for_and_never_crash(tmp_path_factory, spec):
    tmp = tmp_path_factory.mktemp("prop")
    folder, main, bad = write_folder(tmp, spec)
    _, truth = build(spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = ingest.read_exports(folder, key=KEY, columns=MAPPING)
    acc = r.accounting.check()
    # bad files: reported by name, the rest read
    status = {Path(f).name: s for f, s in r.files.set_index("file")["status"].items()}
    for name, code in bad.items():
        assert status[name] == code, (name, status)
        assert any(name in str(w.message) for w in caught)
    assert status[main.name] == ("ok" if truth else "header_only")
    # the main file: exactly the expected reasons, nothing invented
    mine = r.quarantine[r.quarantine["file"] == str(main)]
    expected = pd.Series([t["reason"] for t in truth if t["reason"]], dtype=object).value_counts().to_dict()
    assert mine["reason"].value_counts().to_dict() == expected
    assert acc.by_file[str(main)]["rows_in"] == len(truth)
    kept_truth = [t for t in truth if t["reason"] is None]
    kept = r.minutes[r.minutes["source"] == "band_csv"]
    assert len(kept) == len(kept_truth) <= acc.rows_in
    if kept_truth:
        assert kept["ts"].tolist() == [t["ts"] for t in kept_truth]
        assert kept["steps"].astype(int).tolist() == [t["steps"] for t in kept_truth]
        want = ingest.pseudonymise([t["id"] for t in kept_truth], ingest.load_key(KEY))
        assert kept["participant_id"].astype(str).tolist() == list(want)
    # the quarantine report names the physical line of each row (blank lines counted, header = line 1)
    assert dict(zip(mine["line"].astype(int), mine["reason"])) == {t["line"]: t["reason"] for t in truth if t["reason"]}
    # ids: distinct raw ids never merge, no pseudonym comes from a cut-down id
    written = sorted({t["id"] for t in truth if t.get("id") is not None})
    pseud = dict(zip(written, ingest.pseudonymise(written, ingest.load_key(KEY))))
    assert len(set(pseud.values())) == len(written)
    seen = set(r.minutes["participant_id"].astype(str)) | set(mine["participant_id"].dropna())
    allowed = set(pseud.values()) | set(ingest.pseudonymise(["2023", "participant_id", "참여자", "RID001"],
                                                             ingest.load_key(KEY)))
    assert seen <= allowed
    # no raw id in anything a run would publish
    text = r.quarantine.to_csv() + r.files.to_csv() + " ".join(str(w.message) for w in caught)
    for rid in ("RID001", "RID002", "홍길동", "RID\x00AAA"):
        assert rid not in text
    # raise mode: only documented errors, naming the file, quoting no id
    try:
        ingest.read_exports(folder, key=KEY, columns=MAPPING, on_error="raise")
    except ingest.IngestError as e:
        assert Path(e.file).name in str(e)
        for rid in ("RID001", "RID002", "홍길동", "RID\x00AAA", "RID\x00BBB"):
            assert rid not in str(e)
    else:
        assert not bad and all(t["reason"] is None for t in truth)


def test_the_suite_generates_every_kind_of_damage():
    """The strategies above can produce each damage the issue lists (guards against a narrowed generator)."""
    kinds = set(DAMAGE) | set(TS_FORMATS)
    assert {"extra", "truncated", "nul", "huge_steps", "frac_steps", "inf_hr", "bad_ts"} <= kinds
    assert {"z", "colon", "nocolon", "hours", "naive"} <= kinds
    spec = {"rows": [("RID\x00AAA", 1, 1, "", "hours", "none", "inf")], "encoding": "cp949", "header": "ko",
            "gzip": True, "trailing_comma": True, "crlf": True, "repeated_header_at": 0, "blank_at": [0],
            "no_final_newline": True, "extras": {"empty", "header_only", "dup_mapping", "cut_gzip"}}
    text, truth = build(spec)
    assert "\x00" in text and text.count("참여자") == 2 and "\r\n\r\n" in text
    assert [t["reason"] for t in truth] == ["repeated_header", "nul_byte"]


@pytest.mark.parametrize("fmt", TS_FORMATS)
def test_each_timestamp_form_is_the_same_instant(tmp_path, fmt):
    f = tmp_path / "t.csv"
    f.write_text("participant_id,ts,steps,heart_rate\n" + f"RID001,{fmt_ts(61, fmt)},1,70\n")
    r = ingest.read_exports(f, key=KEY)
    assert r.minutes["ts"].tolist() == [START + pd.Timedelta(minutes=61)]
