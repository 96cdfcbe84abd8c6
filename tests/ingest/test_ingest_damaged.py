"""Ingest of damaged exports: encodings, cut-short files, odd lines, and where raw values may go.

Each case is one of the failures a damaged-export fuzzer found (issue 12): the expected outcome is a
reason code per row or a named file, never an unexplained exception and never a lost or invented row.
"""
from __future__ import annotations

import gzip
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import ingest, signals

KEY = "k" * 32
HEADER = "participant_id,ts,steps,heart_rate\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def read(path, **kw) -> ingest.IngestResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ingest.read_exports(path, key=KEY, **kw)


def test_cp949_detected_or_declared_and_errors_name_file_line_and_encodings(tmp_path):
    text = "참여자,시각,걸음수,심박수\n홍길동01,2023-03-06 09:00:00,10,70\n홍길동01,2023-03-06 09:01:00,11,\n"
    f = write(tmp_path / "korean.csv", text, "cp949")
    cols = {"참여자": "participant_id", "시각": "ts", "걸음수": "steps", "심박수": "heart_rate"}
    r = read(f, columns=cols)
    assert r.accounting.rows_kept == 2 and r.files.loc[0, "encoding"] == "cp949"
    assert read(f, columns=cols, encoding="euc-kr").accounting.rows_kept == 2
    # the same content in UTF-8 with a BOM
    g = write(tmp_path / "bom.csv", "\ufeff" + text)
    assert read(g, columns=cols).minutes["steps"].tolist() == [10, 11]
    # UTF-16 (a BOM says so)
    h = write(tmp_path / "u16.csv", text, "utf-16")
    assert read(h, columns=cols).accounting.rows_kept == 2
    # bytes that are neither UTF-8 nor CP949 on line 3: the error names file, line, encodings tried
    bad = tmp_path / "binary.csv"
    bad.write_bytes(HEADER.encode() + b"u1,2023-03-06 09:00:00,1,1\n\xff\xfe\xff\xfa\xc8,2023,1,1\n")
    with pytest.raises(ingest.EncodingError) as e:
        ingest.read_exports(bad, key=KEY, on_error="raise")
    assert e.value.line == 3 and e.value.tried == ["utf-8", "cp949"]
    assert "binary.csv: cannot decode line 3 with any of utf-8, cp949" in str(e.value)
    with pytest.raises(ingest.EncodingError, match="line 3 with any of ascii"):
        ingest.read_exports(bad, key=KEY, encoding="ascii", on_error="raise")


def test_cp949_after_a_long_ascii_head_is_retried_as_cp949(tmp_path):
    rows = "".join(f"u{i % 7},2023-03-06 {i // 60 % 24:02d}:{i % 60:02d}:00,{i % 50},70\n" for i in range(3000))
    text = HEADER + rows + "김철수,2023-03-07 09:00:00,5,70\n"
    f = write(tmp_path / "late_korean.csv", text, "cp949")  # head (64 KiB) is plain ASCII
    r = read(f)
    assert r.accounting.rows_in == 3001 == r.accounting.rows_kept
    assert r.files.loc[0, "encoding"] == "cp949"


def test_truncated_extra_repeated_nul_and_trailing_commas(tmp_path):
    f = write(tmp_path / "damaged.csv", HEADER
              + "u1,2023-03-06 09:00:00,1,70\n"
              + "u1,2023-03-06 09:01:00,2,71,99\n"          # extra field
              + HEADER                                       # header repeated (concatenated files)
              + "RID\x00AAA,2023-03-06 09:03:00,3,72\n"      # NUL inside an id
              + "RID\x00BBB,2023-03-06 09:04:00,3,72\n"
              + "\n"                                         # a blank line is not a record
              + "u1,2023-03-06 09:05:00,5,73\n"
              + "u1,2023-03-06 09:06:00,6")                  # cut mid-row: heart rate missing
    r = read(f)
    q = r.quarantine.set_index("line")
    assert q["reason"].to_dict() == {3: "extra_fields", 4: "repeated_header", 5: "nul_byte", 6: "nul_byte",
                                     9: "truncated_line"}
    assert q.loc[5, "participant_id"] != q.loc[6, "participant_id"]  # NUL does not merge two ids
    assert r.minutes["steps"].tolist() == [1, 5]
    assert r.accounting.rows_in == 7 and r.accounting.check()
    # a trailing comma on every row (and on the header) does not shift columns
    g = write(tmp_path / "trailing.csv", "participant_id,ts,steps,heart_rate,\n"
              + "".join(f"u1,2023-03-06 09:0{i}:00,{i},70,\n" for i in range(5)))
    rg = read(g)
    assert rg.accounting.rows_kept == 5 and rg.minutes["steps"].tolist() == list(range(5))
    h = write(tmp_path / "trailing_rows_only.csv", HEADER + "".join(f"u1,2023-03-06 09:0{i}:00,{i},70,\n" for i in range(5))
              + "u1,2023-03-06 09:09:00,9,70,oops\n")
    rh = read(h)
    assert rh.accounting.rows_kept == 5 and rh.accounting.by_reason == {"extra_fields": 1}


def test_huge_infinite_and_fractional_values_are_quarantined_per_row(tmp_path):
    f = write(tmp_path / "values.csv", HEADER
              + "u1,2023-03-06 09:00:00,2147483648,70\n"
              + "u1,2023-03-06 09:01:00,1e12,70\n"
              + "u1,2023-03-06 09:02:00,inf,70\n"
              + "u1,2023-03-06 09:03:00,2.5,70\n"
              + "u1,2023-03-06 09:04:00,7,inf\n"
              + "u1,2023-03-06 09:05:00,2147483647,1e39\n"
              + "u1,2023-03-06 09:06:00,-3,60\n"
              + "u1,2023-03-06T09:07:00+09,4,60\n"
              + "u1,2023-03-06 09:08:00,4,60\n")
    r = read(f)
    assert r.quarantine.set_index("line")["reason"].to_dict() == {
        2: "steps_out_of_range", 3: "steps_out_of_range", 4: "steps_out_of_range", 5: "non_integer_steps",
        6: "heart_rate_out_of_range", 7: "heart_rate_out_of_range"}
    assert r.minutes["steps"].tolist() == [-3, 4, 4]  # negatives are signals' business (plausibility)
    # "+09" mixed with plain timestamps
    assert (r.minutes["ts"].dt.minute.tolist()) == [6, 7, 8]


def test_empty_header_only_and_cut_short_gzip_in_a_folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    write(d / "a_empty.csv", "")
    write(d / "b_header_only.csv", HEADER)
    data = gzip.compress((HEADER + "u1,2023-03-06 09:00:00,1,70\n" * 20000).encode())
    (d / "c_cut.csv.gz").write_bytes(data[: len(data) // 2])
    (d / "d_not_gzip.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage-that-is-not-deflate")
    write(d / "e_good.csv", HEADER + "u1,2023-03-06 09:00:00,1,70\n")
    (d / "f_broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.warns(UserWarning) as w:
        r = ingest.read_exports(d, key=KEY)
    assert r.accounting.rows_kept == 1
    files = r.files.set_index(r.files["file"].map(lambda s: Path(s).name))["status"].to_dict()
    assert files == {"a_empty.csv": "empty_file", "b_header_only.csv": "header_only", "c_cut.csv.gz": "truncated_gzip",
                     "d_not_gzip.csv.gz": "corrupt_gzip", "e_good.csv": "ok", "f_broken.parquet": "unreadable"}
    msgs = " ".join(str(x.message) for x in w)
    for name in ("a_empty.csv", "c_cut.csv.gz", "d_not_gzip.csv.gz", "f_broken.parquet"):
        assert name in msgs
    # raise mode: the first bad file stops the call, named
    with pytest.raises(ingest.ExportFileError, match="a_empty.csv: file is empty"):
        ingest.read_exports(d, key=KEY, on_error="raise")
    with pytest.raises(ingest.ExportFileError, match="c_cut.csv.gz: gzip stream is cut short"):
        ingest.read_exports(d / "c_cut.csv.gz", key=KEY, on_error="raise")


def test_duplicate_column_mappings_are_schema_errors(tmp_path):
    f = write(tmp_path / "dup.csv", "Id,pid,ts,steps\nu1,u1,2023-03-06 09:00:00,1\n")
    with pytest.raises(ingest.SchemaError, match=r"dup.csv, column 'participant_id': expected one source column"):
        ingest.read_exports(f, key=KEY, columns={"Id": "participant_id", "pid": "participant_id"}, on_error="raise")
    g = write(tmp_path / "dup2.csv", "participant_id,Id,ts,steps\nu1,u1,2023-03-06 09:00:00,1\n")
    with pytest.raises(ingest.SchemaError, match="two \\('participant_id' and 'Id'\\)"):
        ingest.read_exports(g, key=KEY, columns={"Id": "participant_id"}, on_error="raise")
    h = write(tmp_path / "dup3.csv", "participant_id,ts,steps,steps\nu1,2023-03-06 09:00:00,1,2\n")
    with pytest.raises(ingest.SchemaError, match="a repeated name"):
        ingest.read_exports(h, key=KEY, on_error="raise")


def test_swapped_columns_and_raise_mode_never_show_raw_ids(tmp_path):
    raw_ids = ["RID-7731-KIM", "RID-9902-PARK"]
    body = "".join(f"2023-03-06 09:0{i}:00,{raw_ids[i % 2]},{i},70\n" for i in range(6))  # id and ts swapped
    f = write(tmp_path / "swapped.csv", HEADER + body)
    store = tmp_path / "input_side" / "quarantine_store"
    out = tmp_path / "outputs" / "band" / "run-1"
    r = read(f, quarantine_dir=out / "quarantine", quarantine_store=store)
    assert r.accounting.rows_quarantined == 6 and set(r.quarantine["reason"]) == {"unparseable_ts"}
    with pytest.raises(ingest.SchemaError) as e:
        ingest.read_exports(f, key=KEY, on_error="raise")
    msg = str(e.value)
    assert "swapped.csv, row 1, column 'ts'" in msg and "aaa-9999-aaa" in msg
    # the raw values are in the private store, and only there
    assert stat.S_IMODE(store.stat().st_mode) == 0o700 and r.store_paths
    for p in r.store_paths:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    stored = pd.concat([pd.read_parquet(p) for p in r.store_paths])
    assert stored["raw"].str.contains("RID-7731-KIM").any()
    scanned = [msg, r.quarantine.to_csv(), r.files.to_csv(), r.summary().to_csv()]
    scanned += [p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file()]
    for text in scanned:
        for rid in raw_ids:
            assert rid not in text
    # a raw-value store inside an outputs tree is refused
    with pytest.raises(ValueError, match="inside the outputs tree"):
        read(f, quarantine_store=out / "raw")


def test_iter_exports_and_store_account_for_every_row(tmp_path):
    rng = np.random.default_rng(3)
    lines = [f"p{rng.integers(40)},2023-03-0{6 + i // 1440} {i // 60 % 24:02d}:{i % 60:02d}:00,{rng.integers(0, 30)},70"
             for i in range(3000)]
    lines[100] = "p1,bad,1,1"
    lines[2500] = "p2,2023-03-07 10:00:00,2.5,1"
    f = write(tmp_path / "many.csv", HEADER + "\n".join(lines) + "\n")
    whole = read(f)
    batches = list(ingest.iter_exports(f, key=KEY, batch_rows=700))
    acc = ingest.RowAccounting()
    for b in batches:
        acc.merge(b.accounting)
        assert len(b.minutes) <= 700
    assert acc.check().rows_in == 3000 == whole.accounting.rows_in and acc.by_reason == whole.accounting.by_reason
    streamed = pd.concat([b.minutes.astype({"participant_id": str, "source": str}) for b in batches if len(b.minutes)],
                         ignore_index=True)
    pd.testing.assert_frame_equal(streamed, whole.minutes.astype({"participant_id": str, "source": str}))
    q = pd.concat([b.quarantine for b in batches])
    assert sorted(q["line"].tolist()) == [102, 2502] == sorted(whole.quarantine["line"].tolist())
    root = tmp_path / "store"
    acc2 = ingest.ingest_to_store(f, root, n_buckets=4, key=KEY, batch_rows=1000, quarantine_dir=tmp_path / "qr")
    assert acc2.rows_kept == whole.accounting.rows_kept
    back = pd.concat(pd.read_parquet(p) for p in root.rglob("*.parquet"))
    assert len(back) == acc2.rows_kept and int(back["steps"].sum()) == int(whole.minutes["steps"].sum())
    assert signals.partitions(root) and len(pd.read_parquet(tmp_path / "qr" / "quarantine.parquet")) == 2


def test_vendor_files_are_dispatched_and_accounted(tmp_path, monkeypatch):
    """Dispatch contract with ``ingest.vendors`` (written in parallel): a stand-in module here."""
    import sys
    import types

    calls = []

    class VendorFileError(ValueError):
        pass

    def detect_format(path):
        return "fitbit_json" if str(path).endswith(".json") else None

    def read_vendor(path, fmt, *, participant_id=None, source_tz="Asia/Seoul"):
        calls.append((Path(path).name, fmt, participant_id, source_tz))
        if "broken" in str(path):
            raise VendorFileError(f"{path}, record 3: not a Fitbit export")
        ts = pd.date_range("2023-03-06 09:00", periods=3, freq="min", tz="Asia/Seoul")
        frame = pd.DataFrame({"participant_id": participant_id, "ts": ts, "steps": [1.0, 2.4, np.inf],
                              "heart_rate": [60.0, np.nan, 61.0], "source": "fitbit"})
        return types.SimpleNamespace(frame=frame, records_in=5, records_used=3, dropped={"overlap_lower_priority": 2})

    fake = types.SimpleNamespace(detect_format=detect_format, read_vendor=read_vendor, SUFFIXES=(".json",))
    monkeypatch.setitem(sys.modules, "evaluation.ingest.vendors", fake)
    monkeypatch.setattr(ingest, "vendors", fake, raising=False)
    d = tmp_path / "in"
    d.mkdir()
    write(d / "band.csv", HEADER + "u1,2023-03-06 09:00:00,5,70\n")
    write(d / "steps-2023-03-06.json", "[]")
    write(d / "zz_broken.json", "[]")
    with pytest.warns(UserWarning, match="zz_broken.json"):
        r = ingest.read_exports(d, key=KEY, participant_id="RID-OWN-42")
    assert calls[0] == ("steps-2023-03-06.json", "fitbit_json", "RID-OWN-42", "Asia/Seoul")
    m = r.minutes
    assert m["source"].astype(str).tolist() == ["band_csv", "fitbit", "fitbit"]
    assert m["steps"].tolist() == [5, 1, 2]  # vendor shares rounded to whole steps; inf quarantined
    assert "RID-OWN-42" not in set(m["participant_id"].astype(str))
    vf = str(d / "steps-2023-03-06.json")
    assert r.accounting.vendor_records[vf] == {"records_in": 5, "records_used": 3, "overlap_lower_priority": 2}
    assert r.accounting.by_file[vf] == {"rows_in": 3, "rows_kept": 2, "rows_quarantined": 1}
    assert r.accounting.files_failed == {str(d / "zz_broken.json"): "vendor_error"}
    assert r.files.set_index("file").loc[vf, "format"] == "fitbit_json"


def test_read_each_shares_one_reader_and_equals_read_exports_file_by_file(tmp_path):
    """A batch read through one DuckDB connection (as the build does) gives, file by file, exactly what
    separate ``read_exports`` calls give -- damaged files first, so a file's rejects table cannot leave
    the shared connection busy for the next (DuckDB 2 refused the next query until it was fetched)."""
    rng = np.random.default_rng(3)
    files = []
    for k in range(4):
        lines = [f"p{(i + k) % 3},2023-03-06 {i // 60:02d}:{i % 60:02d}:00,{rng.integers(0, 90)},{rng.integers(50, 120)}"
                 for i in range(240)]
        rng.shuffle(lines)
        if k % 2 == 0:  # damaged: an unparseable time, text in steps, a cut-short line, a blank line
            lines[5] = "p1,2023-13-45 25:61:00,3,70"
            lines[50] = "p2,2023-03-06 01:00:00,many,70"
            lines[100] = "p0,2023-03-06 02:00:00"
            lines.insert(150, "")
        files.append(write(tmp_path / f"f{k}.csv", HEADER + "\n".join(lines) + "\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = dict(ingest.read_each(files, key=KEY))
    assert list(got) == [str(f) for f in files]
    for f in files:
        want = read(f)
        res = got[str(f)]
        pd.testing.assert_frame_equal(res.minutes, want.minutes)
        pd.testing.assert_frame_equal(res.quarantine, want.quarantine)
        assert res.accounting.by_file == want.accounting.by_file and res.accounting.by_reason == want.accounting.by_reason
    assert sum(r.accounting.rows_quarantined for r in got.values()) == 6
