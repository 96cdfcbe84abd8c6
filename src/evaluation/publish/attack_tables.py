"""A published table as an attacker models it: dimensions, margins, listed rows, and the facts each row gives.

For one count column of one table, :func:`model` finds the dimension columns
(text, dates, integers, integer-valued bins), reads each row as "the people in
these levels" (a level such as ``all``/``합계`` or an empty one is a margin),
and turns the rows into :class:`~evaluation.publish.attack_lp.Fact` objects in
three layers of attacker knowledge:

* ``exact``: the printed counts (and margins) themselves;
* ``presence``: a listed row has at least one person when the column prints no
  zeros, a cell missing from the grid of listed levels has none, and a person-day
  column in the same row bounds the people (``n <= person_days <= 7 n`` by week);
* ``rule``: the publisher's rule read backwards -- a printed ``reason`` saying
  "primary", or a table with no totals (so nothing to complement), means a
  withheld count is 1 to threshold - 1.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .attack_lp import INF, Fact, perturbed_range
from .published import NOT_DIMENSIONS, is_person_count, is_person_days, is_total

TIME_WORDS = ("week", "date", "day", "period", "month", "year", "time")
_BIN_WORDS = ("week", "from", "to", "year", "month", "hour", "bin", "band", "quintile", "day", "period")
ONLY_WHEN_SMALL = "withheld only when small (no totals to protect)"
SMALL_REASONS = ("primary", "small", "below", "미만", "fewer")


@dataclass
class TableModel:
    """One count column of one table, as facts over its dimensions."""

    table: str
    column: str
    dims: list[str]
    facts: dict[str, list[Fact]] = field(default_factory=dict)  # layer -> facts
    has_margins: bool = False
    time_dims: list[str] = field(default_factory=list)
    # person-day columns: the withheld person counts of the same table, by row, which their bound bounds too
    siblings: dict[str, list[Fact]] = field(default_factory=dict)

    @property
    def withheld(self) -> list[Fact]:
        return [f for f in self.facts.get("exact", []) if f.target]


def _level(v: object) -> str | None:
    if is_total(v):
        return None
    if isinstance(v, pd.Timestamp):
        return str(v.date()) if v == v.normalize() else str(v)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def dimensions(df: pd.DataFrame) -> list[str]:
    """Columns that split people: text, categories, dates, integers, integer-valued bins; minus redundant ones."""
    dims = []
    for c in df.columns:
        lc = str(c).lower()
        if lc in NOT_DIMENSIONS or is_person_count(lc) or is_person_days(lc) or lc.endswith("_suppressed"):
            continue
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            continue
        if pd.api.types.is_float_dtype(s):
            vals = s.dropna()
            if not (len(vals) and np.all(np.mod(vals, 1) == 0) and any(w in lc for w in _BIN_WORDS)):
                continue
        elif pd.api.types.is_integer_dtype(s):
            if not any(w in lc for w in _BIN_WORDS + ("rank", "wave", "level", "group")):
                continue  # an integer amount (won, rows, minutes), not a level
        elif not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype)
                  or pd.api.types.is_datetime64_any_dtype(s)):
            continue
        if pd.api.types.is_object_dtype(s) and s.dropna().map(lambda v: isinstance(v, (list, dict))).any():
            continue
        dims.append(str(c))
    if "dimension" in dims and "level" in dims:
        dims.remove("dimension")
    # a column that only renames another (a district's name beside its code, a bin's upper edge) adds nothing
    keep: list[str] = []
    for c in dims:
        key = df[c].astype(str)
        if not any(df.groupby(df[k].astype(str), dropna=False)[c].nunique(dropna=False).max() <= 1
                   and df.groupby(key, dropna=False)[k].nunique(dropna=False).max() <= 1 for k in keep):
            keep.append(c)
    return keep


def where_of(row: pd.Series, dims: list[str]) -> dict[str, frozenset]:
    where: dict[str, frozenset] = {}
    for d in dims:
        if d == "level" and "dimension" in row.index:
            dim, lv = _level(row["dimension"]), _level(row["level"])
            if dim is not None and lv is not None:
                where[dim] = frozenset([lv])
            continue
        lv = _level(row[d])
        if lv is not None:
            where[d] = frozenset([lv])
    return where


def describe(where: dict[str, frozenset]) -> str:
    return ", ".join(f"{k}={'|'.join(sorted(v))}" for k, v in sorted(where.items())) or "total"


def _sort_key(level: str) -> tuple:
    try:
        return (0, float(level), "")
    except ValueError:
        return (1, 0.0, level)


def _constant_dims(df: pd.DataFrame, dims: list[str], column: str) -> list[str]:
    """Dimensions a column does not vary with (people with data on a date, repeated on every flag's row)."""
    out = []
    vals = pd.to_numeric(df[column], errors="coerce").astype(float)
    for d in dims:
        others = [x for x in dims if x != d and x not in out]
        if d == "level" or not others:
            continue
        keys = [df[x].astype(str) for x in others]
        g = vals.fillna(-1).groupby(keys, dropna=False)
        sizes, uniq = g.size(), g.nunique()
        if (sizes >= 2).sum() >= 3 and (uniq[sizes >= 2] == 1).all() and df[d].nunique() > 1:
            out.append(d)
    return out


def _cumulative(df: pd.DataFrame, dims: list[str], wheres: list[dict], name: str, noise: float,
                threshold: int) -> tuple[list[Fact], list[Fact]]:
    """A running total over a time dimension is the sum of the column's cells up to and including its period;
    a ``cumulative_suppressed`` flag on a withheld one says it is small (exact facts, rule facts)."""
    time_dim = next((d for d in dims if any(t in d.lower() for t in TIME_WORDS)), None)
    if time_dim is None:
        return [], []
    flag = df["cumulative_suppressed"].fillna(False).astype(bool).to_numpy() if "cumulative_suppressed" in df else None
    rule = []
    levels = sorted({next(iter(w[time_dim])) for w in wheres if time_dim in w}, key=_sort_key)
    vals = pd.to_numeric(df["cumulative"], errors="coerce").astype(float)
    out = []
    for i, (w, v) in enumerate(zip(wheres, vals)):
        if time_dim not in w:
            continue
        p = next(iter(w[time_dim]))
        upto = frozenset(lv for lv in levels if _sort_key(lv) <= _sort_key(p))
        where = {**{k: s for k, s in w.items() if k != time_dim}, time_dim: upto}
        cell = describe({k: s for k, s in w.items()}) + ": cumulative"
        if np.isnan(v):
            out.append(Fact(where, 0.0, INF, name, cell, target=True))
            if flag is not None and flag[i]:
                rule.append(Fact(where, 0.0, float(threshold - 1), name, cell, how="printed reason or flag"))
        else:
            out.append(Fact(where, max(0.0, v - noise), v + noise, name, cell, target=noise > 0 and v > 0,
                            band=2 * noise if v > 0 else 0.0))
    return out, rule


def _sums_printed(df: pd.DataFrame, dims: list[str], column: str) -> bool:
    """Whether a running total is the sum of the printed (perturbed) periods: then it says nothing more."""
    time_dim = next((d for d in dims if any(t in d.lower() for t in TIME_WORDS)), None)
    if time_dim is None:
        return False
    others = [d for d in dims if d != time_dim]
    s = df.sort_values(time_dim)
    vals = pd.to_numeric(s[column], errors="coerce").fillna(0)
    run = vals.groupby([s[d].astype(str) for d in others]).cumsum() if others else vals.cumsum()
    return bool(np.allclose(run.to_numpy(float), pd.to_numeric(s["cumulative"], errors="coerce").to_numpy(float)))


def model(name: str, df: pd.DataFrame, column: str, *, threshold: int, noise: float = 0.0,
          perturbed: bool = False) -> TableModel:
    """The facts one count column of a table gives an attacker (see the module docstring).

    ``perturbed``: the table's counts are cell-key perturbed (its Parquet metadata says so): each printed
    count is read as the window of true counts the published method maps to it
    (:func:`attack_lp.perturbed_range`), and is a target, exposed only when pinned beyond that window."""
    dims = dimensions(df)
    constant = _constant_dims(df, dims, column)
    dims = [d for d in dims if d not in constant]
    m = TableModel(name, column, dims)
    vals = pd.to_numeric(df[column], errors="coerce").astype(float)
    wheres = [where_of(r, dims) for _, r in df.iterrows()]
    restricted = [frozenset(w) for w in wheres]
    m.has_margins = any(len(r) < max(map(len, restricted), default=0) for r in restricted) or \
        ("margin" in df.columns and df["margin"].fillna(False).astype(bool).any())
    all_dims = sorted({k for w in wheres for k in w})
    m.time_dims = [d for d in all_dims if any(t in d.lower() for t in TIME_WORDS)]
    exact, presence, rule = [], [], []
    seen: dict[tuple, int] = {}
    reason_col = next((c for c in df.columns if str(c).lower() in ("reason", "note", "flag_reason")), None)
    flag_cols = [c for c in df.columns if str(c).lower().endswith("_suppressed") and str(c).lower() != "suppressed"
                 and str(c).lower().split("_")[0] in column.lower()]
    zeros_printed = bool((vals == 0).any())
    companions = [c for c in df.columns if c != column and pd.api.types.is_numeric_dtype(df[c])
                  and (is_person_days(str(c)) or str(c).lower() in ("minutes", "events_minutes", "flagged_minutes"))]
    for i, (where, v) in enumerate(zip(wheres, vals)):
        key = tuple(sorted((k, tuple(sorted(s))) for k, s in where.items()))
        cell = describe(where)
        if key in seen:  # the same count printed on several rows (one per metric)
            continue
        seen[key] = i
        if np.isnan(v):
            exact.append(Fact(where, 0.0, INF, name, f"{cell}: {column}", target=True))
            row = df.iloc[i]
            reason = str(row[reason_col]).lower() if reason_col is not None and pd.notna(row[reason_col]) else ""
            lo = 1.0 if not zeros_printed else 0.0
            hi = INF
            for c in companions:
                p = pd.to_numeric(pd.Series([row[c]]), errors="coerce").iloc[0]
                if pd.isna(p):
                    continue
                if p == 0:
                    hi = 0.0
                elif is_person_days(str(c)):
                    hi = min(hi, float(p))
                    span = 7 if any("week" in d.lower() for d in where) else (1 if any(w in d.lower() for d in where for w in ("date", "day")) else None)
                    if span:
                        lo = max(lo, float(math.ceil(p / span)))
                else:
                    lo = max(lo, 1.0)
            if lo > 0 or np.isfinite(hi):
                presence.append(Fact(where, lo, hi, name, f"{cell}: {column}", how="listed row / person-days"))
            small = any(w in reason for w in SMALL_REASONS) or any(bool(row[c]) for c in flag_cols if pd.notna(row[c]))
            if is_person_count(column) and (small or reason_col is None):
                rule.append(Fact(where, 0.0, float(threshold - 1), name, f"{cell}: {column}",
                                 how="printed reason or flag" if small else ONLY_WHEN_SMALL))
        elif perturbed:
            lo_p, hi_p = perturbed_range(v, threshold)
            exact.append(Fact(where, lo_p, hi_p, name, f"{cell}: {column}", target=hi_p > lo_p, band=hi_p - lo_p,
                              perturbed=True))
        else:
            exact.append(Fact(where, max(0.0, v - noise), v + noise, name, f"{cell}: {column}", target=noise > 0 and v > 0,
                              band=2 * noise if v > 0 else 0.0))
    # a cell missing from the grid of listed levels holds nobody (when the table prints no zeros)
    if not zeros_printed:
        by_shape: dict[frozenset, set[tuple]] = {}
        for w in wheres:
            by_shape.setdefault(frozenset(w), set()).add(tuple(sorted((k, next(iter(s))) for k, s in w.items())))
        for shape, listed in by_shape.items():
            if not shape:
                continue
            levels = {k: sorted({dict(t)[k] for t in listed}) for k in shape}
            grid = list(itertools.product(*(levels[k] for k in sorted(shape))))
            if len(grid) > 50_000 or len(grid) == len(listed):
                continue
            for combo in grid:
                t = tuple(zip(sorted(shape), combo))
                if t not in listed:
                    presence.append(Fact({k: frozenset([v]) for k, v in t}, 0.0, 0.0, name, "absent row",
                                         how="missing row means 0"))
    if column != "cumulative" and "cumulative" in df.columns and not (perturbed and _sums_printed(df, dims, column)):
        cum, cum_rule = _cumulative(df, dims, wheres, name, noise, threshold)
        exact += cum
        rule += cum_rule
    m.facts = {"exact": exact, "presence": presence, "rule": rule}
    return m


def count_columns(df: pd.DataFrame) -> list[str]:
    """Person-count and person-day columns of a table."""
    cols = [str(c) for c in df.columns if (is_person_count(str(c)) or is_person_days(str(c)))
            and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    if "cumulative" in cols and any(is_person_count(c) for c in cols if c != "cumulative"):
        cols.remove("cumulative")  # a running total of the other count: modelled with it (see _cumulative)
    return cols
