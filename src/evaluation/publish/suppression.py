"""Small-cell suppression for anything staff see.

Two steps, following the usual statistical-disclosure-control practice
(e.g. Statistics Korea's and ONS's rules for frequency tables):

* **Primary suppression** (:func:`primary`): a cell resting on fewer than
  ``threshold`` participants (default 10) has its estimate, CI, counts and
  ``n`` blanked (NaN / <NA>) and ``suppressed=True``; :func:`display` prints it
  as :data:`MARKER`.
* **Complementary suppression** (:func:`protect`): in an additive two-way
  table published with row / column / grand totals, a lone suppressed cell
  could be recovered by subtraction from its total. :func:`protect` first
  applies the classic rule (a line with exactly one suppressed cell loses its
  next-smallest cell as well) and then audits the whole table as a linear
  system -- every published cell and margin is a known, every relation
  ``row = sum of its cells`` is an equation -- and keeps suppressing the
  smallest neighbour of any suppressed value that the equations still pin
  down, until none is. The audit is hand-written (a null-space test with
  numpy) because the SDC libraries that do this (sdcMicro, tau-Argus) are
  R / Java tools.
* **Protection level** (:func:`feasible_intervals`): exact recovery is not the
  only leak. A line ``[3, 4, 50]`` with total 57 and the 3 and 4 withheld lets
  anyone derive ``3 + 4 = 7`` -- both cells are known to be small. Following
  the attacker model of sdcTable's ``attack()`` and tau-Argus' protection
  intervals (GaussSuppression calls the absolute width ``rangeMin``), every
  withheld primary value gets its feasible interval ``[lo, hi]``: the smallest
  and largest value (linear programming, ``scipy.optimize.linprog``/HiGHS) it
  can take given every published number, the additivity relations and
  non-negativity, rounded inwards to integers. **Rule: a withheld primary
  value is safe only if ``hi - lo >= threshold``.** Since a primary count is
  below the threshold and ``lo >= 0``, this gives ``hi >= threshold``: an
  analyst cannot even tell that the cell is small. In a single line this is
  the classic protection-level rule "the withheld cells of a published line
  sum to at least the threshold", which :func:`protect` applies first (cheap),
  then the LP audit decides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from . import i18n

MARKER = "x"  # Statistics Korea prints "x" for cells withheld for confidentiality
DEFAULT_THRESHOLD = 10
VALUE_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "n", "n_days")

i18n.register({
    "total": {"ko": "합계", "en": "Total"},
    "suppressed_note": {
        "ko": "x: 참여자 {k}명 미만 또는 합계로 역산 가능한 칸은 비공개",
        "en": "x: withheld (fewer than {k} participants, or recoverable from a total)",
    },
})


def primary(df: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, *, n: str = "n",
            columns: Sequence[str] = VALUE_COLUMNS) -> pd.DataFrame:
    """Blank every row whose ``n`` (participants) is below ``threshold``; adds/updates ``suppressed``.

    Rows with ``n`` missing count as suppressed. ``threshold=0`` suppresses nothing.
    """
    if n not in df.columns:
        raise ValueError(f"column {n!r} (participants per cell) is missing; have {list(df.columns)}")
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    out = df.copy()
    counts = pd.to_numeric(out[n], errors="coerce")
    small = (counts < threshold) | counts.isna() if threshold > 0 else pd.Series(False, index=out.index)
    prev = out["suppressed"].fillna(False).astype(bool) if "suppressed" in out else False
    out["suppressed"] = small.to_numpy() | np.asarray(prev)
    return mask(out, columns=columns)


def mask(df: pd.DataFrame, *, columns: Sequence[str] = VALUE_COLUMNS) -> pd.DataFrame:
    """Blank ``columns`` where ``suppressed`` is True (integer columns become nullable)."""
    out = df.copy()
    sup = out["suppressed"].to_numpy(bool)
    for col in columns:
        if col not in out:
            continue
        if pd.api.types.is_integer_dtype(out[col]) and not pd.api.types.is_extension_array_dtype(out[col]):
            out[col] = out[col].astype("Int64")
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype("boolean")
        out.loc[sup, col] = pd.NA if pd.api.types.is_extension_array_dtype(out[col]) else np.nan
    return out


def display(df: pd.DataFrame, *, columns: Sequence[str] = ("n", "estimate", "ci_low", "ci_high"),
            digits: int = 1, marker: str = MARKER) -> pd.DataFrame:
    """Strings for staff: numbers formatted with thousands separators, suppressed cells as ``marker``."""
    out = df.copy()
    sup = out["suppressed"].to_numpy(bool) if "suppressed" in out else np.zeros(len(out), bool)
    for col in columns:
        if col not in out:
            continue
        vals = pd.to_numeric(out[col], errors="coerce")
        nd = 0 if col in ("n", "n_days") else digits
        text = [("" if pd.isna(v) else f"{v:,.{nd}f}") for v in vals]
        out[col] = np.where(sup, marker, text)
    return out


def check(df: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, *, n: str = "n") -> None:
    """Raise ``ValueError`` if a row with ``n < threshold`` still shows a number (for stores and dashboards)."""
    if n not in df.columns:
        return
    counts = pd.to_numeric(df[n], errors="coerce")
    bad = df.index[(counts < threshold).fillna(False).to_numpy()]
    if len(bad):
        raise ValueError(f"{len(bad)} row(s) with {n} < {threshold} are not suppressed (first row {bad[0]!r})")


def complement(df: pd.DataFrame, along: str | Sequence[str], *, by: Sequence[str], n: str = "n",
               columns: Sequence[str] = VALUE_COLUMNS, protection: int | None = None,
               counts: Sequence[float] | None = None) -> pd.DataFrame:
    """Complementary suppression of a long cohort table whose totals over ``along`` are published elsewhere.

    A cell is the set of rows sharing the ``by`` keys (all its metrics). Within
    each combination of the other keys, the cells along ``along`` add up to a
    total that another table (or another partition, e.g. by sex instead of by
    district) publishes; if exactly one cell there is withheld, the cell with the
    fewest participants among the published ones is withheld as well, so only the
    sum of two or more withheld cells can be derived -- and more cells are
    withheld until that sum reaches ``protection`` (the protection level,
    normally the primary threshold). The sums need the true participants per
    row, ``counts`` (``n`` before :func:`primary` blanked it); without them only
    the lone-cell rule applies. A cell with any withheld row is withheld as a
    whole, so its published metrics cannot hint at its count.
    """
    along = [along] if isinstance(along, str) else list(along)
    by = list(by)
    missing = [k for k in along if k not in by]
    if missing:
        raise ValueError(f"complement keys {missing} must be among the grouping keys {by}")
    out = df.copy()
    if out.empty:
        return out
    cell_id = out.groupby(by, dropna=False, observed=True, sort=False).ngroup().to_numpy()
    sup_rows = out["suppressed"].to_numpy(bool)
    ncell = cell_id.max() + 1
    cell_sup = np.zeros(ncell, bool)
    np.logical_or.at(cell_sup, cell_id, sup_rows)
    true_n = pd.to_numeric(pd.Series(np.asarray(counts if counts is not None else out[n])), errors="coerce").to_numpy(float)
    if len(true_n) != len(out):
        raise ValueError(f"counts has {len(true_n)} values for {len(out)} rows")
    cell_n = pd.Series(true_n).groupby(cell_id).min().reindex(range(ncell)).to_numpy()
    others = [k for k in by if k not in along]
    first = pd.Series(np.arange(len(out))).groupby(cell_id).first().to_numpy()
    keys = out.iloc[first][others].reset_index(drop=True) if others else pd.DataFrame(index=range(ncell))
    groups = keys.groupby(others, dropna=False, observed=True, sort=False).indices if others else {(): np.arange(ncell)}
    threshold = 0 if protection is None else protection
    for members in groups.values():
        members = np.asarray(members)
        # protection level: the withheld cells must not be alone nor sum to a small, derivable count
        while len(members) > 1 and cell_sup[members].any() and (
                cell_sup[members].sum() == 1 or np.nansum(cell_n[members][cell_sup[members]]) < threshold):
            free = members[~cell_sup[members]]
            if not len(free):
                break
            pick = free[np.nanargmin(np.where(np.isnan(cell_n[free]), np.inf, cell_n[free]))]
            cell_sup[pick] = True
    out["suppressed"] = cell_sup[cell_id]
    return mask(out, columns=columns)


# --------------------------------------------------------------------------- two-way tables with totals

Totals = Literal["both", "rows", "cols", "none"]


@dataclass
class SuppressedTable:
    """A protected two-way count table with its margins.

    Attributes
    ----------
    values : DataFrame (rows x cols) of the true counts (never shown; for audits)
    suppressed : DataFrame of bool, same shape: withheld cells
    reason : DataFrame of str: "" / "primary" / "complementary"
    row_totals, col_totals : Series of the totals (NaN where the axis has no published totals)
    row_total_suppressed, col_total_suppressed : Series of bool
    grand_total : float ; grand_suppressed : bool
    """

    values: pd.DataFrame
    suppressed: pd.DataFrame
    reason: pd.DataFrame
    row_totals: pd.Series
    col_totals: pd.Series
    row_total_suppressed: pd.Series
    col_total_suppressed: pd.Series
    grand_total: float
    grand_suppressed: bool
    totals: str = "both"
    threshold: int = DEFAULT_THRESHOLD
    rows_name: str = "row"
    cols_name: str = "col"
    value_name: str = "value"
    _iterations: int = field(default=0, repr=False)

    # ---- views
    def summary(self) -> pd.DataFrame:
        """Tidy cells and margins: row, col, value (NaN if withheld), suppressed, reason."""
        cells = self.values.stack(future_stack=True).rename(self.value_name).reset_index()
        cells.columns = [self.rows_name, self.cols_name, self.value_name]
        cells["suppressed"] = self.suppressed.stack(future_stack=True).to_numpy()
        cells["reason"] = self.reason.stack(future_stack=True).to_numpy()
        cells["margin"] = False
        parts = [cells]
        if self.totals in ("both", "rows"):
            parts.append(pd.DataFrame({self.rows_name: self.row_totals.index, self.cols_name: None,
                                       self.value_name: self.row_totals.to_numpy(float),
                                       "suppressed": self.row_total_suppressed.to_numpy(),
                                       "reason": "", "margin": True}))
        if self.totals in ("both", "cols"):
            parts.append(pd.DataFrame({self.rows_name: None, self.cols_name: self.col_totals.index,
                                       self.value_name: self.col_totals.to_numpy(float),
                                       "suppressed": self.col_total_suppressed.to_numpy(),
                                       "reason": "", "margin": True}))
        if self.totals != "none":
            parts.append(pd.DataFrame({self.rows_name: [None], self.cols_name: [None],
                                       self.value_name: [self.grand_total], "suppressed": [self.grand_suppressed],
                                       "reason": [""], "margin": [True]}))
        out = pd.concat(parts, ignore_index=True)
        out[self.value_name] = out[self.value_name].astype(float).where(~out["suppressed"].astype(bool))
        return out

    def wide(self, lang: str = "ko", marker: str = MARKER) -> pd.DataFrame:
        """Display table (strings) with a total row/column; withheld values shown as ``marker``."""
        total = i18n.t("total", lang)
        disp = self.values.map(lambda v: f"{v:,.0f}").where(~self.suppressed, marker)
        if self.totals in ("both", "rows"):
            disp[total] = [marker if s else f"{v:,.0f}" for v, s in zip(self.row_totals, self.row_total_suppressed)]
        if self.totals in ("both", "cols"):
            row = [marker if s else f"{v:,.0f}" for v, s in zip(self.col_totals, self.col_total_suppressed)]
            if self.totals == "both":
                row.append(marker if self.grand_suppressed else f"{self.grand_total:,.0f}")
            disp.loc[total] = row
        return disp

    # ---- audit
    def exposed(self) -> list[tuple]:
        """Withheld values the published numbers give away (should be empty).

        Exactly determined values, and primary values whose feasible interval
        (LP over all published cells and margins) is narrower than ``threshold``
        -- e.g. the 3 and 4 of a line ``[3, 4, 50]`` with total 57.
        """
        return _exposed(self)

    def intervals(self) -> pd.DataFrame:
        """Each withheld value's attacker interval ``[lo, hi]`` (see :func:`feasible_intervals`)."""
        return intervals(self)


def _variables(t: SuppressedTable) -> tuple[list[tuple], np.ndarray, np.ndarray, np.ndarray]:
    """All values as variables: (labels, true values, withheld mask, equation matrix)."""
    r, c = t.values.shape
    labels: list[tuple] = [("cell", i, j) for i in range(r) for j in range(c)]
    vals = list(t.values.to_numpy(float).ravel())
    hidden = list(t.suppressed.to_numpy(bool).ravel())
    idx = {lab: k for k, lab in enumerate(labels)}
    rows_pub = t.totals in ("both", "rows")
    cols_pub = t.totals in ("both", "cols")
    if rows_pub:
        for i in range(r):
            idx[("row", i)] = len(labels); labels.append(("row", i))
            vals.append(float(t.row_totals.iloc[i])); hidden.append(bool(t.row_total_suppressed.iloc[i]))
    if cols_pub:
        for j in range(c):
            idx[("col", j)] = len(labels); labels.append(("col", j))
            vals.append(float(t.col_totals.iloc[j])); hidden.append(bool(t.col_total_suppressed.iloc[j]))
    if t.totals != "none":
        idx[("all",)] = len(labels); labels.append(("all",))
        vals.append(float(t.grand_total)); hidden.append(bool(t.grand_suppressed))
    eqs = []
    k = len(labels)
    if rows_pub:
        for i in range(r):
            e = np.zeros(k); e[[idx[("cell", i, j)] for j in range(c)]] = 1; e[idx[("row", i)]] = -1; eqs.append(e)
        e = np.zeros(k); e[[idx[("row", i)] for i in range(r)]] = 1; e[idx[("all",)]] = -1; eqs.append(e)
    if cols_pub:
        for j in range(c):
            e = np.zeros(k); e[[idx[("cell", i, j)] for i in range(r)]] = 1; e[idx[("col", j)]] = -1; eqs.append(e)
        e = np.zeros(k); e[[idx[("col", j)] for j in range(c)]] = 1; e[idx[("all",)]] = -1; eqs.append(e)
    if t.totals == "none":
        # without totals there is nothing to subtract from
        return labels, np.array(vals), np.array(hidden), np.zeros((0, k))
    return labels, np.array(vals), np.array(hidden), np.array(eqs)


def determined(equations: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Which withheld values the published ones pin down exactly.

    ``equations`` (k x v) holds linear relations ``E @ x = 0`` between all ``v``
    values (e.g. ``row total - sum of its cells = 0``); ``hidden`` (bool, v) marks the
    withheld ones. Returns a bool array over the withheld values: True where some
    combination of the relations isolates the value (its unit vector lies in the
    row space of the relations restricted to the withheld values).
    """
    hidden = np.asarray(hidden, bool)
    a = np.asarray(equations, float).reshape(-1, hidden.size)[:, hidden]
    if a.shape[1] == 0 or a.shape[0] == 0:
        return np.zeros(a.shape[1], bool)
    _, s, vt = np.linalg.svd(a, full_matrices=True)
    rank = int((s > 1e-9 * max(1.0, s.max(initial=0))).sum())
    null = vt[rank:]
    comp = np.sqrt((null**2).sum(axis=0)) if null.size else np.zeros(a.shape[1])
    return comp < 1e-8


def lp_bound(a_eq, b_eq, k: int, sense: Literal["min", "max"]):
    """One attacker's LP: min or max of variable ``k`` subject to ``a_eq @ x = b_eq``, ``x >= 0``.

    Returns scipy's ``OptimizeResult`` (HiGHS; ``res.eqlin.marginals`` are the
    duals -- which published numbers hold the bound). ``res.status == 3`` means unbounded.
    """
    from scipy.optimize import linprog

    c = np.zeros(a_eq.shape[1])
    c[k] = 1.0 if sense == "min" else -1.0
    return linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")


def feasible_intervals(equations: np.ndarray, values: np.ndarray, hidden: np.ndarray, *,
                       targets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Attacker's integer-rounded interval ``[lo, hi]`` for each withheld value (counts, >= 0).

    ``equations`` (k x v): relations ``E @ x = 0`` between all ``v`` values;
    ``values`` (v): the true values (only the published ones are used);
    ``hidden`` (bool, v): withheld. ``targets`` (bool over the withheld values)
    limits the LPs to those values (others get ``[nan, nan]``). ``hi`` is
    ``inf`` when nothing bounds the value from above.
    """
    hidden = np.asarray(hidden, bool)
    e = np.asarray(equations, float).reshape(-1, hidden.size)
    a = e[:, hidden]
    b = -e[:, ~hidden] @ np.asarray(values, float)[~hidden]
    keep = np.abs(a).sum(axis=1) > 0  # relations among published numbers only say nothing new
    a, b = a[keep], b[keep]
    h = int(hidden.sum())
    targets = np.ones(h, bool) if targets is None else np.asarray(targets, bool)
    lo, hi = np.full(h, np.nan), np.full(h, np.nan)
    for k in np.flatnonzero(targets):
        if a.shape[0] == 0 or not a[:, k].any():
            lo[k], hi[k] = 0.0, np.inf
            continue
        rmin = lp_bound(a, b, k, "min")
        rmax = lp_bound(a, b, k, "max")
        if rmin.status not in (0, 3) or rmax.status not in (0, 3):
            raise RuntimeError(f"disclosure audit LP failed: {rmin.message} / {rmax.message}")
        lo[k] = 0.0 if rmin.status == 3 else max(0.0, np.ceil(rmin.fun - 1e-7))
        hi[k] = np.inf if rmax.status == 3 else np.floor(-rmax.fun + 1e-7)
    return lo, hi


def _protected(t: SuppressedTable, labels: list[tuple]) -> np.ndarray:
    """Which values need a protection interval: primary cells and margins below the threshold."""
    out = []
    for lab in labels:
        if lab[0] == "cell":
            out.append(t.reason.iat[lab[1], lab[2]] == "primary")
        elif lab[0] == "row":
            out.append(float(t.row_totals.iloc[lab[1]]) < t.threshold)
        elif lab[0] == "col":
            out.append(float(t.col_totals.iloc[lab[1]]) < t.threshold)
        else:
            out.append(float(t.grand_total) < t.threshold)
    return np.array(out, bool)


def _exposed(t: SuppressedTable, *, intervals: bool = True) -> list[tuple]:
    """Withheld values pinned down exactly, or (``intervals``) primary ones whose feasible interval is narrower than the threshold."""
    labels, vals, hidden, a = _variables(t)
    if not hidden.any() or a.shape[0] == 0:
        return []
    hid_labels = [lab for lab, h in zip(labels, hidden) if h]
    exact = [lab for lab, d in zip(hid_labels, determined(a, hidden)) if d]
    if exact or not intervals:
        return exact
    need = _protected(t, hid_labels)
    if not need.any():
        return []
    lo, hi = feasible_intervals(a, vals, hidden, targets=need)
    return [lab for lab, nd, l, h in zip(hid_labels, need, lo, hi) if nd and h - l < t.threshold]


def intervals(t: SuppressedTable) -> pd.DataFrame:
    """Attacker's view of every withheld value: ``label``, ``value`` (true), ``lo``, ``hi``, ``protected``, ``safe``."""
    labels, vals, hidden, a = _variables(t)
    hid = [(lab, v) for lab, v, h in zip(labels, vals, hidden) if h]
    if not hid:
        return pd.DataFrame(columns=["label", "value", "lo", "hi", "protected", "safe"])
    if a.shape[0]:
        lo, hi = feasible_intervals(a, vals, hidden)
    else:
        lo, hi = np.zeros(len(hid)), np.full(len(hid), np.inf)
    need = _protected(t, [lab for lab, _ in hid])
    return pd.DataFrame({"label": [lab for lab, _ in hid], "value": [v for _, v in hid], "lo": lo, "hi": hi,
                         "protected": need, "safe": ~need | (hi - lo >= t.threshold)})


def protect(
    table: pd.DataFrame,
    *,
    rows: str,
    cols: str,
    value: str,
    n: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    totals: Totals = "both",
) -> SuppressedTable:
    """Primary and complementary suppression of an additive two-way table (tidy input).

    ``table`` has one row per cell with ``rows`` and ``cols`` keys, ``value``
    (e.g. number of participants enrolled) and optionally ``n`` (participants
    behind the value; defaults to ``value``). Margins are the sums over the
    cells, so the table must be additive (each participant in one cell).
    Missing cells count as zero. ``totals`` says which margins are published.
    """
    if totals not in ("both", "rows", "cols", "none"):
        raise ValueError(f"totals must be 'both', 'rows', 'cols' or 'none', got {totals!r}")
    for col in (rows, cols, value) + ((n,) if n else ()):
        if col not in table.columns:
            raise ValueError(f"column {col!r} missing from table; have {list(table.columns)}")
    if table.duplicated([rows, cols]).any():
        raise ValueError(f"table has duplicate ({rows}, {cols}) cells; aggregate first")
    vals = table.pivot(index=rows, columns=cols, values=value).fillna(0).astype(float)
    if (vals.to_numpy() < 0).any():
        raise ValueError(f"{value!r} must be non-negative counts")
    ns = table.pivot(index=rows, columns=cols, values=n).reindex_like(vals).fillna(0).astype(float) if n else vals
    sup = ns < threshold
    reason = pd.DataFrame(np.where(sup, "primary", ""), index=vals.index, columns=vals.columns)
    has_rows, has_cols = totals in ("both", "rows"), totals in ("both", "cols")
    t = SuppressedTable(
        values=vals, suppressed=sup.copy(), reason=reason,
        row_totals=vals.sum(axis=1), col_totals=vals.sum(axis=0),
        row_total_suppressed=(ns.sum(axis=1) < threshold) & has_rows,
        col_total_suppressed=(ns.sum(axis=0) < threshold) & has_cols,
        grand_total=float(vals.to_numpy().sum()), grand_suppressed=bool(ns.to_numpy().sum() < threshold) and totals != "none",
        totals=totals, threshold=threshold, rows_name=rows, cols_name=cols, value_name=value,
    )
    if totals == "none":
        return t
    return secondary(t)


def secondary(t: SuppressedTable) -> SuppressedTable:
    """Complementary suppression of ``t`` as it stands (after primary, or after other withholding):
    the line rule, then the audit loop, until no withheld value is exposed. Modifies and returns ``t``."""
    if t.totals == "none":
        return t
    vals = t.values
    _line_rule(t)
    # each round withholds one more value, so this ends; the cheap exact test runs before the LPs
    for _ in range(vals.size + len(vals.index) + len(vals.columns) + 2):
        exposed = _exposed(t, intervals=False) or _exposed(t)
        if not exposed:
            break
        _suppress_neighbour(t, exposed[0])
        t._iterations += 1
        _line_rule(t)
    else:  # pragma: no cover - every value hidden by now
        raise RuntimeError("complementary suppression did not converge")
    return t


def _smallest(t: SuppressedTable, cells: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The complement to withhold among ``cells``: prefer one whose crossing line already has a
    withheld cell (so no new lone cell appears and suppression does not cascade), then the smallest."""
    free = [(i, j) for i, j in cells if not t.suppressed.iat[i, j]]
    if not free:
        return None
    same_row = len({i for i, _ in cells}) == 1

    def cost(ij: tuple[int, int]) -> tuple:
        i, j = ij
        crossing = t.suppressed.iloc[:, j] if same_row else t.suppressed.iloc[i, :]
        return (0 if crossing.any() else 1, t.values.iat[ij], ij)

    return min(free, key=cost)


def _hide(t: SuppressedTable, ij: tuple[int, int]) -> None:
    t.suppressed.iat[ij] = True
    t.reason.iat[ij] = "complementary"


def _line_rule(t: SuppressedTable) -> None:
    """A published total whose withheld cells are one cell or sum below the threshold: withhold its next-smallest cell too."""
    r, c = t.values.shape
    changed = True
    while changed:
        changed = False
        lines = []
        if t.totals in ("both", "rows"):
            lines += [(not t.row_total_suppressed.iloc[i], [(i, j) for j in range(c)]) for i in range(r)]
        if t.totals in ("both", "cols"):
            lines += [(not t.col_total_suppressed.iloc[j], [(i, j) for i in range(r)]) for j in range(c)]
        for published, cells in lines:
            withheld = [ij for ij in cells if t.suppressed.iat[ij]]
            # protection level: the withheld cells of a published line must not sum to a small,
            # derivable number (one lone cell is the special case of this)
            if published and withheld and (len(withheld) == 1 or sum(t.values.iat[ij] for ij in withheld) < t.threshold):
                pick = _smallest(t, cells)
                if pick is not None:
                    _hide(t, pick)
                    changed = True


def _suppress_neighbour(t: SuppressedTable, label: tuple) -> None:
    r, c = t.values.shape
    if label[0] == "cell":
        i, j = label[1], label[2]
        cand = []
        if t.totals in ("both", "rows"):
            cand += [(i, jj) for jj in range(c) if jj != j]
        if t.totals in ("both", "cols"):
            cand += [(ii, j) for ii in range(r) if ii != i]
        pick = _smallest(t, cand)
        if pick is not None:
            _hide(t, pick)
            return
        # nothing left to hide around it: withhold the margins that pin it down
        if t.totals in ("both", "rows"):
            t.row_total_suppressed.iloc[i] = True
        if t.totals in ("both", "cols"):
            t.col_total_suppressed.iloc[j] = True
        t.grand_suppressed = True
        return
    if label[0] == "row":
        pick = _smallest(t, [(label[1], j) for j in range(c)])
        if pick is not None:
            _hide(t, pick)
        else:
            free = [i for i in range(r) if not t.row_total_suppressed.iloc[i]]
            if free:
                t.row_total_suppressed.iloc[min(free, key=lambda i: t.row_totals.iloc[i])] = True
            else:
                t.grand_suppressed = True
        return
    if label[0] == "col":
        pick = _smallest(t, [(i, label[1]) for i in range(r)])
        if pick is not None:
            _hide(t, pick)
        else:
            free = [j for j in range(c) if not t.col_total_suppressed.iloc[j]]
            if free:
                t.col_total_suppressed.iloc[min(free, key=lambda j: t.col_totals.iloc[j])] = True
            else:
                t.grand_suppressed = True
        return
    # the grand total: hide the smallest published margin
    options = []
    if t.totals in ("both", "rows"):
        options += [("row", i, t.row_totals.iloc[i]) for i in range(r) if not t.row_total_suppressed.iloc[i]]
    if t.totals in ("both", "cols"):
        options += [("col", j, t.col_totals.iloc[j]) for j in range(c) if not t.col_total_suppressed.iloc[j]]
    if options:
        kind, k, _ = min(options, key=lambda o: o[2])
        (t.row_total_suppressed if kind == "row" else t.col_total_suppressed).iloc[k] = True
    else:  # pragma: no cover - all margins hidden already
        t.grand_suppressed = True


# --------------------------------------------------------------------------- series published period by period
def running_totals(new: Sequence[float], new_withheld: Sequence[bool], threshold: int = DEFAULT_THRESHOLD, *,
                   total_published: bool = True) -> np.ndarray:
    """Which points of a running total (``cumsum(new)``) can be published (bool array).

    Subtracting two published running totals gives the sum of the increments
    between them; published increments (``new_withheld`` False) are known, so the
    withheld increments since the last published point must add up to 0 or to
    at least ``threshold``, and a point below ``threshold`` is itself withheld.
    With ``total_published`` the last running total counts as known (it equals a
    total published elsewhere, e.g. an arm's enrolled total), so the withheld
    tail after the last published point obeys the same rule -- published points
    are dropped from the end until it does.
    """
    new = np.nan_to_num(np.asarray(new, float))
    hid = np.asarray(new_withheld, bool)
    cum = np.cumsum(new)
    pub = np.zeros(len(new), bool)
    since = 0.0
    for k in range(len(new)):
        since += new[k] if hid[k] else 0.0
        if cum[k] >= threshold and (since == 0 or since >= threshold):
            pub[k] = True
            since = 0.0
    if total_published:
        while True:
            last = np.flatnonzero(pub)
            start = last[-1] + 1 if len(last) else 0
            tail = new[start:][hid[start:]].sum()
            if tail == 0 or tail >= threshold or not len(last):
                break
            pub[last[-1]] = False
    return pub


def protect_line(values: Sequence[float], withheld: Sequence[bool], threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
    """Protection level along one line whose total is published: withhold the smallest published
    values until the withheld ones sum to 0 or at least ``threshold`` (returns the new withheld mask)."""
    v = np.nan_to_num(np.asarray(values, float))
    hid = np.asarray(withheld, bool).copy()
    while hid.any() and v[hid].sum() < threshold and (~hid).any():
        free = np.flatnonzero(~hid)
        hid[free[np.argmin(v[free])]] = True
    return hid
