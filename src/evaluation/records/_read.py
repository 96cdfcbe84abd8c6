"""Read records files into the contract: find headers, refuse identifiers, type, pseudonymise, validate.

Nothing raises for bad content: a file that cannot be read at all is one error with
no row (the file is refused); a damaged cell is one error naming file, sheet, row
and column; the row is quarantined and the rest goes on. Rows in = rows kept +
rows quarantined + exact repeats of an enrolment row (a long file repeating the
enrolment columns on every round).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..ingest._pseudonym import load_key, pseudonymise
from ._contract import BY_NAME, ENROLMENT, MEASUREMENT
from ._grid import Grid, RecordsFileError, read_grids
from ._labels import label_table
from ._parse import CHECK_FOR_KIND, parse
from ._validate import enrolment_schema, measurement_schema, message, validate

_RRN = re.compile(r"(?<![0-9A-Za-z])\d{6}\s*-?\s*[1-8]\d{6}(?!\d)")
# mobile numbers with or without separators; other numbers only with separators (ids can be digit runs)
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:01[016789][-.\s]?\d{3,4}[-.\s]?\d{4}|0(?:2|[3-6][1-5]|70)[-.)]\s?\d{3,4}-\d{4})(?!\d)")
_NAME = re.compile(r"^[가-힣]{2,4}$")
ERROR_COLUMNS = ["file", "sheet", "row", "column", "field", "check"]
_META = ["_file", "_sheet", "_row", "_grid"]
ENROLMENT_MARKERS = ("birth_date", "district", "enrolled_on", "arm", "group", "withdrew_on", "wave", "income_quintile")
MEASUREMENT_MARKERS = tuple(n for n in MEASUREMENT if n != "participant_id")


@dataclass
class Records:
    """What :func:`read_records` found. Ids are pseudonymised; no value of a damaged cell is kept.

    Attributes: ``enrolment`` (one row per person), ``measurements`` (long: person x round, ``round`` in
    weeks 0/12/24), ``errors`` (file, sheet, row, column, field, check; ``row`` empty = the whole file
    was refused), ``files`` (one row per sheet read), ``quarantine`` (file, sheet, row, participant_id,
    reason), and the row counts ``rows_read``, ``rows_kept``, ``rows_quarantined``, ``rows_repeated``.
    """

    enrolment: pd.DataFrame
    measurements: pd.DataFrame
    errors: pd.DataFrame
    files: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    rows_repeated: int = 0  # enrolment columns repeated on the rounds of a long file (merged, still kept)
    files_refused: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no error was found."""
        return self.errors.empty

    def error_lines(self, lang: str = "ko") -> list[str]:
        """One line per error: ``file[:sheet]  row N  column  message`` (Korean first)."""
        lines = []
        for e in self.errors.itertuples(index=False):
            where = f"{e.file}{':' + e.sheet if e.sheet else ''}"
            if pd.isna(e.row):
                row = "파일 전체" if lang == "ko" else "whole file"
            else:
                row = f"{int(e.row)}행" if lang == "ko" else f"row {int(e.row)}"
            col = e.column or "-"
            text = message(e.check, lang)
            f = BY_NAME.get(e.field) if isinstance(e.field, str) else None
            if e.check == "out_of_range" and f is not None and f.low is not None:  # the contract's range, not the value
                text += f" ({f.low:g}–{f.high:g}{' ' + f.unit if f.unit else ''})"
            lines.append(f"{where}  {row}  {col}  {text} [{e.check}]")
        return lines

    def summary(self, lang: str = "ko") -> str:
        """Files, rows and errors in one paragraph."""
        n_files = self.files["file"].nunique() if len(self.files) else 0
        if lang == "ko":
            return (f"파일 {n_files}개({len(self.files)}개 시트) 읽음, 거부 {len(self.files_refused)}개; 행 {self.rows_read:,}개 중 "
                    f"{self.rows_kept:,}개 사용, {self.rows_quarantined:,}개 격리, {self.rows_repeated:,}개 등록 반복; "
                    f"오류 {len(self.errors):,}건; 참여자 {self.enrolment['participant_id'].nunique():,}명, "
                    f"측정 {len(self.measurements):,}건")
        return (f"{n_files} file(s) ({len(self.files)} sheet(s)) read, {len(self.files_refused)} refused; "
                f"{self.rows_read:,} rows: {self.rows_kept:,} kept, {self.rows_quarantined:,} quarantined, "
                f"{self.rows_repeated:,} repeated enrolment rows; {len(self.errors):,} error(s); "
                f"{self.enrolment['participant_id'].nunique():,} participants, {len(self.measurements):,} measurements")

    def __str__(self) -> str:
        return self.summary("en")


def _scan_identifiers(grid: Grid) -> None:
    """Refuse a grid whose id column or an unmatched column holds resident-registration or phone numbers
    (or whose id column holds what look like Korean names). Raises naming the column only."""
    checks = []
    if "participant_id" in grid.data:
        checks.append((f"{grid.letters['participant_id']} ({grid.labels['participant_id']})",
                       grid.data["participant_id"], True))
    if grid.raw_other is not None:
        checks += [(name, grid.raw_other[name], False) for name in grid.raw_other.columns]
    for name, col, is_id in checks:
        # distinct values only (ids repeat on every round); numbers cannot hold a hyphenated identifier
        uniq = pd.Series(pd.unique(col.dropna().to_numpy(dtype=object)), dtype=object)
        text = uniq[uniq.map(type).eq(str)].astype(str) if len(uniq) else uniq
        if text.empty:
            continue
        if text.str.contains(_RRN).any():
            raise RecordsFileError(grid.file, "pii_rrn_values", name, "values look like resident registration numbers "
                                   "(주민등록번호); the file is refused, nothing is stored")
        if text.str.contains(_PHONE).any():
            raise RecordsFileError(grid.file, "pii_phone_values", name, "values look like phone numbers; the file is "
                                   "refused, nothing is stored")
        if is_id and text.str.strip().str.fullmatch(_NAME).mean() > 0.5:
            raise RecordsFileError(grid.file, "pii_name_values", name, "participant numbers look like personal names; "
                                   "the file is refused, nothing is stored")


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in
                          (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".xlsb", ".ods") and not q.name.startswith((".", "~$")))
        else:
            out.append(p)
    return out


def _file_error(file: str, exc: RecordsFileError) -> dict[str, object]:
    return {"file": file, "sheet": "", "row": exc.row, "column": exc.column, "field": None, "check": exc.check}


def read_records(
    files: Iterable[str | Path],
    *,
    mapping: dict[str, str] | None = None,
    key: str | bytes | None = None,
    key_file: str | Path | None = None,
    demo: bool = False,
    pseudonymise_ids: bool = True,
    names: dict[str, str] | None = None,
    optional: Iterable[str] = (),
) -> Records:
    """Read enrolment / screening / survey files (CSV in UTF-8 or CP949, Excel) into the records contract.

    ``mapping``: header label -> contract field (or ``"-"`` to ignore) for labels the built-in Korean
    ones do not cover. Ids are pseudonymised with :func:`evaluation.ingest.load_key`'s key, exactly as
    the wearable store does (``pseudonymise_ids=False`` keeps them, for synthetic ids in demo mode only).
    ``names``: path -> name to show in errors (default the path as given). ``optional``: required fields
    these files do not carry (:data:`evaluation.records._contract.OPTIONAL_OK`, e.g. ``district`` for a
    centre outside Seoul): their column may be absent and their cells empty.
    """
    from ._contract import OPTIONAL_OK

    optional = tuple(optional)
    if set(optional) - set(OPTIONAL_OK):
        raise ValueError(f"optional: {sorted(set(optional) - set(OPTIONAL_OK))} cannot be left out; "
                         f"fields a programme may lack: {sorted(OPTIONAL_OK)}")
    if not pseudonymise_ids and not demo:
        raise ValueError("pseudonymise_ids=False is allowed only with demo=True (synthetic ids)")
    hkey = load_key(key, key_file, demo=demo) if pseudonymise_ids else None
    table = label_table(mapping)
    errors: list[dict[str, object]] = []
    file_rows: list[dict[str, object]] = []
    enrol_parts, meas_parts, grids = [], [], []
    refused: list[str] = []
    for path in _expand(files):
        shown = (names or {}).get(str(path), str(path))
        try:
            found = read_grids(path, table, shown)
            for g in found:
                _scan_identifiers(g)
                has_enrol = any(c in g.data for c in ENROLMENT_MARKERS)
                has_meas = any(c in g.data for c in MEASUREMENT_MARKERS)
                need = ([n for n in ENROLMENT if BY_NAME[n].required and n not in optional] if has_enrol else []) + \
                       (["round"] if has_meas else [])
                missing = [n for n in need if n not in g.data]
                if missing:
                    raise RecordsFileError(shown, "missing_column", ", ".join(BY_NAME[n].ko for n in missing),
                                           f"sheet {g.sheet}" if g.sheet else "")
                if not (has_enrol or has_meas):
                    raise RecordsFileError(shown, "no_records", detail="no enrolment or measurement column found")
        except RecordsFileError as exc:
            errors.append(_file_error(shown, exc))
            refused.append(shown)
            continue
        for g in found:
            gi = len(grids)
            grids.append(g)
            typed, bad = parse(g.data)
            if hkey is not None and "participant_id" in typed:
                typed["participant_id"] = pd.array(pseudonymise(typed["participant_id"].astype(object), hkey), dtype="string")
            for name, mask in bad.items():
                for r in g.rows[mask]:
                    errors.append({"file": shown, "sheet": g.sheet, "row": int(r), "column": f"{g.letters[name]} ({g.labels[name]})",
                                   "field": name, "check": CHECK_FOR_KIND[BY_NAME[name].kind]})
            meta = pd.DataFrame({"_file": shown, "_sheet": g.sheet, "_row": g.rows, "_grid": gi}, index=typed.index)
            has_enrol = any(c in g.data for c in ENROLMENT_MARKERS)
            has_meas = any(c in g.data for c in MEASUREMENT_MARKERS)
            if has_enrol:
                enrol_parts.append(pd.concat([typed[[c for c in ENROLMENT if c in typed]], meta], axis=1))
            if has_meas:
                meas_parts.append(pd.concat([typed[[c for c in MEASUREMENT if c in typed]], meta], axis=1))
            file_rows.append({"file": shown, "sheet": g.sheet, "kind": "+".join(k for k, v in (("enrolment", has_enrol),
                              ("measurement", has_meas)) if v), "encoding": g.encoding,
                              "header_rows": list(g.header_rows), "rows": len(g.data),
                              "columns": {f: g.labels[f] for f in g.data.columns}, "ignored": g.ignored})

    enrol = _frame(enrol_parts, ENROLMENT)
    meas = _frame(meas_parts, MEASUREMENT)
    # a long file repeats the enrolment columns on every round: identical repeats are one enrolment
    value_cols = [c for c in ENROLMENT if c in enrol.columns]
    repeat = enrol.duplicated(subset=value_cols, keep="first") if len(enrol) else pd.Series(False, index=enrol.index)
    in_long = enrol["_grid"].map(lambda gi: "round" in grids[gi].data).astype(bool) if len(enrol) else repeat
    repeated = repeat & in_long
    enrol = enrol[~repeated].reset_index(drop=True)
    bad_cells = pd.DataFrame(errors, columns=ERROR_COLUMNS)
    for frame, schema in ((enrol, enrolment_schema(optional)), (meas, measurement_schema())):
        fails = validate(frame[[c for c in frame.columns if not c.startswith("_") or c == "_grid"]], schema)
        for idx, fname, check in fails.itertuples(index=False):
            gi = int(frame["_grid"].iat[idx])
            g = grids[gi]
            errors.append({"file": frame["_file"].iat[idx], "sheet": frame["_sheet"].iat[idx], "row": int(frame["_row"].iat[idx]),
                           "column": f"{g.letters[fname]} ({g.labels[fname]})" if fname in g.letters else "",
                           "field": fname, "check": check})
    errors += _age_errors(enrol, meas, grids)
    errors += _conflicts(meas, grids)
    if len(enrol) and len(meas):  # measurement rows of people nobody enrolled
        orphan = ~meas["participant_id"].isin(set(enrol["participant_id"].dropna())) & meas["participant_id"].notna()
        for idx in np.flatnonzero(orphan.to_numpy()):
            g = grids[int(meas["_grid"].iat[idx])]
            errors.append({"file": meas["_file"].iat[idx], "sheet": meas["_sheet"].iat[idx], "row": int(meas["_row"].iat[idx]),
                           "column": f"{g.letters['participant_id']} ({g.labels['participant_id']})",
                           "field": "participant_id", "check": "no_enrolment"})
    err = pd.DataFrame(errors, columns=ERROR_COLUMNS)
    # a cell that could not be read is also empty: report it once
    err = err.drop_duplicates(subset=["file", "sheet", "row", "field"], keep="first") if len(bad_cells) else err
    err = err.drop_duplicates()
    err["row"] = err["row"].astype("Int64")
    err = err.sort_values(["file", "sheet", "row", "column"], na_position="first", kind="stable").reset_index(drop=True)

    # quarantine every row with an error; a person whose enrolment row is quarantined takes their rounds along
    row_err = err[err["row"].notna()]
    reasons = row_err.groupby(["file", "sheet", "row"])["check"].agg(lambda s: ",".join(sorted(set(s))))
    reasons.index = pd.MultiIndex.from_arrays([reasons.index.get_level_values(i).astype(object if i < 2 else "int64")
                                               for i in range(3)]) if len(reasons) else reasons.index

    def flagged(f: pd.DataFrame) -> np.ndarray:
        if not len(f) or not len(reasons):
            return np.zeros(len(f), bool)
        keys = pd.MultiIndex.from_arrays([f["_file"].astype(object), f["_sheet"].astype(object), f["_row"].astype("int64")])
        return np.asarray(keys.isin(reasons.index), dtype=bool)

    q_enrol, q_meas = flagged(enrol), flagged(meas)
    kept_enrol = enrol[~q_enrol]
    dropped_people = set(enrol.loc[q_enrol, "participant_id"].dropna()) - set(kept_enrol["participant_id"].dropna())
    q_meas_person = meas["participant_id"].isin(dropped_people).to_numpy() & ~q_meas if len(meas) else q_meas
    quarantine = pd.concat([
        _quarantined(enrol[q_enrol], reasons),
        _quarantined(meas[q_meas], reasons),
        _quarantined(meas[q_meas_person], None, "enrolment_quarantined"),
    ], ignore_index=True)
    kept_meas = _merge_rounds(meas[~(q_meas | q_meas_person)])
    # rows of the files (a row of a long file is both an enrolment and a measurement row: counted once)
    n_rows = sum(len(g.rows) for g in grids)
    q_rows = len(set(zip(quarantine["file"], quarantine["sheet"], quarantine["row"].astype(int))))
    return Records(
        enrolment=kept_enrol.drop(columns=_META).reset_index(drop=True),
        measurements=kept_meas.drop(columns=_META).reset_index(drop=True),
        errors=err, files=pd.DataFrame(file_rows, columns=["file", "sheet", "kind", "encoding", "header_rows", "rows",
                                                           "columns", "ignored"]),
        quarantine=quarantine, rows_read=n_rows, rows_quarantined=q_rows,
        rows_kept=n_rows - q_rows, rows_repeated=int(repeated.sum()), files_refused=refused,
    )


def _conflicts(meas: pd.DataFrame, grids: list[Grid]) -> list[dict[str, object]]:
    """A measure given for the same person and round in two sheets with different values: the later row is wrong."""
    if not len(meas) or "round" not in meas:
        return []
    keyed = meas[meas["participant_id"].notna() & meas["round"].notna()]
    keyed = keyed[~keyed.duplicated(["_grid", "participant_id", "round"])]  # repeats within a sheet are 'duplicate'
    again = keyed.duplicated(["participant_id", "round"], keep=False)
    if not again.any():
        return []
    sub = keyed[again]
    out = []
    for name in [c for c in sub.columns if not c.startswith("_") and c not in ("participant_id", "round", "measured_on")]:
        vals = sub[["participant_id", "round", name]].dropna()
        if vals.empty:
            continue
        first = vals.groupby(["participant_id", "round"])[name].transform("first")
        for idx in vals.index[(vals[name] != first).to_numpy()]:
            g = grids[int(meas.at[idx, "_grid"])]
            out.append({"file": meas.at[idx, "_file"], "sheet": meas.at[idx, "_sheet"], "row": int(meas.at[idx, "_row"]),
                        "column": f"{g.letters[name]} ({g.labels[name]})", "field": name, "check": "conflict"})
    return out


def _merge_rounds(meas: pd.DataFrame) -> pd.DataFrame:
    """One row per person and round: the screening's and the survey's columns side by side (first non-empty)."""
    if not len(meas) or not meas.duplicated(["participant_id", "round"]).any():
        return meas
    return meas.groupby(["participant_id", "round"], sort=False, as_index=False, dropna=False).first()


def _frame(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    if parts:
        return pd.concat(parts, ignore_index=True)
    return pd.DataFrame({**{c: pd.Series(dtype="string") for c in ("participant_id",)},
                         **{m: pd.Series(dtype=object) for m in ("_file", "_sheet")},
                         "_row": pd.Series(dtype=np.int64), "_grid": pd.Series(dtype=np.int64)})


def _quarantined(frame: pd.DataFrame, reasons: pd.Series | None, reason: str = "") -> pd.DataFrame:
    keys = list(zip(frame["_file"], frame["_sheet"], frame["_row"].astype("int64")))
    return pd.DataFrame({"file": frame["_file"].to_numpy(), "sheet": frame["_sheet"].to_numpy(),
                         "row": frame["_row"].to_numpy(np.int64), "participant_id": frame["participant_id"].to_numpy(),
                         "reason": [reasons.get(k, "") for k in keys] if reasons is not None else reason})


def index_dates(enrol: pd.DataFrame, meas: pd.DataFrame) -> pd.Series:
    """Per participant: the enrolment date, else the baseline (기초) measurement date (comparison group)."""
    idx = enrol.set_index("participant_id")["enrolled_on"] if "enrolled_on" in enrol else \
        pd.Series(pd.NaT, index=enrol["participant_id"], dtype="datetime64[ns]")
    idx = idx[~idx.index.duplicated()]
    if "measured_on" in meas and len(meas):
        base = meas[meas["round"] == 0].drop_duplicates("participant_id").set_index("participant_id")["measured_on"]
        idx = idx.fillna(base.reindex(idx.index))
    return idx


def age_at(birth: pd.Series, on: pd.Series) -> pd.Series:
    """Completed years (만 나이) at ``on`` for birth dates ``birth`` (NaN where either is missing)."""
    b, d = pd.to_datetime(birth), pd.to_datetime(on)
    years = d.dt.year - b.dt.year - ((d.dt.month * 100 + d.dt.day) < (b.dt.month * 100 + b.dt.day)).astype(int)
    return years.where(b.notna() & d.notna())


def _age_errors(enrol: pd.DataFrame, meas: pd.DataFrame, grids: list[Grid]) -> list[dict[str, object]]:
    if not len(enrol) or "birth_date" not in enrol:
        return []
    on = index_dates(enrol, meas).reindex(enrol["participant_id"]).to_numpy()
    age = age_at(enrol["birth_date"].reset_index(drop=True), pd.Series(on))
    bad = (age < 19) | (age > 100)
    out = []
    for idx in np.flatnonzero(bad.fillna(False).to_numpy()):
        g = grids[int(enrol["_grid"].iat[idx])]
        out.append({"file": enrol["_file"].iat[idx], "sheet": enrol["_sheet"].iat[idx], "row": int(enrol["_row"].iat[idx]),
                    "column": f"{g.letters['birth_date']} ({g.labels['birth_date']})", "field": "birth_date",
                    "check": "age_out_of_range"})
    return out
