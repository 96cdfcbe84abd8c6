"""Primary and complementary small-cell suppression."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.publish import suppression


def _tidy(mat: np.ndarray) -> pd.DataFrame:
    r, c = mat.shape
    return pd.DataFrame([(f"r{i}", f"c{j}", int(mat[i, j])) for i in range(r) for j in range(c)], columns=["row", "col", "v"])


# ------------------------------------------------------------------ independent attack used as the oracle
def recoverable(t: suppression.SuppressedTable) -> list[tuple]:
    """Every withheld value an attacker can compute exactly from the published numbers.

    Independent of the module's null-space audit: writes each published relation
    (row total = sum of row, ...) with the published numbers moved to the right-hand
    side and tests, value by value, whether adding the unit vector raises the rank
    (numpy.linalg.matrix_rank), i.e. whether some linear combination of published
    margins and cells isolates the value.
    """
    vals = t.values.to_numpy(float)
    hid = t.suppressed.to_numpy(bool)
    r, c = vals.shape
    names, hidden = [], []
    for i, j in itertools.product(range(r), range(c)):
        names.append(("cell", i, j)); hidden.append(hid[i, j])
    rows_pub = t.totals in ("both", "rows")
    cols_pub = t.totals in ("both", "cols")
    if rows_pub:
        for i in range(r):
            names.append(("row", i)); hidden.append(bool(t.row_total_suppressed.iloc[i]))
    if cols_pub:
        for j in range(c):
            names.append(("col", j)); hidden.append(bool(t.col_total_suppressed.iloc[j]))
    names.append(("all",)); hidden.append(bool(t.grand_suppressed))
    pos = {n: k for k, n in enumerate(names)}
    eq = []
    if rows_pub:
        for i in range(r):
            e = np.zeros(len(names))
            for j in range(c):
                e[pos[("cell", i, j)]] = 1
            e[pos[("row", i)]] = -1
            eq.append(e)
        e = np.zeros(len(names)); e[[pos[("row", i)] for i in range(r)]] = 1; e[pos[("all",)]] = -1; eq.append(e)
    if cols_pub:
        for j in range(c):
            e = np.zeros(len(names))
            for i in range(r):
                e[pos[("cell", i, j)]] = 1
            e[pos[("col", j)]] = -1
            eq.append(e)
        e = np.zeros(len(names)); e[[pos[("col", j)] for j in range(c)]] = 1; e[pos[("all",)]] = -1; eq.append(e)
    a = np.array(eq)[:, np.array(hidden)]
    hidden_names = [n for n, h in zip(names, hidden) if h]
    base = np.linalg.matrix_rank(a) if a.size else 0
    out = []
    for k, n in enumerate(hidden_names):
        unit = np.zeros((1, a.shape[1])); unit[0, k] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == base:
            out.append(n)
    return out


def single_subtraction(t: suppression.SuppressedTable) -> list[tuple]:
    """The literal attack: a published total whose line has exactly one withheld cell."""
    hid = t.suppressed.to_numpy(bool)
    out = []
    if t.totals in ("both", "rows"):
        out += [("row", i) for i in range(hid.shape[0]) if not t.row_total_suppressed.iloc[i] and hid[i].sum() == 1]
    if t.totals in ("both", "cols"):
        out += [("col", j) for j in range(hid.shape[1]) if not t.col_total_suppressed.iloc[j] and hid[:, j].sum() == 1]
    return out


counts = st.integers(1, 6).flatmap(lambda r: st.integers(1, 6).flatmap(
    lambda c: st.lists(st.one_of(st.integers(0, 12), st.integers(0, 200)), min_size=r * c, max_size=r * c)
    .map(lambda xs: np.array(xs).reshape(r, c))))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts, st.sampled_from(["both", "rows", "cols"]), st.sampled_from([5, 10]))
def test_no_withheld_value_recoverable_from_published_margins(mat, totals, threshold):
    t = suppression.protect(_tidy(mat), rows="row", cols="col", value="v", threshold=threshold, totals=totals)
    # every primary cell is withheld, and every withheld cell stays so
    assert (t.suppressed.to_numpy() | ~(mat < threshold)).all()
    assert not single_subtraction(t)
    assert not recoverable(t)
    # protection level: no primary cell's feasible interval is narrower than the threshold
    for ij, (lo, hi) in lp_attack(t).items():
        assert hi - lo >= threshold - 1e-6, (ij, lo, hi)
    # published numbers are the true ones
    s = t.summary()
    pub = s[~s.suppressed & ~s.margin]
    assert (pub.v.to_numpy() == mat[[int(r[1:]) for r in pub.row], [int(c[1:]) for c in pub.col]]).all()


def test_lone_suppressed_cell_in_a_row_takes_the_next_smallest():
    mat = np.array([[50, 3, 40, 60], [70, 80, 90, 100]])
    t = suppression.protect(_tidy(mat), rows="row", cols="col", value="v", totals="rows")
    assert t.suppressed.to_numpy().tolist() == [[False, True, True, False], [False, False, False, False]]
    assert t.reason.iat[0, 1] == "primary" and t.reason.iat[0, 2] == "complementary"
    assert t.wide(lang="en").loc["r0"].tolist() == ["50", "x", "x", "60", "153"]


def test_two_way_table_meets_the_protection_level():
    mat = np.array([[18, 20, 30], [38, 1, 5], [32, 37, 9], [12, 34, 16]])
    t = suppression.protect(_tidy(mat), rows="row", cols="col", value="v")
    # the 4-cell rectangle (b-y, b-z, c-y, c-z) is no longer enough: row b would reveal 1 + 5 = 6 < 10,
    # so row b's 38 is withheld as well and column x needs a second cell (6 cells in all)
    assert t.suppressed.to_numpy().sum() == 6
    assert t.suppressed.loc["r1"].all()
    assert not recoverable(t)
    iv = t.intervals()
    assert iv.safe.all() and (iv[iv.protected].eval("hi - lo") >= 10).all()


def test_line_whose_withheld_cells_sum_below_threshold_is_exposed():
    """The issue's example: [3, 4, 50] with total 57 and only 3, 4 withheld gives away 3 + 4 = 7."""
    t = suppression.protect(_tidy(np.array([[3, 4, 50]])), rows="row", cols="col", value="v", totals="rows")
    assert t.suppressed.to_numpy().all()  # the 50 joins: the withheld sum is 57 >= 10
    assert t.exposed() == []
    t.suppressed.iat[0, 2] = False
    t.reason.iat[0, 2] = ""
    assert t.exposed() == [("cell", 0, 0), ("cell", 0, 1)]
    iv = t.intervals().set_index("label")
    assert (iv.lo.tolist(), iv.hi.tolist()) == ([0, 0], [7, 7])  # the attacker's bounds, by linprog
    assert not recoverable(t)  # the old exact-recovery audit alone would have passed this line


def lp_attack(t: suppression.SuppressedTable) -> dict:
    """Independent LP attack (scipy linprog on the wide table): bounds of every primary withheld cell."""
    from scipy.optimize import linprog

    vals, hid = t.values.to_numpy(float), t.suppressed.to_numpy(bool)
    r, c = vals.shape
    idx = {ij: k for k, ij in enumerate(zip(*np.nonzero(hid)))}
    rows_a, rows_b = [], []
    lines = []
    if t.totals in ("both", "rows"):
        lines += [((i, None), [(i, j) for j in range(c)], t.row_totals.iloc[i], t.row_total_suppressed.iloc[i]) for i in range(r)]
    if t.totals in ("both", "cols"):
        lines += [((None, j), [(i, j) for i in range(r)], t.col_totals.iloc[j], t.col_total_suppressed.iloc[j]) for j in range(c)]
    for _, cells, total, total_hidden in lines:
        if total_hidden:
            continue
        a = np.zeros(len(idx))
        rest = float(total)
        for ij in cells:
            if ij in idx:
                a[idx[ij]] = 1
            else:
                rest -= vals[ij]
        if a.any():
            rows_a.append(a); rows_b.append(rest)
    out = {}
    for ij, k in idx.items():
        if t.reason.iat[ij] != "primary" or not rows_a:
            continue
        cvec = np.zeros(len(idx)); cvec[k] = 1
        lo = linprog(cvec, A_eq=np.array(rows_a), b_eq=rows_b, bounds=(0, None))
        hi = linprog(-cvec, A_eq=np.array(rows_a), b_eq=rows_b, bounds=(0, None))
        out[ij] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out


def test_small_margin_is_itself_withheld():
    mat = np.array([[2, 3], [40, 50]])
    t = suppression.protect(_tidy(mat), rows="row", cols="col", value="v")
    assert bool(t.row_total_suppressed.iloc[0])
    assert not recoverable(t)


def test_primary_blanks_estimates_and_counts():
    df = pd.DataFrame({"g": ["a", "b"], "n": [3, 30], "estimate": [1.0, 2.0], "ci_low": [0.5, 1.5], "ci_high": [1.5, 2.5]})
    out = suppression.primary(df, 10)
    assert out.suppressed.tolist() == [True, False]
    assert out.loc[0, ["n", "estimate", "ci_low", "ci_high"]].isna().all()
    assert out.loc[1, "estimate"] == 2.0 and out.loc[1, "n"] == 30
    shown = suppression.display(out)
    assert shown.loc[0, "estimate"] == suppression.MARKER and shown.loc[1, "n"] == "30"
    with pytest.raises(ValueError, match="not suppressed"):
        suppression.check(df, 10)
    suppression.check(out, 10)


def test_threshold_zero_disables_and_bad_input_is_named():
    df = pd.DataFrame({"n": [0, 1], "estimate": [1.0, 2.0]})
    assert not suppression.primary(df, 0).suppressed.any()
    with pytest.raises(ValueError, match="column 'n'"):
        suppression.primary(df.rename(columns={"n": "k"}))
    with pytest.raises(ValueError, match="duplicate"):
        suppression.protect(pd.DataFrame({"r": [1, 1], "c": [1, 1], "v": [5, 6]}), rows="r", cols="c", value="v")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=6), min_size=1, max_size=4), st.integers(1, 12))
def test_complement_leaves_no_lone_withheld_cell_in_a_total(weeks, threshold):
    rows = []
    for w, ns in enumerate(weeks):
        for g, k in enumerate(ns):
            for metric in ("participants", "mean_steps"):
                m = k if metric == "participants" else max(k - (g % 2), 0)  # a metric can rest on fewer people
                rows.append({"week": w, "district": f"d{g}", "metric": metric, "n": m, "estimate": float(m)})
    df = suppression.primary(pd.DataFrame(rows), threshold)
    out = suppression.complement(df, "district", by=["week", "district"], protection=threshold,
                                 counts=pd.DataFrame(rows).n)
    assert (out.suppressed >= df.suppressed).all()
    cells = out.groupby(["week", "district"]).suppressed.agg(["any", "all"])
    assert (cells["any"] == cells["all"]).all()  # whole cells, never half
    per_week = cells.groupby(level="week")["any"].agg(["sum", "size"])
    assert not ((per_week["sum"] == 1) & (per_week["size"] > 1)).any()
    # protection level: the withheld participants of a week sum to >= threshold (or the whole week is withheld)
    part = pd.DataFrame(rows).query("metric == 'participants'").set_index(["week", "district"]).n
    hidden_sum = part[cells["any"].reindex(part.index).to_numpy()].groupby(level="week").sum()
    for w, total in hidden_sum.items():
        assert total >= threshold or per_week.loc[w, "sum"] == per_week.loc[w, "size"], (w, total)
    truth = pd.DataFrame(rows).set_index(["week", "district", "metric"]).n
    # what is published is true, and a total minus the published cells never isolates one withheld count
    pub = out[~out.suppressed].set_index(["week", "district", "metric"]).n
    assert (pub.astype(int) == truth.loc[pub.index]).all()
