"""Records files -> cell grids with their header found: CSV (UTF-8 / CP949, pandas) and Excel (python-calamine).

A centre's file often starts with title rows (기관명, 작성일, a blank row) and may
have a two-row header whose upper cells are merged over their sub-columns
(``혈압`` over ``수축기`` / ``이완기``). The header is the row (or pair of rows)
among the first :data:`PREVIEW_ROWS` whose labels name the most contract fields;
merged upper cells are carried to the right over the columns below them.
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._contract import BY_NAME
from ._labels import WRONG_UNITS, match, pii_kind, units

PREVIEW_ROWS = 30
SAMPLE_BYTES = 1 << 16
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


class RecordsFileError(ValueError):
    """A whole file cannot be read (no header, wrong encoding, a refused column); names file and column only."""

    def __init__(self, file: str, check: str, column: str = "", detail: str = "", row: int | None = None):
        self.file, self.check, self.column, self.detail, self.row = file, check, column, detail, row
        super().__init__(f"{file}: {check}{' ' + column if column else ''}{': ' + detail if detail else ''}")


@dataclass
class Grid:
    """One sheet (or CSV file) with its header found.

    ``data`` holds the cells below the header (object columns named by contract field,
    unmatched columns dropped), ``rows`` the spreadsheet row number (1-based) of each data row,
    ``labels`` field -> the header label as written, ``letters`` field -> spreadsheet column letter.
    """

    file: str
    sheet: str
    header_rows: tuple[int, ...]
    data: pd.DataFrame
    rows: np.ndarray
    labels: dict[str, str]
    letters: dict[str, str]
    ignored: list[str] = field(default_factory=list)
    encoding: str = ""
    raw_other: pd.DataFrame | None = None  # unmatched columns (scanned for identifiers, never stored)


def column_letter(j: int) -> str:
    """0 -> 'A', 26 -> 'AA' (spreadsheet column names)."""
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _header_candidates(preview: list[list[object]], table: dict[str, str]):
    """Yield (score, header row indices, labels per column) for one- and two-row headers."""
    for r, row in enumerate(preview):
        top = [_text(v) for v in row]
        one = [match(v, table) for v in top]
        yield sum(m is not None for m in one), (r,), top, top
        if r + 1 < len(preview):
            below = [_text(v) for v in preview[r + 1]]
            width = max(len(top), len(below))
            top += [""] * (width - len(top))
            below += [""] * (width - len(below))
            filled, carry = [], ""
            for j in range(width):  # a merged upper cell covers the blanks to its right that have a label below
                if top[j]:
                    carry = top[j]
                elif not below[j]:
                    carry = ""
                filled.append(top[j] or (carry if below[j] else ""))
            labels, shown = [], []
            for up, low in zip(filled, below):
                options = [low, up + low, low + up] if low and up else [low or up]
                labels.append(next((o for o in options if match(o, table)), options[0]))
                shown.append(f"{up} / {low}" if up and low else (low or up))
            score = sum(match(v, table) is not None for v in labels)
            if any(below) and any(top):
                yield score, (r, r + 1), labels, shown


def find_header(preview: list[list[object]], table: dict[str, str]
                ) -> tuple[tuple[int, ...], list[str], list[str]] | None:
    """The header row(s) (0-based indices into ``preview``), the label each column is matched by and the
    label as staff see it (``혈압 / 수축기`` for a merged header), or None."""
    best = None
    for score, rows, labels, shown in _header_candidates(preview, table):
        has_id = any(match(v, table) == "participant_id" for v in labels)
        if score >= 2 and has_id and (best is None or score > best[0]):
            best = (score, rows, labels, shown)
    return None if best is None else (best[1], best[2], best[3])


def _assign(file: str, sheet: str, header: tuple[int, ...], labels: list[str], display: list[str],
            cells: pd.DataFrame, first_row: int, table: dict[str, str], encoding: str = "") -> Grid:
    """Name the columns by field; refuse identifier columns and wrong units; keep the rest aside for the
    identifier scan."""
    fields: dict[str, int] = {}
    letters, shown, ignored = {}, {}, []
    for j, label in enumerate(labels):
        kind = pii_kind(label) or next((pii_kind(p) for p in display[j].split(" / ") if pii_kind(p)), None)
        if kind is not None:
            raise RecordsFileError(file, "pii_column", f"{column_letter(j)} ({display[j]})",
                                   f"a column of {kind}s is not accepted; remove it before handing the file over")
        f = match(label, table) if label else None
        if f == "-" or f is None:
            if label:
                ignored.append(display[j])
            continue
        if f in fields:
            raise RecordsFileError(file, "duplicate_column", f"{column_letter(fields[f])} ({display[fields[f]]}) / "
                                   f"{column_letter(j)} ({display[j]})", f"both name the field '{f}'")
        wrong = [u for u in units(display[j]) if u in WRONG_UNITS.get(f, ())]
        if wrong:
            raise RecordsFileError(file, "wrong_unit", f"{column_letter(j)} ({display[j]})",
                                   f"unit {wrong[0]}; the contract's unit is {BY_NAME[f].unit} (convert before hand-over)")
        fields[f] = j
        letters[f], shown[f] = column_letter(j), display[j]
    width = cells.shape[1]
    data = pd.DataFrame({f: cells.iloc[:, j] if j < width else pd.Series([""] * len(cells), dtype=object)
                         for f, j in fields.items()})
    other_idx = [j for j in range(min(width, len(labels))) if j not in fields.values() and labels[j]]
    other = cells.iloc[:, other_idx].copy() if other_idx else None
    if other is not None:
        other.columns = [f"{column_letter(j)} ({display[j]})" for j in other_idx]
    rows = np.arange(len(cells)) + first_row
    # rows with every cell empty are spacing, not records
    filled = (cells.ne("") & cells.notna()).any(axis=1).to_numpy() if len(cells) else np.zeros(0, bool)
    data, rows = data[filled].reset_index(drop=True), rows[filled]
    other = other[filled].reset_index(drop=True) if other is not None else None
    return Grid(file, sheet, tuple(h + 1 for h in header), data, rows, shown, letters, ignored, encoding, other)


def _encoding(path: Path) -> str:
    head = path.read_bytes()[:SAMPLE_BYTES] if path.stat().st_size <= SAMPLE_BYTES else path.open("rb").read(SAMPLE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    cut = head[: head.rfind(b"\n") + 1] or head
    for enc in ("utf-8", "cp949"):
        try:
            cut.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    raise RecordsFileError(str(path), "encoding", detail="not UTF-8 or CP949 (EUC-KR) text")


def read_csv(path: Path, table: dict[str, str], name: str | None = None) -> list[Grid]:
    """A CSV file's grid: encoding sniffed (UTF-8, else CP949), header found, cells as text (pandas' C parser)."""
    name = name or str(path)
    enc = _encoding(path)
    with path.open("r", encoding=enc, errors="replace", newline="") as fh:
        lines = [ln for _, ln in zip(range(PREVIEW_ROWS), fh)]
    sample = "".join(lines)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    preview = list(csv.reader(io.StringIO(sample), delimiter=sep))
    found = find_header(preview, table)
    if found is None:
        raise RecordsFileError(name, "no_header", detail=f"no header row with 참여자번호 and another known column in the first {PREVIEW_ROWS} rows")
    header, labels, display = found
    start = header[-1] + 1
    width = max(len(labels), max((len(r) for r in preview[start:]), default=0))
    for attempt in (enc, "cp949" if enc.startswith("utf-8") else None):
        if attempt is None:
            raise RecordsFileError(name, "encoding", detail="not UTF-8 or CP949 (EUC-KR) text")
        try:
            cells = pd.read_csv(path, encoding=attempt, sep=sep, header=None, skiprows=start, dtype=str,
                                names=list(range(width)), keep_default_na=False, na_filter=False,
                                skip_blank_lines=False, engine="c")
            enc = attempt
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as exc:  # pandas names the line; the cells stay unquoted
            line = _line_of(str(exc))
            raise RecordsFileError(name, "ragged_row", row=None if line is None else line + start,
                                   detail="a row has more cells than the header") from None
    return [_assign(name, "", header, labels, display, cells, start + 1, table, enc)]


def _line_of(message: str) -> int | None:
    import re

    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def read_excel(path: Path, table: dict[str, str], name: str | None = None) -> list[Grid]:
    """Every sheet with a header (python-calamine); sheets without one (notes, codes) are skipped."""
    from python_calamine import CalamineWorkbook

    name = name or str(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine's message names the part that is damaged, not cell values
        raise RecordsFileError(name, "unreadable", detail=f"not a readable workbook ({type(exc).__name__})") from None
    grids = []
    for sheet_name in book.sheet_names:
        sheet = book.get_sheet_by_name(sheet_name)
        rows = sheet.to_python(skip_empty_area=False)
        found = find_header(rows[:PREVIEW_ROWS], table)
        if found is None:
            continue
        header, labels, display = found
        start = header[-1] + 1
        body = rows[start:]
        width = max(len(labels), max((len(r) for r in body), default=0))
        cells = pd.DataFrame(body, columns=range(width) if body else None, dtype=object) if body else \
            pd.DataFrame(columns=range(width), dtype=object)
        grids.append(_assign(name, sheet_name, header, labels, display, cells, start + 1, table))
    if not grids:
        raise RecordsFileError(name, "no_header", detail=f"no sheet has a header row with 참여자번호 and another "
                                                        f"known column in its first {PREVIEW_ROWS} rows")
    return grids


def read_grids(path: str | Path, table: dict[str, str], name: str | None = None) -> list[Grid]:
    """The grids of one records file (CSV / TXT, or an Excel workbook: every sheet with a header)."""
    path = Path(path)
    if not path.is_file():
        raise RecordsFileError(name or str(path), "missing", detail="file not found")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_excel(path, table, name)
    return read_csv(path, table, name)
