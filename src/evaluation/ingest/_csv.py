"""DuckDB's CSV reader over one export: typed columns, and every line it cannot take in a rejects table.

Design notes (DuckDB 1.1+ ``read_csv``):

* The contract columns are read *typed* (``TIMESTAMPTZ``, ``DOUBLE``) by the reader itself: its
  built-in casts are the fast path, and with ``store_rejects`` a value that does not cast makes the
  line a reject with its line number, column and error type, instead of aborting the file.
  ``try_cast`` over ``all_varchar`` columns is *not* used: DuckDB pushes such casts into the reader,
  where (with rejects on) a failed cast drops the row rather than giving NULL.
* Steps are read as ``DOUBLE`` (an ``INTEGER`` column would round ``2.5`` and reject ``2^31``
  as a cast error); integrality and range are checked afterwards, per row.
* Naive timestamps are read in the session ``TimeZone`` (= the declared source zone); values with
  ``Z`` / ``+09:00`` / ``+0900`` / ``+09`` are instants. A local time inside a daylight-saving gap is
  moved forward by the gap (ICU's rule); Asia/Seoul has had no DST since 1988.
* ``null_padding`` stays off, so a line with too few fields is a reject (``truncated_line``), not
  a good row with an empty heart rate; a trailing delimiter on every row is one declared slack
  column (see ``_sniff``).
"""
from __future__ import annotations

import itertools
from typing import Iterator

import duckdb
import pyarrow as pa

from ._errors import ExportFileError
from ._sniff import CsvLayout, duckdb_encoding

_COUNTER = itertools.count()
SLACK = "_slack"


def _day(day: int) -> str:
    import numpy as np

    return str(np.datetime64(int(day), "D"))


def _lit(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


class CsvScan:
    """One read of one CSV file. Iterate :meth:`batches`, then call :meth:`rejects`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, layout: CsvLayout, positions: dict[str, int],
                 period: tuple[int, int] | None = None):
        from ._read import REASON_CODE as rc

        self.con, self.layout, self.positions = con, layout, positions
        k = next(_COUNTER)
        self.rj, self.rs = f"ingest_rejects_{k}", f"ingest_scans_{k}"
        types = {"participant_id": "VARCHAR", "ts": "TIMESTAMPTZ", "steps": "DOUBLE", "heart_rate": "DOUBLE"}
        by_pos = {p: c for c, p in positions.items()}
        cols = [(f"c{i}", types.get(by_pos.get(i, ""), "VARCHAR")) for i in range(len(layout.names))]
        cols += [(f"{SLACK}{j}", "VARCHAR") for j in range(layout.slack)]
        spec = "{" + ", ".join(f"{_lit(n)}: {_lit(t)}" for n, t in cols) + "}"
        hr = f"c{positions['heart_rate']}" if "heart_rate" in positions else "NULL::DOUBLE"
        slack = f"{SLACK}0" if layout.slack else "NULL::VARCHAR"
        # value checks run inside DuckDB's parallel scan; ``r`` = first failing code, 127 = ok (the
        # same rules as ``_read._row_codes``). NaN text counts as empty, as in pandas.
        st, ts = f"c{positions['steps']}", f"c{positions['ts']}"
        period_case = ""
        if period is not None:
            lo = _day(period[0])
            hi = _day(period[1] + 1)
            period_case = (f"WHEN {ts} < TIMESTAMPTZ '{lo} 00:00:00+09:00' OR {ts} >= TIMESTAMPTZ '{hi} 00:00:00+09:00' "
                           f"THEN {rc['out_of_period']} ")
        self.sql = (
            f"SELECT c{positions['participant_id']} AS participant_id, "
            f"coalesce(CASE WHEN {ts} >= TIMESTAMPTZ '1678-01-01 00:00:00+00' AND {ts} < TIMESTAMPTZ '2262-01-01 00:00:00+00' "
            f"THEN epoch_ns({ts}) END, {-(2 ** 63)}) AS ts_ns, "
            f"coalesce({st}, 'NaN'::DOUBLE) AS steps, coalesce({hr}, 'NaN'::DOUBLE) AS heart_rate, "
            f"(CASE WHEN {slack} IS NOT NULL THEN {rc['extra_fields']} "
            f"WHEN {ts} IS NULL OR NOT ({ts} >= TIMESTAMPTZ '1678-01-01 00:00:00+00' AND {ts} < TIMESTAMPTZ '2262-01-01 00:00:00+00') "
            f"THEN {rc['unparseable_ts']} "
            f"WHEN {st} IS NOT NULL AND NOT isnan({st}) AND NOT isinf({st}) AND {st} <> trunc({st}) THEN {rc['non_integer_steps']} "
            f"WHEN {st} IS NOT NULL AND NOT isnan({st}) AND (isinf({st}) OR abs({st}) >= 2147483648) THEN {rc['steps_out_of_range']} "
            f"WHEN {hr} IS NOT NULL AND NOT isnan({hr}) AND (isinf({hr}) OR abs({hr}) > 3.4e38) THEN {rc['heart_rate_out_of_range']} "
            f"{period_case}ELSE 127 END)::SMALLINT AS r "
            f"FROM read_csv({_lit(layout.path)}, columns={spec}, header=true, auto_detect=false, "
            f"delim={_lit(layout.delim)}, quote={_lit(layout.quote)}, escape={_lit(layout.quote)}, "
            f"skip={layout.skip}, compression={_lit(layout.compression)}, "
            f"encoding={_lit(duckdb_encoding(layout.encoding) or 'utf-8')}, "
            f"store_rejects=true, rejects_table={_lit(self.rj)}, rejects_scan={_lit(self.rs)})"
        )

    def batches(self, batch_rows: int | None) -> Iterator[pa.Table | pa.RecordBatch]:
        try:
            rel = self.con.sql(self.sql)
            if batch_rows is None:
                yield _table(rel)
            else:
                # DuckDB 1.4 renamed fetch_record_batch to to_arrow_reader
                reader = (rel.to_arrow_reader if hasattr(rel, "to_arrow_reader") else rel.fetch_record_batch)(batch_rows)
                for b in reader:
                    yield b
        except duckdb.Error as e:
            raise _file_error(self.layout, e) from None

    def rejects(self) -> pa.Table:
        """One row per rejected line (grouped by its byte offset ``lbp``): DuckDB's ``line`` (off once
        a file has blank lines, see ``_sniff.line_index``), ``reason`` code, ``column``, ``id_field``, ``csv_line``."""
        from ._read import REASON_CODE

        try:
            n = self.con.execute(f"SELECT count(*) FROM {self.rj}").fetchall()[0][0]  # fetchall: DuckDB 2 keeps an unfinished result busy
        except duckdb.Error:
            n = None
        if n == 0:  # the common case: a clean file; the grouping query below costs ~6 ms even on nothing
            self.close()
            return _NO_REJECTS
        lay = self.layout
        rc = REASON_CODE
        by_col = {"ts": rc["unparseable_ts"], "steps": rc["unparseable_steps"], "heart_rate": rc["unparseable_heart_rate"]}
        col_names = {f"c{p}": c for c, p in self.positions.items()}
        cast_case = " ".join(f"WHEN column_name = {_lit(f'c{p}')} THEN {by_col[c]}"
                             for c, p in self.positions.items() if c in by_col)
        name_case = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in col_names.items())
        id_pos = self.positions["participant_id"] + 1
        sql = f"""
        WITH e AS (
            SELECT line, line_byte_position AS lbp, csv_line,
                CASE WHEN column_name IS NULL THEN NULL ELSE CASE column_name {name_case} ELSE '(extra field)' END END AS col,
                CASE error_type
                    WHEN 'MISSING COLUMNS' THEN {rc['truncated_line']}
                    WHEN 'TOO MANY COLUMNS' THEN {rc['extra_fields']}
                    WHEN 'UNQUOTED VALUE' THEN {rc['bad_quoting']}
                    WHEN 'INVALID ENCODING' THEN {rc['invalid_encoding']}
                    WHEN 'INVALID UNICODE' THEN {rc['invalid_encoding']}
                    WHEN 'LINE SIZE OVER MAXIMUM' THEN {rc['line_too_long']}
                    WHEN 'CAST' THEN CASE {cast_case or 'WHEN false THEN 0'} ELSE {rc['unreadable_line']} END
                    ELSE {rc['unreadable_line']} END AS prio
            FROM {self.rj}
        ), g AS (
            SELECT lbp, min(line) AS line, min(prio) AS prio, arg_min(col, prio) AS col, ltrim(any_value(csv_line), chr(13) || chr(10)) AS csv_line FROM e GROUP BY lbp
        )
        SELECT line::BIGINT AS line, lbp::BIGINT AS lbp,
            CASE WHEN contains(csv_line, chr(0)) THEN {rc['nul_byte']}
                 WHEN rtrim(csv_line, {_lit(lay.delim + ' ' + chr(9) + chr(13) + chr(10))}) = {_lit(lay.header_text)}
                      THEN {rc['repeated_header']}
                 WHEN prio IN ({rc['unparseable_ts']}, {rc['unparseable_steps']}, {rc['unparseable_heart_rate']})
                      AND trim(coalesce(split_part(csv_line, {_lit(lay.delim)}, {id_pos}), ''), ' ' || chr(9)) = ''
                      THEN {rc['missing_participant']}
                 ELSE prio END::TINYINT AS reason,
            CASE WHEN contains(csv_line, chr(0)) THEN NULL
                 WHEN rtrim(csv_line, {_lit(lay.delim + ' ' + chr(9) + chr(13) + chr(10))}) = {_lit(lay.header_text)} THEN NULL
                 WHEN prio IN ({rc['unparseable_ts']}, {rc['unparseable_steps']}, {rc['unparseable_heart_rate']})
                      AND trim(coalesce(split_part(csv_line, {_lit(lay.delim)}, {id_pos}), ''), ' ' || chr(9)) = ''
                      THEN 'participant_id'
                 ELSE col END AS "column",
            trim(split_part(csv_line, {_lit(lay.delim)}, {id_pos}), ' ' || chr(9)) AS id_field,
            csv_line
        FROM g ORDER BY lbp
        """
        try:
            return _table(self.con.sql(sql))
        finally:
            self.close()

    def close(self) -> None:
        for t in (self.rj, self.rs):
            try:
                self.con.execute(f"DROP TABLE IF EXISTS {t}")
            except duckdb.Error:
                pass


_NO_REJECTS = pa.table({"line": pa.array([], pa.int64()), "lbp": pa.array([], pa.int64()), "reason": pa.array([], pa.int8()),
                         "column": pa.array([], pa.string()), "id_field": pa.array([], pa.string()),
                         "csv_line": pa.array([], pa.string())})


def _table(rel) -> pa.Table:
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()


def _file_error(layout: CsvLayout, e: Exception) -> ExportFileError:
    msg = str(e)
    f = str(layout.source)
    if "GZIP" in msg.upper() or "gzip" in msg or "zlib" in msg.lower():
        return ExportFileError(f, "truncated_gzip", "gzip stream is cut short or damaged (gzip 파일이 잘림)")
    # DuckDB messages can quote a line of the file: only the error class is passed on
    return ExportFileError(f, "unreadable", f"the CSV reader could not read the file ({type(e).__name__}; 읽을 수 없는 파일)")
