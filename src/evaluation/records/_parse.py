"""Cells -> typed contract columns. A cell that cannot be read becomes missing and one error (never its value).

Numbers go through :func:`pandas.to_numeric`; dates, codes and yes/no answers are
decided once per distinct value (a column of 100,000 rows has a few hundred).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Callable

import numpy as np
import pandas as pd

from ._contract import ARM_VALUES, BINARY_VALUES, BY_NAME, GROUP_VALUES, ROUND_ALIASES, SEX_VALUES

MISSING = {"", "-", ".", "na", "n/a", "nan", "none", "null", "미측정", "결측", "미실시", "미응답", "무응답"}
_BAD = object()
_UNIT_TAIL = re.compile(r"\s*(cm|mmhg|mg/dl|kg/m2|kg/m²|일/주|일|회/주|회|점)\s*$", re.I)
_DATE = re.compile(r"^(\d{4})[-./\s년]+(\d{1,2})[-./\s월]+(\d{1,2})\s*일?\.?(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _key(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v))).lower()


def _missing_mask(col: pd.Series) -> np.ndarray:
    m = col.isna().to_numpy()
    obj = ~m
    if obj.any():
        m = m | col.astype(str).str.strip().str.lower().isin(MISSING).to_numpy()
    return m


def _by_value(col: pd.Series, fn: Callable[[object], object], kind: str = "object") -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fn`` once per distinct value; returns (values, bad mask). ``fn`` returns ``_BAD`` for unreadable.

    ``kind``: 'object', 'date' (datetime64[ns]) or 'float'; the typed array is built on the distinct values.
    """
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    mapped = [fn(u) for u in uniques]
    bad_u = np.array([m is _BAD for m in mapped], dtype=bool)
    vals = [None if m is _BAD else m for m in mapped] + [None]  # code -1 picks the trailing None
    if kind == "date":
        typed = pd.to_datetime(pd.Series(vals, dtype=object), errors="coerce").to_numpy("datetime64[ns]")
    elif kind == "float":
        typed = pd.to_numeric(pd.Series(vals, dtype=object), errors="coerce").to_numpy(float)
    else:
        typed = np.array(vals, dtype=object)
    return typed[codes], np.append(bad_u, False)[codes]


def parse_date(v: object) -> object:
    """A date cell -> ``pd.Timestamp`` (date only), ``None`` when empty, ``_BAD`` when unreadable.

    Accepts Excel dates, Excel serial numbers, ``2023-03-06``, ``2023.3.6``, ``2023/03/06``,
    ``20230306`` and ``2023년 3월 6일``.
    """
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return pd.Timestamp(v).normalize()
    if isinstance(v, dt.date):
        return pd.Timestamp(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        x = float(v)
        if 19000101 <= x <= 21001231 and x.is_integer():
            return parse_date(str(int(x)))
        if 1 <= x < 80000:  # an Excel serial day number (a date cell without a date format)
            return _EXCEL_EPOCH + pd.Timedelta(days=int(x))
        return _BAD
    s = unicodedata.normalize("NFKC", str(v)).strip()
    if s.lower() in MISSING:
        return None
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = _DATE.match(s)
    if not m:
        return _BAD
    try:
        return pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return _BAD


def _lookup(table: dict[str, object]) -> Callable[[object], object]:
    keys = {_key(k): v for k, v in table.items()}

    def fn(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        k = _key(v)
        if k in MISSING:
            return None
        return keys.get(k, _BAD)

    return fn


def _district_table() -> dict[str, str]:
    from ..reference import districts

    t = districts.table()
    out: dict[str, str] = {}
    for code, ko, en in zip(t["district"], t["name_ko"], t["name_en"]):
        out.update({code: code, ko: code, f"서울특별시{ko}": code, f"서울시{ko}": code, f"서울{ko}": code,
                    en: code, en.lower().removesuffix("-gu"): code})
        if len(ko) > 2:  # '강남' for 강남구 (not '중' for 중구)
            out[ko.removesuffix("구")] = code
    return out


_PARSERS: dict[str, Callable[[object], object]] = {}


def _parser(kind: str) -> Callable[[object], object]:
    if not _PARSERS:
        _PARSERS.update({"sex": _lookup(SEX_VALUES), "arm": _lookup(ARM_VALUES), "group": _lookup(GROUP_VALUES),
                         "round": _lookup(ROUND_ALIASES),
                         "binary": _lookup(BINARY_VALUES), "district": _lookup(_district_table()), "date": parse_date})
    return _PARSERS[kind]


def _id_text(col: pd.Series) -> np.ndarray:
    def fn(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        s = unicodedata.normalize("NFKC", str(v)).strip()
        return None if s.lower() in MISSING else s

    return _by_value(col, fn)[0]


def _numbers(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    empty = np.isnan(num)
    if not empty.any():
        return num, empty
    pos = np.flatnonzero(empty)
    missing = _missing_mask(col.iloc[pos])
    retry = pos[~missing]
    if len(retry):  # thousands separators, a unit after the number ("85 cm", "3일")
        cleaned = col.iloc[retry].astype(str).str.strip().str.replace(",", "", regex=False).str.replace(_UNIT_TAIL, "", regex=True)
        num[retry] = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.zeros(len(num), bool)
    bad[retry] = np.isnan(num[retry])
    return num, bad


def parse(data: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Typed columns for a grid's cells and, per field, the mask of cells that could not be read.

    Kinds: id -> str; date -> datetime64; sex 'M'/'F'; district code; arm; group; round -> week (0/12/24);
    number -> float; int -> float holding whole numbers (NaN allowed); binary -> 0.0/1.0.
    """
    out: dict[str, object] = {}
    bad: dict[str, np.ndarray] = {}
    for name in data.columns:
        f = BY_NAME[name]
        col = data[name]
        if f.kind == "id":
            out[name] = pd.array(_id_text(col), dtype="string")
            continue
        if f.kind in ("number", "int"):
            vals, b = _numbers(col)
            if f.kind == "int":
                whole = np.isnan(vals) | (np.mod(vals, 1) == 0)
                b = b | ~whole
                vals = np.where(whole, vals, np.nan)
            out[name], bad[name] = vals, b
            continue
        kind = "date" if f.kind == "date" else "float" if f.kind in ("round", "binary") else "object"
        vals, b = _by_value(col, _parser(f.kind), kind)
        out[name] = pd.array(vals, dtype="string") if kind == "object" else vals
        bad[name] = b
    return pd.DataFrame(out, index=data.index), bad


CHECK_FOR_KIND = {"number": "not_number", "int": "not_whole_number", "date": "not_date", "sex": "not_sex",
                  "district": "not_district", "arm": "not_arm", "group": "not_group", "round": "not_round",
                  "binary": "not_yes_no"}
