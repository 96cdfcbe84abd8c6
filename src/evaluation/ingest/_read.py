"""Read band exports (CSV / Parquet) and own-device exports into the minutes contract, with a
quarantine and row accounting.

The path per file: ``_sniff`` (encoding, header, delimiter) -> DuckDB's CSV reader with typed
columns and a rejects table (``_csv``) or pyarrow's Parquet reader -> :func:`_validate`, which
checks the typed columns with numpy / pyarrow compute and pseudonymises once per distinct id.
No Python code runs per row on this path. Vendor formats go through ``ingest.vendors``.

Validation is plain numpy/pyarrow rather than pandera: the checks are a handful of column rules,
and the messages must name file, row and column without quoting a raw value.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._errors import EncodingError, ExportFileError, IngestError, SchemaError, shape
from ._pseudonym import load_key, pseudonymise
from ._quarantine import QuarantineStore, open_store, under_outputs
from ._sniff import CsvLayout, count_lines, line_index, sniff_csv, transcode

TZ = "Asia/Seoul"
CONTRACT = ("participant_id", "ts", "steps", "heart_rate")
OPTIONAL = ("heart_rate",)
REASONS = {
    "nul_byte": "line holds a NUL byte (a damaged write; ids would be cut at it)",
    "repeated_header": "the header line repeated inside the file",
    "invalid_encoding": "line does not decode in the file's encoding",
    "truncated_line": "line has fewer fields than the header (a write cut mid-row)",
    "extra_fields": "line has more fields than the header",
    "bad_quoting": "a quoted field is not closed properly",
    "line_too_long": "line longer than the reader's maximum",
    "unreadable_line": "the CSV reader could not read the line",
    "missing_participant": "participant id is empty",
    "unparseable_ts": "timestamp cannot be parsed (or does not exist in the source time zone)",
    "unparseable_steps": "steps is not a number",
    "non_integer_steps": "steps is not a whole number",
    "steps_out_of_range": "steps is infinite or outside the 32-bit range (|steps| >= 2^31)",
    "unparseable_heart_rate": "heart rate is not a number",
    "heart_rate_out_of_range": "heart rate is infinite or too large for float32",
    "unknown_participant": "participant is not in the enrolment list",
    "out_of_period": "local date outside the requested period",
    "after_export_date": "dated more than a day after the export was made (or after the time of reading): a wrong device clock",
}
"""Quarantine reason codes and their meaning (first matching code wins, in this order)."""
REASON_LIST = tuple(REASONS)
REASON_CODE = {r: i for i, r in enumerate(REASON_LIST)}
EXPECTED = {
    "nul_byte": "text without NUL bytes",
    "repeated_header": "a data row, not a header",
    "invalid_encoding": "text in the file's encoding",
    "truncated_line": "as many fields as the header",
    "extra_fields": "as many fields as the header",
    "bad_quoting": "properly quoted fields",
    "line_too_long": "a line shorter than the reader's maximum",
    "unreadable_line": "a readable CSV line",
    "missing_participant": "a participant id",
    "unparseable_ts": "an ISO date-time (naive local, UTC 'Z' or with an offset) that exists in the source zone",
    "unparseable_steps": "an integer step count",
    "non_integer_steps": "an integer step count",
    "steps_out_of_range": "an integer step count below 2^31",
    "unparseable_heart_rate": "a heart rate in bpm or an empty cell",
    "heart_rate_out_of_range": "a finite heart rate in bpm",
    "unknown_participant": "an enrolled participant",
    "out_of_period": "a local date inside the period",
    "after_export_date": "a time before the export was made",
}
_COLUMN_OF = {
    "nul_byte": "participant_id", "extra_fields": "(extra field)", "missing_participant": "participant_id",
    "unparseable_ts": "ts", "non_integer_steps": "steps", "steps_out_of_range": "steps", "unparseable_steps": "steps",
    "unparseable_heart_rate": "heart_rate", "heart_rate_out_of_range": "heart_rate",
    "unknown_participant": "participant_id", "out_of_period": "ts",
    "after_export_date": "ts",
}
FILE_REASONS = {
    "empty_file": "file is empty or holds only blank lines",
    "header_only": "file holds a header and no rows (not an error)",
    "undecodable": "no encoding tried decodes the file",
    "truncated_gzip": "gzip stream cut short or damaged",
    "corrupt_gzip": "not a valid gzip stream",
    "schema": "columns missing, duplicated or not mappable",
    "unreadable": "the reader could not read the file",
    "vendor_error": "a vendor reader refused the file",
    "unsupported_format": "a format the workbench does not read (another vendor's export, a database, a clinical document ...)",
    "no_usable_records": "a vendor reader read records but used none of them (reasons in the detail; a warning is given)",
}
"""File-level outcomes (``RowAccounting.files_failed`` / ``IngestResult.files``)."""
CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
_NAT = np.iinfo(np.int64).min
_NS_DAY = 86_400_000_000_000
_SEOUL_NS = 9 * 3_600_000_000_000
_SEOUL_FIXED_FROM = pd.Timestamp("1988-10-10", tz="UTC").value  # no DST in Seoul after this
_QCOLS = ["file", "row", "line", "column", "reason", "participant_id"]


@dataclass
class RowAccounting:
    """Rows read, kept and quarantined (by reason and by file); ``rows_in == rows_kept + rows_quarantined``.

    ``files_failed`` maps files that could not be read to a code of :data:`FILE_REASONS` (their rows
    are not in ``rows_in``); ``file_meta`` holds each file's format, encoding and status;
    ``vendor_records`` the record-level accounting of vendor readers (records in, used, dropped by reason).
    """

    rows_in: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    by_file: dict[str, dict[str, int]] = field(default_factory=dict)
    files_failed: dict[str, str] = field(default_factory=dict)
    file_meta: dict[str, dict[str, str]] = field(default_factory=dict)
    vendor_records: dict[str, dict[str, int]] = field(default_factory=dict)

    def check(self) -> "RowAccounting":
        assert self.rows_in == self.rows_kept + self.rows_quarantined, (
            f"row accounting broken: {self.rows_in} in != {self.rows_kept} kept + {self.rows_quarantined} quarantined"
        )
        assert sum(self.by_reason.values()) == self.rows_quarantined
        for f, c in self.by_file.items():
            assert c["rows_in"] == c["rows_kept"] + c["rows_quarantined"], f"row accounting broken for {f}"
        return self

    def add(self, file: str, rows_in: int, reasons: pd.Series | np.ndarray) -> None:
        """Count ``rows_in`` rows of ``file`` of which ``reasons`` (codes, one per quarantined row) were quarantined."""
        counts = pd.Series(np.asarray(reasons, dtype=object)).value_counts().to_dict() if len(reasons) else {}
        q = int(sum(counts.values()))
        self.rows_in += rows_in
        self.rows_quarantined += q
        self.rows_kept += rows_in - q
        for k, v in counts.items():
            self.by_reason[k] = self.by_reason.get(k, 0) + int(v)
        c = self.by_file.setdefault(file, {"rows_in": 0, "rows_kept": 0, "rows_quarantined": 0})
        c["rows_in"] += rows_in
        c["rows_kept"] += rows_in - q
        c["rows_quarantined"] += q

    def merge(self, other: "RowAccounting") -> "RowAccounting":
        """Add another accounting (e.g. of a later batch) into this one."""
        self.rows_in += other.rows_in
        self.rows_kept += other.rows_kept
        self.rows_quarantined += other.rows_quarantined
        for k, v in other.by_reason.items():
            self.by_reason[k] = self.by_reason.get(k, 0) + v
        for f, c in other.by_file.items():
            mine = self.by_file.setdefault(f, {"rows_in": 0, "rows_kept": 0, "rows_quarantined": 0})
            for k in mine:
                mine[k] += c[k]
        self.files_failed.update(other.files_failed)
        for f, m in other.file_meta.items():
            self.file_meta.setdefault(f, {}).update(m)
        self.vendor_records.update(other.vendor_records)
        return self

    def summary(self) -> pd.DataFrame:
        """Tidy table: one row per reason (plus ``kept``), with counts and shares of rows in."""
        rows = [("kept", self.rows_kept)] + sorted(self.by_reason.items())
        df = pd.DataFrame(rows, columns=["outcome", "rows"])
        df["share"] = df["rows"] / self.rows_in if self.rows_in else np.nan
        return df

    def files(self) -> pd.DataFrame:
        """One row per file: format, encoding, status (``ok``, ``header_only`` or a failure code), rows."""
        names = list(dict.fromkeys([*self.file_meta, *self.by_file, *self.files_failed]))
        rows = []
        for f in names:
            m = self.file_meta.get(f, {})
            c = self.by_file.get(f, {"rows_in": 0, "rows_kept": 0, "rows_quarantined": 0})
            rows.append({"file": f, "format": m.get("format", ""), "encoding": m.get("encoding", ""),
                         "status": self.files_failed.get(f, m.get("status", "ok")), **c, "detail": m.get("detail", "")})
        return pd.DataFrame(rows, columns=["file", "format", "encoding", "status", "rows_in", "rows_kept",
                                           "rows_quarantined", "detail"])

    @property
    def diagnostics(self) -> pd.DataFrame:
        return self.files()


@dataclass
class IngestResult:
    """``minutes`` (the contract), ``quarantine`` (rejected rows: file, row, line, column, reason,
    pseudonymised id -- never raw values), ``accounting``; ``quarantine_path`` is the report written
    to ``quarantine_dir``, ``store_paths`` the raw-value files written to the quarantine store."""

    minutes: pd.DataFrame
    quarantine: pd.DataFrame
    accounting: RowAccounting
    quarantine_path: Path | None = None
    store_paths: list[Path] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        return self.accounting.summary()

    @property
    def files(self) -> pd.DataFrame:
        return self.accounting.files()

    @property
    def diagnostics(self) -> pd.DataFrame:
        return self.accounting.files()


class _Ids:
    """Raw id -> pseudonym, hashed once per distinct id for the whole call; enrolment membership."""

    def __init__(self, key: bytes | None, known: set[str] | None):
        self.key, self.known, self.cache = key, known, {}

    def map(self, uniques: list) -> tuple[np.ndarray, np.ndarray]:
        if self.key is None:
            pseudo = np.array([None if u is None else str(u) for u in uniques], dtype=object)
        else:
            new = [u for u in uniques if u is not None and u not in self.cache]
            if new:
                self.cache.update(zip(new, pseudonymise(pd.Series(new, dtype=object), self.key)))
            pseudo = np.array([None if u is None else self.cache[u] for u in uniques], dtype=object)
        if self.known is None:
            known = np.ones(len(uniques), dtype=bool)
        else:
            known = pd.Index(pseudo).isin(self.known) if len(pseudo) else np.zeros(0, dtype=bool)
        return pseudo, np.asarray(known, dtype=bool)


@dataclass
class _Ctx:
    mapping: dict[str, str]
    source_tz: str
    ids: _Ids
    period: tuple[int, int] | None
    raise_mode: bool
    encoding: str | None
    fmt: str | None
    batch_rows: int | None
    store: QuarantineStore | None
    participant_id: str | None
    con: duckdb.DuckDBPyConnection


@dataclass
class _Part:
    minutes: pd.DataFrame | None
    quarantine: pd.DataFrame
    accounting: RowAccounting
    raw: pa.Table | None = None


# -- validation of typed columns -----------------------------------------------------------------

def _to_ns(ts) -> np.ndarray:
    """int64 UTC nanoseconds (``_NAT`` where missing) from an arrow timestamp column."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    if pa.types.is_timestamp(ts.type) and ts.type.tz is not None:
        ts = pc.cast(ts, pa.timestamp(ts.type.unit))  # drop the zone: values are UTC instants
    v = ts.to_numpy(zero_copy_only=False)
    return v.astype("datetime64[ns]").view(np.int64)


def _floats(a, dtype=np.float64) -> np.ndarray:
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks() if a.num_chunks != 1 else a.chunk(0)
    return np.asarray(a.to_numpy(zero_copy_only=False), dtype=dtype)


_OK = np.int16(127)


def _row_codes(ts_ns: np.ndarray, steps: np.ndarray, hr: np.ndarray, slack: np.ndarray | None,
               pre: list[tuple[str, np.ndarray]], period: tuple[int, int] | None) -> np.ndarray:
    """Per row: the first failing value check's code, 127 when all pass (numpy path, for Parquet and
    vendor frames; the CSV path gets the same codes from DuckDB, see ``_csv``)."""
    code = np.full(len(ts_ns), _OK, dtype=np.int16)
    ts_missing = ts_ns == _NAT
    with np.errstate(invalid="ignore"):
        fin = np.isfinite(steps)
        checks = [("unparseable_ts", ts_missing),
                  ("non_integer_steps", fin & (steps != np.floor(steps))),
                  ("steps_out_of_range", np.isinf(steps) | (fin & (np.abs(steps) >= 2.0 ** 31))),
                  ("heart_rate_out_of_range", np.isinf(hr) | (np.abs(hr) > 3.4e38))]
    if slack is not None:
        checks.append(("extra_fields", slack))
    if period is not None:
        day = (ts_ns + _SEOUL_NS) // _NS_DAY
        if (~ts_missing).any() and ts_ns[~ts_missing].min() < _SEOUL_FIXED_FROM:
            local = pd.DatetimeIndex(np.where(ts_missing, 0, ts_ns).view("M8[ns]")).tz_localize("UTC").tz_convert(TZ)
            day = local.tz_localize(None).asi8 // _NS_DAY
        checks.append(("out_of_period", ~ts_missing & ((day < period[0]) | (day > period[1]))))
    for name, m in [*pre, *checks]:
        np.minimum(code, np.where(m, np.int16(REASON_CODE[name]), _OK), out=code)
    return code


def _ts_series(ns: np.ndarray) -> pd.arrays.DatetimeArray:
    """UTC nanoseconds -> a tz-aware Asia/Seoul array without copying (a view; pandas' public
    constructors copy 40 MB per 5M rows and then copy again to set the zone)."""
    try:
        return pd.arrays.DatetimeArray._simple_new(ns.view("M8[ns]"), dtype=pd.DatetimeTZDtype("ns", TZ))
    except (AttributeError, TypeError):  # pragma: no cover - pandas internals moved
        return pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").tz_convert(TZ).array


def _validate(file: str, ctx: _Ctx, ids, ts_ns: np.ndarray, steps: np.ndarray, hr: np.ndarray,
              row_code: np.ndarray | None, pre: list[tuple[str, np.ndarray]], source, ordinal0: int,
              slack: np.ndarray | None = None):
    """Check typed columns (ts: int64 UTC ns with ``_NAT``; steps, hr: float64 with NaN = empty).

    ``row_code`` holds the value checks already made by DuckDB (127 = ok); without it they are
    made here. Ids are checked and pseudonymised per distinct id. Returns (minutes, quarantine rows
    with ``ordinal``, raw table or None, (ordinal, shape) of the first bad row in raise mode).
    """
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks() if ids.num_chunks != 1 else ids.chunk(0)
    if not pa.types.is_string(ids.type) and not pa.types.is_large_string(ids.type):
        ids = pc.cast(ids, pa.string())
    enc = pc.dictionary_encode(ids)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    dictionary = enc.dictionary
    pseudo, known = ctx.ids.map(dictionary.to_pylist())
    nd = len(pseudo)
    # per distinct id: the first failing id check (nul > missing > unknown, as in REASONS), 127 = ok
    d_code = np.full(nd + 1, _OK, dtype=np.int16)  # last slot: a null id
    if nd:
        d_nul = np.asarray(pc.match_substring(dictionary, "\x00").to_numpy(zero_copy_only=False), dtype=bool)
        d_blank = np.asarray(pc.equal(pc.utf8_trim_whitespace(dictionary), "").to_numpy(zero_copy_only=False), dtype=bool)
        d_code[:nd][~known] = REASON_CODE["unknown_participant"]
        d_code[:nd][d_blank] = REASON_CODE["missing_participant"]
        d_code[:nd][d_nul] = REASON_CODE["nul_byte"]
    d_code[nd] = REASON_CODE["missing_participant"]
    if row_code is None:
        row_code = _row_codes(ts_ns, steps, hr, slack, pre, ctx.period)
    if (d_code[:nd] == _OK).all() and (codes >= 0).all():
        reason_all = row_code
    else:
        reason_all = np.minimum(row_code, d_code[np.where(codes < 0, nd, codes)])
    bad = reason_all < _OK
    bi = np.flatnonzero(bad)
    reason = reason_all[bi].astype(np.int64)
    cats = pd.Index(pseudo, dtype=object)
    if len(bi):
        keep = ~bad
        kc, kts, ks, kh = codes[keep], ts_ns[keep], steps[keep], hr[keep]
    else:
        keep = None
        kc, kts, ks, kh = codes, ts_ns, steps, hr
    k = len(kc)
    nan = np.isnan(ks)
    with np.errstate(invalid="ignore"):
        ks32 = ks.astype(np.int32)
    steps_out = ks32 if not nan.any() else pd.arrays.IntegerArray(np.where(nan, 0, ks32).astype(np.int32), nan)
    if isinstance(source, str):
        src = pd.Categorical.from_codes(np.zeros(k, dtype=np.int8), categories=[source])
    else:
        src = pd.Categorical(np.asarray(source, dtype=object) if keep is None else np.asarray(source, dtype=object)[keep])
    minutes = pd.DataFrame({
        "participant_id": pd.Categorical.from_codes(kc, categories=cats),
        "ts": _ts_series(kts),
        "steps": steps_out,
        "heart_rate": kh.astype(np.float32),
        "source": src,
    }, copy=False)
    rnames = np.array(REASON_LIST, dtype=object)[reason]
    bcodes = codes[bi]
    q = pd.DataFrame({
        "file": file, "ordinal": bi + ordinal0,
        "column": [_COLUMN_OF.get(r, "participant_id") for r in rnames] if len(bi) else [],
        "reason": rnames,
        "participant_id": np.where(bcodes >= 0, pseudo[np.maximum(bcodes, 0)] if nd else None, None),
    })
    raw = None
    if ctx.store is not None and len(bi):
        sub = pa.table({"i": ids.take(pa.array(bi)),
                        "t": pa.array(ts_ns[bi].view("M8[ns]"), mask=ts_ns[bi] == _NAT),
                        "s": pa.array(steps[bi]), "h": pa.array(hr[bi])})
        text = pc.binary_join_element_wise(*[pc.cast(sub[c], pa.string()) for c in sub.column_names], ",",
                                           null_handling="replace", null_replacement="")
        raw = pa.table({"file": pa.array([file] * len(bi)), "ordinal": pa.array(bi + ordinal0),
                        "reason": pa.array(list(rnames)), "participant_id": pa.array(list(q["participant_id"])),
                        "raw": text})
    first = None
    if ctx.raise_mode and len(bi):
        i, r = int(bi[0]), rnames[0]
        col = _COLUMN_OF.get(r, "participant_id")
        val = {"participant_id": ids[i].as_py(), "ts": None, "steps": steps[i], "heart_rate": hr[i]}.get(col)
        first = (int(i + ordinal0), shape(val))
    return minutes, q, raw, first


# -- CSV -------------------------------------------------------------------------------------------

def _positions(file: str, names: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """Column index of each contract column; :class:`SchemaError` for missing or doubled columns.

    Messages list only names the caller expects (contract names and mapping keys): a headerless
    file's first line is data and may hold a raw id.
    """
    targets = list(mapping.values())
    for t in set(targets):
        src = [k for k, v in mapping.items() if v == t]
        if len(src) > 1 and sum(s in names for s in src) > 1:
            raise SchemaError(file, None, t, f"one source column for {t!r}",
                              f"several mapped to it ({', '.join(repr(s) for s in src)})")
    renamed = [mapping.get(n, n) for n in names]
    known = set(CONTRACT) | set(mapping)
    pos: dict[str, int] = {}
    for i, n in enumerate(renamed):
        if n in CONTRACT:
            if n in pos:
                a, b = names[pos[n]], names[i]
                raise SchemaError(file, None, n, f"one column {n!r}",
                                  f"two ({a!r} and {b!r}" + (")" if a != b else ", a repeated name)"))
            pos[n] = i
    for col in CONTRACT:
        if col not in pos and col not in OPTIONAL:
            src = [k for k, v in mapping.items() if v == col]
            shown = [n for n in names if n in known]
            found = f"columns {shown}" if shown else f"{len(names)} column(s), none with an expected name (is the first line a header?)"
            raise SchemaError(file, None, src[0] if src else col,
                              f"a column {col!r}" + (f" (mapped from {src[0]!r})" if src else ""), found)
    return pos


def _iter_csv(path: Path, ctx: _Ctx) -> Iterator[_Part]:
    file = str(path)
    layout = sniff_csv(path, ctx.encoding)
    try:
        positions = _positions(file, layout.names, ctx.mapping)
        yield from _scan_csv(path, ctx, layout, positions, retry=ctx.encoding is None)
    finally:
        layout.cleanup()


def _scan_csv(path: Path, ctx: _Ctx, layout: CsvLayout, positions: dict[str, int], retry: bool) -> Iterator[_Part]:
    """Parts of one CSV: a part per batch with the kept rows (streamed at once when batching), then
    one part with every quarantined row of the file (rows quarantined after parsing get their line
    numbers only once the reader's rejects are known)."""
    from ._csv import CsvScan

    file = str(path)
    scan = CsvScan(ctx.con, layout, positions, ctx.period)
    held: list[_Part] = []  # kept rows not yet yielded (whole-file mode: until a CP949 retry is ruled out)
    post_q: list[pd.DataFrame] = []
    post_raw: list[pa.Table] = []
    streamed = False
    ordinal = 0
    first_post = None
    try:
        for b in scan.batches(ctx.batch_rows):
            minutes, q, raw, first = _validate(
                file, ctx, b.column("participant_id"), _floats(b.column("ts_ns"), np.int64),
                _floats(b.column("steps")), _floats(b.column("heart_rate")), _floats(b.column("r"), np.int16),
                [], "band_csv", ordinal)
            if first_post is None and first is not None:
                first_post = first
            ordinal += b.num_rows
            if len(q):
                post_q.append(q)
            if raw is not None:
                post_raw.append(raw)
            acct = RowAccounting()
            acct.add(file, len(minutes), np.empty(0, dtype=object))
            part = _Part(minutes, _empty_quarantine(), acct)
            if ctx.batch_rows is not None and not ctx.raise_mode:
                streamed = True
                yield part
            else:
                held.append(part)
        rej = scan.rejects()
    except BaseException:
        scan.close()
        raise
    if retry and not streamed and layout.encoding == "utf-8" and len(rej) and (
            pc.sum(pc.equal(rej["reason"], REASON_CODE["invalid_encoding"])).as_py() or 0):
        # a UTF-8-looking head but undecodable lines later: maybe CP949 throughout
        try:
            tmp = transcode(path, layout.compression == "gzip", "cp949")
        except (EncodingError, ExportFileError):
            tmp = None
        if tmp is not None:
            alt = CsvLayout(**{**layout.__dict__, "path": tmp, "compression": "none", "encoding": "cp949",
                               "temp": tmp, "notes": []})
            try:
                yield from _scan_csv(path, ctx, alt, positions, retry=False)
                return
            finally:
                alt.cleanup()
    # line numbers: DuckDB's are right unless the file has blank lines; then they come from byte offsets.
    # Rows quarantined after parsing are the data lines that are neither rejects nor blank, in order.
    lines_of = None
    rej_lines = rej["line"].to_numpy() if len(rej) else np.empty(0, dtype=np.int64)
    if post_q or len(rej):
        gz = layout.compression == "gzip"
        n_lines = count_lines(layout.path, gz)
        if n_lines - layout.header_line == ordinal + len(rej):
            blanks = np.empty(0, dtype=np.int64)  # every line after the header is a record
        else:
            n_lines, blanks, rej_lines = line_index(layout.path, gz, rej["lbp"].to_numpy() if len(rej) else None)
            # a cast error on the line after a blank line is placed on the blank line: move it on
            for _ in range(len(blanks)):
                on_blank = np.isin(rej_lines, blanks)
                if not on_blank.any():
                    break
                rej_lines = np.where(on_blank, rej_lines + 1, rej_lines)
        if post_q:
            cand = np.arange(layout.header_line + 1, n_lines + 1)
            cand = cand[~np.isin(cand, np.concatenate([blanks, rej_lines]))]
            if len(cand) == ordinal:
                lines_of = cand
    rq = _reject_quarantine(file, layout, rej, rej_lines, ctx)
    qs, raws = [], []
    for q in post_q:
        o = q.pop("ordinal").to_numpy()
        line = pd.array(lines_of[o] if lines_of is not None else [pd.NA] * len(o), dtype="Int64")
        q.insert(1, "line", line)
        q.insert(1, "row", line - layout.header_line)
        qs.append(q)
    for raw in post_raw:
        o = raw["ordinal"].to_numpy()
        line = lines_of[o].astype(np.float64) if lines_of is not None else np.full(len(o), np.nan)
        raws.append(raw.drop_columns(["ordinal"]).append_column("line", pa.array(line)))
    if ctx.store is not None and len(rej):
        raws.append(pa.table({"file": pa.array([file] * len(rej)), "reason": pa.array(list(rq["reason"])),
                              "participant_id": pa.array(list(rq["participant_id"]), type=pa.string()),
                              "raw": rej["csv_line"], "line": pa.array(rej_lines.astype(np.float64))}))
    if ctx.raise_mode:
        _raise_first(file, layout, positions, rq, rej, qs, first_post, lines_of)
    quarantine = pd.concat([*qs, rq], ignore_index=True) if qs else rq
    if len(quarantine) > 1:
        quarantine = quarantine.sort_values("line", kind="stable", na_position="last").reset_index(drop=True)
    acct = RowAccounting()
    acct.add(file, len(quarantine), quarantine["reason"].to_numpy())
    rows = ordinal + len(rej)
    acct.file_meta[file] = {"format": "band_csv", "encoding": layout.encoding,
                            "status": "ok" if rows else "header_only",
                            "detail": "" if rows else FILE_REASONS["header_only"]}
    for part in held:
        yield part
    raw_all = None
    if raws:
        raw_all = pa.concat_tables([r.cast(pa.schema([("file", pa.string()), ("reason", pa.string()),
                                                       ("participant_id", pa.string()), ("raw", pa.string()),
                                                       ("line", pa.float64())])) for r in raws])
    yield _Part(None, quarantine, acct, raw_all)


def _reject_quarantine(file: str, layout: CsvLayout, rej: pa.Table, rej_lines: np.ndarray, ctx: _Ctx) -> pd.DataFrame:
    if len(rej) == 0:
        return _empty_quarantine()
    ids = rej["id_field"].combine_chunks()
    enc = pc.dictionary_encode(ids)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    uniq = enc.dictionary.to_pylist()
    pseudo, _ = ctx.ids.map([u if u else None for u in uniq])
    pid = np.where(codes >= 0, pseudo[np.maximum(codes, 0)] if len(pseudo) else None, None)
    line = pd.array(rej_lines, dtype="Int64")
    return pd.DataFrame({
        "file": file, "row": line - layout.header_line, "line": line,
        "column": rej["column"].to_pylist(),
        "reason": np.array(REASON_LIST, dtype=object)[rej["reason"].to_numpy().astype(np.int64)],
        "participant_id": pid,
    })


def _raise_first(file, layout, positions, rq, rej, post_qs, first_post, lines_of) -> None:
    cands = []
    if len(rq):
        cands.append((int(rq["line"].iloc[0]), "reject"))
    if first_post is not None:
        o, val = first_post
        line = int(lines_of[o]) if lines_of is not None else None
        cands.append((line if line is not None else -1, "post"))
    if not cands:
        return
    line, kind = min(cands)
    if kind == "reject":
        r = rq.iloc[0]
        fields = (rej["csv_line"][0].as_py() or "").split(layout.delim)
        col = r["column"] if isinstance(r["column"], str) else None
        idx = positions.get(col) if col else None
        val = shape(fields[idx]) if idx is not None and idx < len(fields) else None
        column = col or "(line)"
        reason = r["reason"]
        found = f"a value shaped {val!r}" if val is not None else REASONS[reason]
    else:
        q = post_qs[0]
        r = q.iloc[0]
        column, reason = r["column"], r["reason"]
        found = f"a value shaped {first_post[1]!r}"
    row = None if line < 0 else line - layout.header_line
    raise SchemaError(file, row, column, EXPECTED[reason], found, reason=reason)


# -- Parquet ---------------------------------------------------------------------------------------

def _iter_parquet(path: Path, ctx: _Ctx) -> Iterator[_Part]:
    file = str(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises ArrowInvalid / OSError with buffer details: name the file only
        raise ExportFileError(file, "unreadable", f"not a readable Parquet file ({type(e).__name__}; 읽을 수 없는 파일)") from None
    names = pf.schema_arrow.names
    positions = _positions(file, names, ctx.mapping)
    cols = {c: names[p] for c, p in positions.items()}
    for c, n in cols.items():
        t = pf.schema_arrow.field(n).type
        if pa.types.is_nested(t):
            raise SchemaError(file, None, c, f"one value per row in {c!r}",
                              f"a nested ({'list' if pa.types.is_list(t) or pa.types.is_large_list(t) else 'struct/map'}) "
                              "column; the file is skipped", reason="schema")
    has_source = "source" in names and "source" not in ctx.mapping
    read = list(dict.fromkeys(list(cols.values()) + (["source"] if has_source else [])))
    ordinal = 0
    meta = RowAccounting()
    meta.file_meta[file] = {"format": "parquet", "encoding": "", "status": "ok", "detail": ""}
    first_hit = None
    try:
        batches = pf.iter_batches(batch_size=ctx.batch_rows or 1 << 30, columns=read)
        for b in batches:
            t = pa.Table.from_batches([b])
            pre: list[tuple[str, np.ndarray]] = []
            ts = t.column(cols["ts"])
            ts_ns = _parquet_ts(ts, ctx.source_tz, pre)
            steps = _parquet_num(t.column(cols["steps"]), "unparseable_steps", pre)
            hr = (_parquet_num(t.column(cols["heart_rate"]), "unparseable_heart_rate", pre) if "heart_rate" in cols
                  else np.full(t.num_rows, np.nan))
            source = t.column("source").to_numpy(zero_copy_only=False) if has_source else "band_parquet"
            minutes, q, raw, first = _validate(file, ctx, t.column(cols["participant_id"]), ts_ns, steps, hr, None,
                                               pre, source, ordinal)
            row = pd.array(q.pop("ordinal").to_numpy() + 1, dtype="Int64")
            q.insert(1, "line", pd.array([pd.NA] * len(q), dtype="Int64"))
            q.insert(1, "row", row)
            if raw is not None:
                raw = raw.drop_columns(["ordinal"]).append_column("line", pa.array(np.full(len(q), np.nan)))
            if ctx.raise_mode and len(q):
                r = q.iloc[0]
                raise SchemaError(file, int(r["row"]), r["column"], EXPECTED[r["reason"]],
                                  f"a value shaped {first[1]!r}", reason=r["reason"])
            ordinal += t.num_rows
            acct = RowAccounting()
            acct.add(file, t.num_rows, q["reason"].to_numpy())
            yield _Part(minutes, q, acct, raw)
    except IngestError:
        raise
    except (OSError, pa.ArrowException) as e:
        raise ExportFileError(file, "unreadable", f"Parquet file could not be read ({type(e).__name__}; 읽을 수 없는 파일)") from None
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime) as e:
        # a damaged file no rule above foresaw: named by file like every other (the message may hold values)
        raise ExportFileError(file, "unreadable", f"Parquet file could not be read ({type(e).__name__}; 읽을 수 없는 파일)") from None
    if ordinal == 0:
        meta.file_meta[file].update(status="header_only", detail="no rows")
    yield _Part(None, _empty_quarantine(), meta)


_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_MAX_NS = np.iinfo(np.int64).max - 1


def _timestamps_ns(col) -> np.ndarray:
    """int64 nanoseconds (``_NAT`` for nulls and for values outside pandas' range, years 1677-2262,
    e.g. a damaged ``0001-01-01``) from an Arrow timestamp or date column, without overflow."""
    t = col.type
    if pa.types.is_date32(t):
        raw, per = pc.cast(col, pa.int32()), 86_400 * 1_000_000_000
    elif pa.types.is_date64(t):
        raw, per = pc.cast(col, pa.int64()), 1_000_000
    else:
        raw, per = pc.cast(col, pa.int64()), _UNIT_NS[t.unit]
    v = np.asarray(raw.to_numpy(zero_copy_only=False), dtype=np.float64)  # nulls -> NaN
    ok = np.isfinite(v) & (np.abs(v) <= (_MAX_NS // per))
    out = np.full(len(v), _NAT, dtype=np.int64)
    out[ok] = np.asarray(raw.filter(pa.array(ok)).to_numpy(zero_copy_only=False), dtype=np.int64) * per if ok.any() else 0
    return out


def _parquet_ts(col, source_tz: str, pre: list) -> np.ndarray:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_timestamp(t) and t.tz is not None:
        return _timestamps_ns(col)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        ns = _timestamps_ns(col)
        s = pd.Series(np.where(ns == _NAT, np.iinfo(np.int64).min, ns).view("M8[ns]"))
        loc = s.dt.tz_localize(source_tz, ambiguous="NaT", nonexistent="NaT")
        return loc.array.asi8 if hasattr(loc.array, "asi8") else loc.astype("int64").to_numpy()
    # strings: the vectorised pandas parser (rare in Parquet, so not the fast path)
    s = pd.Series(col.to_pylist(), dtype="string").str.strip()
    out = _parse_ts_strings(s, source_tz)
    return out


def _parse_ts_strings(s: pd.Series, source_tz: str) -> np.ndarray:
    import re
    aware = s.str.contains(re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$"),
                           na=False).to_numpy(bool)
    out = np.full(len(s), _NAT, dtype=np.int64)
    if (~aware).any():
        naive = pd.to_datetime(s[~aware], errors="coerce", format="ISO8601")
        if isinstance(naive.dtype, pd.DatetimeTZDtype):
            naive = naive.dt.tz_localize(None)
        loc = naive.dt.tz_localize(source_tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
        out[~aware] = loc.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64)
    if aware.any():
        a = pd.to_datetime(s[aware], errors="coerce", utc=True, format="ISO8601")
        out[aware] = a.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64)
    return out


def _parquet_num(col, code: str, pre: list) -> np.ndarray:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_decimal(col.type):
        return _floats(pc.cast(col, pa.float64()))
    if pa.types.is_boolean(col.type):
        pre.append((code, np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=bool)))
        return np.full(len(col), np.nan)
    s = pd.Series(col.to_pylist(), dtype="string").str.strip().replace("", pd.NA)
    v = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
    pre.append((code, np.asarray(s.notna().to_numpy() & np.isnan(v), dtype=bool)))
    return v


# -- vendor formats ----------------------------------------------------------------------------------

def _vendors():
    try:
        from . import vendors  # written in parallel (issue 12, item 3); absent -> band CSV / Parquet only
    except ImportError:
        return None
    return vendors


def _iter_vendor(path: Path, fmt: str, ctx: _Ctx) -> Iterator[_Part]:
    vendors = _vendors()
    file = str(path)
    if vendors is None:
        raise ExportFileError(file, "unreadable", f"format {fmt!r} needs evaluation.ingest.vendors, which is not installed")
    try:
        vf = vendors.read_vendor(path, fmt, participant_id=ctx.participant_id, source_tz=ctx.source_tz)
    except IngestError:
        raise
    except ValueError as e:  # VendorFileError: its message names the file and never an id
        raise ExportFileError(file, "vendor_error", str(e).replace(file, "").lstrip(": ,") or type(e).__name__) from None
    f = vf.frame
    n = len(f)
    pid = pa.array(f["participant_id"].astype(object).where(f["participant_id"].notna(), None).tolist(), type=pa.string())
    ts = f["ts"]
    ts_ns = (ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64)
             if isinstance(ts.dtype, pd.DatetimeTZDtype) else np.full(n, _NAT))
    # vendors allocate records to minutes in fractions of a step: rounded to whole steps per minute here
    steps = np.rint(pd.to_numeric(f["steps"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan))
    hr = pd.to_numeric(f["heart_rate"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    source = f["source"].astype(object).to_numpy() if "source" in f else fmt
    # minutes after the export was made (a wrong phone clock, e.g. 2030): quarantined, not kept
    export_ns = getattr(vf, "export_time", None)
    limit = (pd.Timestamp(export_ns) if export_ns is not None else pd.Timestamp.now(tz="UTC")).value + _NS_DAY
    late = (ts_ns != _NAT) & (ts_ns > limit)
    pre = [("after_export_date", late)] if late.any() else []
    minutes, q, raw, first = _validate(file, ctx, pid, ts_ns, steps, hr, None, pre, source, 0)
    row = pd.array(q.pop("ordinal").to_numpy() + 1, dtype="Int64")
    q.insert(1, "line", pd.array([pd.NA] * len(q), dtype="Int64"))
    q.insert(1, "row", row)
    if raw is not None:
        raw = raw.drop_columns(["ordinal"]).append_column("line", pa.array(np.full(len(q), np.nan)))
    if ctx.raise_mode and len(q):
        r = q.iloc[0]
        raise SchemaError(file, int(r["row"]), r["column"], EXPECTED[r["reason"]], f"a value shaped {first[1]!r}",
                          reason=r["reason"])
    acct = RowAccounting()
    acct.add(file, n, q["reason"].to_numpy())
    used = int(getattr(vf, "records_used", vf.records_in - sum(vf.dropped.values())))
    status, detail = "ok" if n else "header_only", ""
    if late.any():
        detail = (f"{int(late.sum()):,} minutes dated more than a day after the export "
                  f"({'its export date' if export_ns is not None else 'no export date in the file: the time of reading'})"
                  " quarantined as after_export_date")
        warnings.warn(f"{file}: {detail} -- a wrong device clock?", stacklevel=4)
    vnotes = list(getattr(vf, "notes", []) or [])
    if not n and vf.records_in:
        # a reader that read records and used none must say why, never a bare 'header_only'
        why = ", ".join(f"{k} {v:,}" for k, v in sorted(vf.dropped.items(), key=lambda kv: -kv[1])) or "none given"
        status = "no_usable_records"
        detail = f"{vf.records_in:,} records read, none used ({why})" + (f"; {vnotes[0]}" if vnotes else "")
        warnings.warn(f"{file}: {detail}", stacklevel=4)
    elif not n:
        detail = "; ".join(vnotes[:2]) or "the export holds no records"
    acct.file_meta[file] = {"format": fmt, "encoding": "", "status": status, "detail": detail}
    acct.vendor_records[file] = {"records_in": int(vf.records_in), "records_used": used,
                                 **{k: int(v) for k, v in vf.dropped.items()}}
    yield _Part(minutes, q, acct, raw)


# -- files, formats, entry points ------------------------------------------------------------------

def _expand(paths) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    vendors = _vendors()
    suffixes = CSV_SUFFIXES + PARQUET_SUFFIXES
    if vendors is not None:
        suffixes += tuple(getattr(vendors, "SUFFIXES", (".xml", ".json", ".json.gz", ".fit", ".xml.gz", ".zip")))
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir() and vendors is not None and _vendor_folder(vendors, p):
            out.append(p)  # one participant's vendor export folder: read as a unit (e.g. Fitbit steps + heart rate)
        elif p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.name.lower().endswith(suffixes)
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            out += _group_vendor_files(vendors, files)
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"band export {p} does not exist")
    return out


def _group_vendor_files(vendors, files: list[Path]) -> list[Path]:
    """Files to read, with a vendor's per-day steps and heart-rate files (Fitbit, Samsung) replaced by
    their folder once, so each minute is read once with both values (``vendors.group_exports``)."""
    if vendors is None or not hasattr(vendors, "group_exports"):
        return files
    try:
        units = vendors.group_exports(files)
    except Exception:  # a damaged file: read file by file, each reported by name
        return files
    return [unit for unit, _fmt in units]


def _vendor_folder(vendors, folder: Path) -> str | None:
    try:
        return vendors.detect_format(folder) or None
    except Exception:  # a damaged file inside: the folder is read file by file and reported there
        return None


def detect_format(path: str | Path, columns: Mapping[str, str] | None = None) -> str:
    """``"parquet"``, ``"band_csv"``, a vendor format of ``ingest.vendors`` (by content, not only name), or
    ``"unsupported"`` for a format the workbench does not read (``vendors.describe_unsupported`` says
    what it looks like; reading it gives the file status ``unsupported_format``)."""
    path = Path(path)
    if path.is_dir():
        vendors = _vendors()
        fmt = _vendor_folder(vendors, path) if vendors is not None else None
        if fmt is None:
            raise ExportFileError(str(path), "unreadable", "a folder that is not one vendor export")
        return fmt
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    with open(path, "rb") as f:
        if f.read(4) == b"PAR1":
            return "parquet"
    vendors = _vendors()
    if vendors is not None and not columns:
        try:
            fmt = vendors.detect_format(path)
        except Exception:  # a damaged file: let the CSV path report it by name
            fmt = None
        if fmt:
            return fmt
        if _unsupported(vendors, path):
            return "unsupported"
    return "band_csv"


def _unsupported(vendors, path: Path) -> str | None:
    """What a file of a format we do not read looks like (``vendors.describe_unsupported``), else None."""
    describe = getattr(vendors, "describe_unsupported", None)
    if describe is None:
        return None
    try:
        return describe(path)
    except Exception:  # a damaged file: the band reader reports it by name
        return None


def _iter_file(path: Path, ctx: _Ctx) -> Iterator[_Part]:
    fmt = ctx.fmt or detect_format(path, ctx.mapping)
    if fmt == "unsupported":
        what = _unsupported(_vendors(), path) or "a file of unknown type"
        raise ExportFileError(str(path), "unsupported_format",
                              f"format not supported: the file looks like {what} (지원하지 않는 형식)")
    if fmt == "band_csv":
        yield from _iter_csv(path, ctx)
    elif fmt == "parquet":
        yield from _iter_parquet(path, ctx)
    else:
        yield from _iter_vendor(path, fmt, ctx)


def _empty_quarantine() -> pd.DataFrame:
    # built once: a DataFrame constructor costs ~1 ms, paid per clean file of a batch
    return _EMPTY_Q.copy()


def _make_empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({"file": pd.Series([], dtype=object), "row": pd.array([], dtype="Int64"),
                         "line": pd.array([], dtype="Int64"), "column": pd.Series([], dtype=object),
                         "reason": pd.Series([], dtype=object), "participant_id": pd.Series([], dtype=object)})


_EMPTY_Q = _make_empty_quarantine()


def _empty_minutes() -> pd.DataFrame:
    return _EMPTY_M.copy()


def _make_empty_minutes() -> pd.DataFrame:
    return pd.DataFrame({
        "participant_id": pd.Categorical([]), "ts": pd.Series([], dtype=f"datetime64[ns, {TZ}]"),
        "steps": pd.Series([], dtype="Int32"), "heart_rate": pd.Series([], dtype="float32"),
        "source": pd.Categorical([]),
    })


_EMPTY_M = _make_empty_minutes()


def _make_ctx(columns, source_tz, participants, period, key, key_file, demo, pseudonymise_ids, on_error,
              encoding, format, batch_rows, quarantine_store, participant_id) -> _Ctx:
    if not pseudonymise_ids and not demo:
        raise ValueError("pseudonymise_ids=False is only allowed with demo=True (ids that are already pseudonyms)")
    if on_error not in ("quarantine", "raise"):
        raise ValueError(f"on_error must be 'quarantine' or 'raise', got {on_error!r}")
    try:
        ZoneInfo(source_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone source_tz={source_tz!r}") from None
    hkey = load_key(key, key_file, demo=demo) if pseudonymise_ids else None
    lo_hi = None
    if period is not None:
        lo = pd.Timestamp(period[0]).normalize().value // _NS_DAY
        hi = pd.Timestamp(period[1]).normalize().value // _NS_DAY
        lo_hi = (lo, hi)
    known = set(map(str, participants)) if participants is not None else None
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{source_tz}'")
    con.execute("SET enable_progress_bar = false")
    return _Ctx(mapping=dict(columns or {}), source_tz=source_tz, ids=_Ids(hkey, known), period=lo_hi,
                raise_mode=on_error == "raise", encoding=encoding, fmt=format, batch_rows=batch_rows,
                store=open_store(quarantine_store), participant_id=participant_id, con=con)


def _iter_parts(files: list[Path], ctx: _Ctx) -> Iterator[_Part]:
    for path in files:
        file = str(path)
        try:
            yield from _iter_file(path, ctx)
        except IngestError as e:
            if ctx.raise_mode:
                raise
            warnings.warn(f"{e} -- file skipped, the batch goes on", stacklevel=3)
            acct = RowAccounting()
            acct.files_failed[file] = e.reason
            acct.file_meta[file] = {"format": ctx.fmt or "", "encoding": "", "status": e.reason, "detail": str(e)}
            yield _Part(None, _empty_quarantine(), acct)


def iter_exports(
    paths: str | Path | Iterable[str | Path],
    *,
    columns: Mapping[str, str] | None = None,
    source_tz: str = TZ,
    participants: Iterable[str] | None = None,
    period: tuple[str, str] | None = None,
    key: str | bytes | None = None,
    key_file: str | Path | None = None,
    demo: bool = False,
    pseudonymise_ids: bool = True,
    on_error: Literal["quarantine", "raise"] = "quarantine",
    encoding: str | None = None,
    format: str | None = None,
    batch_rows: int = 1_000_000,
    quarantine_store: str | Path | None = None,
    participant_id: str | None = None,
    one_participant: bool = False,
) -> Iterator[IngestResult]:
    """Stream exports as :class:`IngestResult` batches of at most ``batch_rows`` minute rows each.

    Memory is bounded by the batch (rows quarantined after parsing are held until their file ends,
    to give them line numbers). Each batch's ``accounting`` covers that batch; merge them with
    :meth:`RowAccounting.merge`. Parameters as :func:`read_exports`.
    """
    files = _expand(paths)
    if participant_id is not None and not one_participant:
        _one_export_per_id(files, format)
    ctx = _make_ctx(columns, source_tz, participants, period, key, key_file, demo, pseudonymise_ids, on_error,
                    encoding, format, batch_rows, quarantine_store, participant_id)
    try:
        yield from _results(files, ctx)
    finally:
        ctx.con.close()


_ID_LESS = ("apple_health_xml", "samsung_health_csv", "fitbit_json", "google_fit_csv")


def _one_export_per_id(files: list[Path], fmt: str | None) -> None:
    """Refuse one ``participant_id`` for several id-less exports (a folder tree of several people's
    exports would merge them into one pseudonym without a word); ``one_participant=True`` allows it."""
    units = []
    for f in files:
        try:
            kind = fmt or detect_format(f)
        except (IngestError, OSError):
            continue
        if kind in _ID_LESS:
            # a folder's Fitbit / Samsung day files are one export, read as one unit
            unit = f.parent if f.is_file() and kind in ("fitbit_json", "samsung_health_csv", "google_fit_csv") else f
            if unit not in units:
                units.append(unit)
    if len(units) > 1:
        shown = ", ".join(str(u) for u in units[:3]) + (f" and {len(units) - 3} more" if len(units) > 3 else "")
        raise ValueError(f"participant_id= names one person, but the paths hold {len(units)} exports without ids "
                         f"({shown}): read each export with its own id (read_each(..., id_from_name=...)), or pass "
                         "one_participant=True if they are all this person's (한 사람의 내보내기가 아님)")


def _results(files: list[Path], ctx: _Ctx) -> Iterator[IngestResult]:
    for part in _iter_parts(files, ctx):
        part.accounting.check()
        paths_ = []
        if ctx.store is not None and part.raw is not None:
            p = ctx.store.write(part.raw)
            paths_ = [p] if p else []
        yield IngestResult(part.minutes if part.minutes is not None else _empty_minutes(), part.quarantine,
                           part.accounting, None, paths_)


_MINUTE_COLUMNS = ["participant_id", "ts", "steps", "heart_rate", "source"]


def _finish_minutes(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """One minutes frame from the parts, copying each column once (numpy concatenation; ids are
    recoded onto one set of categories, which holds only pseudonyms in use)."""
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return _empty_minutes()
    if len(parts) == 1 and list(parts[0].columns) == _MINUTE_COLUMNS and parts[0]["heart_rate"].dtype == np.float32 \
            and str(parts[0]["steps"].dtype) in ("int32", "Int32") and str(parts[0]["ts"].dtype) == f"datetime64[ns, {TZ}]" \
            and isinstance(parts[0]["source"].dtype, pd.CategoricalDtype) \
            and np.bincount(parts[0]["participant_id"].cat.codes.to_numpy(), minlength=len(parts[0]["participant_id"].cat.categories)).all():
        return parts[0]  # already in the contract's types, every category in use: nothing to copy
    cats = [p["participant_id"].cat.categories for p in parts]
    allcats = cats[0].append(cats[1:]).unique() if len(cats) > 1 else cats[0]
    codes = np.concatenate([allcats.get_indexer(c)[p["participant_id"].cat.codes.to_numpy()] if len(c) else
                            np.zeros(0, dtype=np.int64) for c, p in zip(cats, parts)])
    used = np.bincount(codes, minlength=len(allcats)) > 0
    if not used.all():
        codes = (np.cumsum(used) - 1)[codes]
        allcats = allcats[used]
    ts = np.concatenate([p["ts"].array.asi8 for p in parts])
    steps = [p["steps"].array for p in parts]
    if all(p["steps"].dtype == np.int32 for p in parts):
        steps_out = np.concatenate([np.asarray(x) for x in steps])
    else:
        data = np.concatenate([x._data if hasattr(x, "_data") else np.asarray(x) for x in steps]).astype(np.int32)
        mask = np.concatenate([x._mask if hasattr(x, "_mask") else np.zeros(len(x), dtype=bool) for x in steps])
        steps_out = pd.arrays.IntegerArray(data, mask) if mask.any() else data
    from pandas.api.types import union_categoricals
    return pd.DataFrame({
        "participant_id": pd.Categorical.from_codes(codes.astype(np.int32), categories=allcats),
        "ts": _ts_series(ts),
        "steps": steps_out,
        "heart_rate": np.concatenate([p["heart_rate"].to_numpy(dtype=np.float32) for p in parts]),
        "source": union_categoricals([p["source"] for p in parts]) if len(parts) > 1 else parts[0]["source"].array,
    }, copy=False)


def read_exports(
    paths: str | Path | Iterable[str | Path],
    *,
    columns: Mapping[str, str] | None = None,
    source_tz: str = TZ,
    participants: Iterable[str] | None = None,
    period: tuple[str, str] | None = None,
    key: str | bytes | None = None,
    key_file: str | Path | None = None,
    demo: bool = False,
    pseudonymise_ids: bool = True,
    quarantine_dir: str | Path | None = None,
    on_error: Literal["quarantine", "raise"] = "quarantine",
    encoding: str | None = None,
    format: str | None = None,
    quarantine_store: str | Path | None = None,
    participant_id: str | None = None,
    one_participant: bool = False,
) -> IngestResult:
    """Read exports into minutes (``participant_id``, ``ts`` Asia/Seoul, ``steps``, ``heart_rate``, ``source``).

    Parameters
    ----------
    paths: files or folders (folders are searched for .csv/.csv.gz/.tsv/.txt/.parquet and, with
        ``ingest.vendors``, vendor exports; sorted; hidden folders skipped).
    columns: mapping from the export's column names to the contract names,
        e.g. ``{"Id": "participant_id", "ActivityMinute": "ts", "Steps": "steps", "HR": "heart_rate"}``.
        ``heart_rate`` may be absent (step-only devices: all NaN).
    source_tz: zone of naive timestamps ("Asia/Seoul" = local; "UTC" for exports
        written in UTC without a marker). Values with ``Z``/``+hh:mm``/``+hhmm``/``+hh`` are instants.
    participants: enrolled pseudonymised ids; rows of anyone else are quarantined.
    period: (first, last) local dates kept, inclusive; others quarantined.
    key, key_file, demo: HMAC key for pseudonyms (see :func:`load_key`); without a key
        the call is refused unless ``demo=True``.
    pseudonymise_ids: False keeps ids as they are; only allowed with ``demo=True``.
    quarantine_dir: where the quarantine *report* ``quarantine.parquet`` is written (file, row, line,
        column, reason, pseudonymised id; no raw values, so it may be a run's output folder).
    quarantine_store: private folder for the *raw text* of quarantined rows (0700 / 0600; a path inside
        an ``outputs`` tree is refused). Default ``$EVALUATION_QUARANTINE_STORE``, else none is kept
        (the report's file and line point into the input).
    on_error: "raise" turns the first bad file or row into an :class:`IngestError`
        (:class:`SchemaError` for rows; messages show a value's shape, never the value).
        "quarantine" quarantines bad rows and reports bad files by name (``result.files``,
        a warning) while the rest of the batch goes on.
    encoding: the CSV encoding; default: BOM, else UTF-8, else CP949 (EUC-KR).
    format: force ``"band_csv"``, ``"parquet"`` or a vendor format; default: detected per file.
    participant_id: raw id for vendor files that carry none (Apple Health, Samsung, Fitbit). Refused when
        ``paths`` hold several such exports (several people's, as a folder tree usually is), unless
    one_participant: True -- the id-less exports under ``paths`` are all this one person's.

    Steps become ``int32`` (``Int32`` when some are empty: no record), heart rate ``float32``
    (NaN = no reading). Row order is kept, files in the given order.
    """
    if quarantine_dir is not None and quarantine_store is not None and \
            Path(quarantine_store).expanduser().resolve() == Path(quarantine_dir).expanduser().resolve():
        raise ValueError("quarantine_store (raw values) and quarantine_dir (report) must be different folders")
    parts = iter_exports(paths, columns=columns, source_tz=source_tz, participants=participants, period=period,
                         key=key, key_file=key_file, demo=demo, pseudonymise_ids=pseudonymise_ids,
                         on_error=on_error, encoding=encoding, format=format, batch_rows=None,
                         quarantine_store=quarantine_store, participant_id=participant_id,
                         one_participant=one_participant)
    return _collect(parts, quarantine_dir)


def _collect(parts: Iterable[IngestResult], quarantine_dir=None) -> IngestResult:
    acc = RowAccounting()
    minutes, qs, stores = [], [], []
    for part in parts:
        acc.merge(part.accounting)
        minutes.append(part.minutes)
        if len(part.quarantine):
            qs.append(part.quarantine)
        stores += part.store_paths
    acc.check()
    quarantine = _concat_quarantine(qs)
    qpath = _write_report(quarantine, quarantine_dir)
    return IngestResult(_finish_minutes(minutes), quarantine, acc, qpath, stores)


def read_each(
    paths: Iterable[str | Path],
    *,
    id_from_name: Iterable[str] = (),
    **options,
) -> Iterator[tuple[str, IngestResult]]:
    """``(path, IngestResult)`` per export, each exactly what ``read_exports(path, **options)`` returns.

    ``id_from_name``: formats whose exports carry no participant id (e.g. ``"fitbit_json"``); without a
    ``participant_id`` option, such an export's id is its name up to the first dot
    (``exports/<vendor>/<id>[.ext]``). Each export's format is detected once, here.
    One reader context (DuckDB connection, pseudonym key and cache) serves every file: with many small
    exports, setting that up per file costs more than reading them. ``options`` as :func:`read_exports`
    (no ``quarantine_dir``).
    """
    id_from_name = set(id_from_name)
    options = dict(options)
    base_pid = options.pop("participant_id", None)
    ctx = _make_ctx(options.pop("columns", None), options.pop("source_tz", TZ), options.pop("participants", None),
                    options.pop("period", None), options.pop("key", None), options.pop("key_file", None),
                    options.pop("demo", False), options.pop("pseudonymise_ids", True), options.pop("on_error", "quarantine"),
                    options.pop("encoding", None), options.pop("format", None), None, options.pop("quarantine_store", None),
                    base_pid)
    if options:
        raise TypeError(f"read_each() got unexpected options {sorted(options)}")
    base_fmt = ctx.fmt
    try:
        for path in paths:
            files = _expand([path])
            fmt = base_fmt
            if fmt is None and len(files) == 1:
                try:
                    fmt = detect_format(files[0], ctx.mapping)
                except IngestError:  # reported by the reader, by name
                    fmt = None
            ctx.fmt = fmt
            ctx.participant_id = base_pid if base_pid is not None or fmt not in id_from_name \
                else Path(path).name.split(".")[0]
            yield str(path), _collect(_results(files, ctx))
    finally:
        ctx.con.close()


def _concat_quarantine(qs: list[pd.DataFrame]) -> pd.DataFrame:
    if not qs:
        return _empty_quarantine()
    q = pd.concat(qs, ignore_index=True)[_QCOLS]
    q["file"] = q["file"].astype(object)
    return q.sort_values(["file", "line", "row"], kind="stable", na_position="last").reset_index(drop=True) \
        if q["file"].nunique() == 1 else q


def _write_report(quarantine: pd.DataFrame, quarantine_dir) -> Path | None:
    if quarantine_dir is None:
        return None
    qpath = Path(quarantine_dir) / "quarantine.parquet"
    qpath.parent.mkdir(parents=True, exist_ok=True)
    quarantine.astype({"participant_id": "string", "column": "string", "reason": "string", "file": "string"}) \
        .to_parquet(qpath, index=False)
    return qpath


def ingest_to_store(
    paths: str | Path | Iterable[str | Path],
    root: str | Path,
    *,
    n_buckets: int = 16,
    batch_rows: int = 2_000_000,
    quarantine_dir: str | Path | None = None,
    **options,
) -> RowAccounting:
    """Stream exports into the partitioned minutes store ``root/bucket=BB/date=YYYY-MM-DD/part-k.parquet``
    (:func:`evaluation.signals.write_partitioned`), a batch at a time; returns the row accounting.

    ``options`` are those of :func:`iter_exports`. The quarantine report goes to ``quarantine_dir``.
    """
    from evaluation.signals import write_partitioned

    acc = RowAccounting()
    qs, buf, n_buf = [], [], 0
    for part in iter_exports(paths, batch_rows=batch_rows, **options):
        acc.merge(part.accounting)
        if len(part.minutes):
            # small files are pooled up to batch_rows: each write_partitioned call costs a file per partition
            buf.append(part.minutes)
            n_buf += len(part.minutes)
            if n_buf >= batch_rows:
                write_partitioned(_finish_minutes(buf), root, n_buckets)
                buf, n_buf = [], 0
        if len(part.quarantine):
            qs.append(part.quarantine)
    if buf:
        write_partitioned(_finish_minutes(buf), root, n_buckets)
    acc.check()
    _write_report(_concat_quarantine(qs), quarantine_dir)
    return acc


__all__ = ["CONTRACT", "EXPECTED", "FILE_REASONS", "REASONS", "IngestResult", "RowAccounting", "SchemaError",
           "detect_format", "ingest_to_store", "iter_exports", "read_each", "read_exports", "under_outputs"]
