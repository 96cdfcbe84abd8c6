"""The attacker's solver: min and max of a withheld count over every table consistent with what was published.

A *population* (e.g. the run's participants) is cross-classified by the
dimensions its published tables use (district x arm x sex, week x age band,
...). The unknowns are the cell counts of that cross product, ``x >= 0`` and
integer. Every published number about the population is a :class:`Fact`: the
sum of the cells it covers lies in ``[lo, hi]`` (``lo == hi`` for an exact
count; a band around it for a perturbed one; ``[1, inf)`` for a row that is
listed; ``[1, threshold - 1]`` when a printed reason says "small"). For every
target the solver asks scipy's HiGHS for the smallest and largest feasible
value: first the linear relaxation (``linprog``), then, when the relaxed window
is narrow enough to matter, the integer programme (``milp``) on the
connected block of cells the target touches.

This is an outsider's tool: it knows only the facts handed to it, never the
data. It is written independently of :mod:`evaluation.publish.disclosure`
(the publisher's own audit) so that a defect in one is not copied into the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

INF = float("inf")


@dataclass
class Fact:
    """What the attacker knows about one sum of cells: ``lo <= sum(cells selected by where) <= hi``.

    ``where`` maps a dimension to the levels selected (absent: all levels).
    ``target`` marks a count the attacker wants to pin down; ``source``/``cell``
    say where it was printed (table name, row description).
    """

    where: dict[str, frozenset]
    lo: float
    hi: float
    source: str = ""
    cell: str = ""
    target: bool = False
    how: str = ""
    band: float = 0.0  # a perturbed printed count: the width of its own window [v - d, v + d]
    perturbed: bool = False  # printed by the cell-key method: [lo, hi] is the window the method maps it to


@dataclass
class Population:
    """Facts about one set of people, to be solved together."""

    name: str
    facts: list[Fact] = field(default_factory=list)

    def add(self, fact: Fact) -> None:
        self.facts.append(fact)


@dataclass
class Bound:
    fact: Fact
    lo: float
    hi: float
    integer: bool  # True when the integer programme (not only its relaxation) gave the window


def _levels(facts: Iterable[Fact]) -> dict[str, list]:
    levels: dict[str, set] = {}
    for f in facts:
        for k, sel in f.where.items():
            levels.setdefault(k, set()).update(sel)
    return {k: sorted(v, key=str) for k, v in sorted(levels.items())}


def _matrix(facts: list[Fact], levels: dict[str, list], max_cells: int) -> sparse.csr_matrix:
    """Facts x cells (0/1) over the cross product of ``levels``."""
    dims = list(levels)
    sizes = [len(levels[d]) for d in dims]
    n = int(np.prod(sizes)) if dims else 1
    if n > max_cells:
        raise ValueError(f"{n:,} cells (> {max_cells:,})")
    grid = np.indices(sizes).reshape(len(dims), -1) if dims else np.zeros((0, 1), dtype=int)
    rows, cols = [], []
    for i, f in enumerate(facts):
        mask = np.ones(n, bool)
        for d, dim in enumerate(dims):
            sel = f.where.get(dim)
            if sel is not None:
                member = np.array([lv in sel for lv in levels[dim]], bool)
                mask &= member[grid[d]]
        idx = np.flatnonzero(mask)
        rows.append(np.full(len(idx), i)); cols.append(idx)
    r = np.concatenate(rows) if rows else np.zeros(0, int)
    c = np.concatenate(cols) if cols else np.zeros(0, int)
    return sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(facts), n))


def solve(pop: Population, *, threshold: int = 10, max_cells: int = 200_000, milp_seconds: float = 5.0,
          refine_width: float | None = None) -> list[Bound]:
    """``[lo, hi]`` of every target fact of ``pop`` (counts; ``hi`` may be inf).

    ``refine_width``: run the integer programme when the relaxed window is at
    most this wide (default ``2 * threshold``); wider windows are reported as
    the relaxation gives them (rounded inwards), which is still a valid bound.
    Raises ``ValueError`` when the facts contradict each other (no table fits them).
    """
    refine_width = 2 * threshold if refine_width is None else refine_width
    facts = pop.facts
    if not any(f.target for f in facts):
        return []
    levels = _levels(facts)
    a = _matrix(facts, levels, max_cells)
    lo = np.array([f.lo for f in facts], float)
    hi = np.array([f.hi for f in facts], float)
    known = np.array([not f.target or np.isfinite(f.hi) or f.lo > 0 for f in facts], bool)
    # blocks of cells tied together by some constraint: each target is solved on its own block only
    cons = a[known]
    n = a.shape[1]
    graph = (cons.T @ cons) if cons.shape[0] else sparse.csr_matrix((n, n))
    _, block = connected_components(graph + sparse.identity(n, format="csr"), directed=False)
    out = []
    cache: dict[tuple, tuple] = {}
    for t, f in enumerate(facts):
        if not f.target:
            continue
        row = a[t]
        if row.nnz == 0:
            out.append(Bound(f, 0.0, 0.0, True))
            continue
        blocks = tuple(np.unique(block[row.indices]))
        if blocks not in cache:
            cols = np.flatnonzero(np.isin(block, blocks))
            sub = cons[:, cols]
            keep = np.asarray(sub.getnnz(axis=1) > 0).ravel()
            cache[blocks] = (cols, sub[keep].tocsr(), lo[known][keep], hi[known][keep])
        cols, sub, blo, bhi = cache[blocks]
        c = np.asarray(row[:, cols].todense()).ravel()
        quick = _quick(c, sub, blo, bhi)
        if quick is not None:
            out.append(Bound(f, *quick, True))
            continue
        lo_t, hi_t = _relaxed(c, sub, blo, bhi, pop.name, f)
        integer = False
        # the integer programme only narrows: worth solving when the relaxation alone exposes nothing
        if hi_t - lo_t <= refine_width and not exposed(lo_t, hi_t, threshold):
            lo_t, hi_t = _integer(c, sub, blo, bhi, lo_t, hi_t, milp_seconds)
            integer = True
        out.append(Bound(f, lo_t, hi_t, integer))
    return out


def _quick(c: np.ndarray, a: sparse.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float] | None:
    """No LP needed: nothing constrains the block, or every constraint is on exactly the target's cells."""
    if a.shape[0] == 0:
        return 0.0, INF
    a.sort_indices()
    if a.nnz == a.shape[0] * int(c.sum()) and np.all(a.indices == np.tile(np.flatnonzero(c), a.shape[0])) \
            and np.all(a.data == 1):
        lo_t, hi_t = float(np.ceil(max(0.0, lo.max()) - 1e-6)), float(np.floor(hi.min() + 1e-6))
        if lo_t > hi_t:
            raise ValueError("the published numbers contradict each other")
        return lo_t, hi_t
    return None


def _as_linprog(a: sparse.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> tuple:
    """``lo <= a x <= hi`` as linprog's ``(A_ub, b_ub, A_eq, b_eq)``: equalities where ``lo == hi``, an upper
    row where ``hi`` is finite, a lower row where ``lo > 0`` (x >= 0 already bounds the rest)."""
    eq = lo == hi
    a_eq, b_eq = (a[eq], lo[eq]) if eq.any() else (None, None)
    parts, b = [], []
    up, down = ~eq & np.isfinite(hi), ~eq & (lo > 0)
    if up.any():
        parts.append(a[up]); b.append(hi[up])
    if down.any():
        parts.append(-a[down]); b.append(-lo[down])
    a_ub = sparse.vstack(parts).tocsr() if parts else None
    b_ub = np.concatenate(b) if b else None
    return a_ub, b_ub, a_eq, b_eq


def _relaxed(c: np.ndarray, a: sparse.csr_matrix, lo: np.ndarray, hi: np.ndarray, name: str, f: Fact) -> tuple[float, float]:
    a_ub, b_ub, a_eq, b_eq = _as_linprog(a, lo, hi)
    rmin = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if rmin.status == 2:
        raise ValueError(f"population {name!r}: the published numbers contradict each other (around {f.source} {f.cell})")
    rmax = linprog(-c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    lo_t = max(0.0, float(np.ceil(rmin.fun - 1e-6))) if rmin.status == 0 else 0.0
    hi_t = float(np.floor(-rmax.fun + 1e-6)) if rmax.status == 0 else INF
    return lo_t, hi_t


def _integer(c: np.ndarray, a: sparse.csr_matrix, lo: np.ndarray, hi: np.ndarray, lo_t: float, hi_t: float,
             seconds: float) -> tuple[float, float]:
    """The integer programme's window, starting from the relaxed one (kept when HiGHS runs out of time)."""
    n = len(c)
    con = LinearConstraint(a, lo, np.where(np.isfinite(hi), hi, np.inf))
    opts = {"time_limit": seconds, "disp": False}
    integrality = np.ones(n)
    rmin = milp(c, constraints=con, integrality=integrality, bounds=Bounds(0, np.inf), options=opts)
    if rmin.status == 0:
        lo_t = max(lo_t, float(np.ceil(rmin.fun - 1e-6)))
    elif rmin.status == 2:  # no integer table fits (rounded or perturbed facts): keep the relaxed window
        return lo_t, hi_t
    rmax = milp(-c, constraints=con, integrality=integrality, bounds=Bounds(0, np.inf), options=opts)
    if rmax.status == 0:
        hi_t = min(hi_t, float(np.floor(-rmax.fun + 1e-6)))
    return lo_t, hi_t


def feasible(facts: list[Fact], max_cells: int = 200_000) -> bool:
    """Whether some non-negative table fits every fact at once (one LP with a zero objective; a fact with
    bounds ``[0, inf)`` constrains nothing but still adds its levels to the grid)."""
    if not facts:
        return True
    a = _matrix(facts, _levels(facts), max_cells)
    lo = np.array([f.lo for f in facts], float)
    hi = np.array([f.hi for f in facts], float)
    res = linprog(np.zeros(a.shape[1]), A_ub=sparse.vstack([a[np.isfinite(hi)], -a[lo > 0]]).tocsr(),
                  b_ub=np.concatenate([hi[np.isfinite(hi)], -lo[lo > 0]]), bounds=(0, None), method="highs")
    return res.status != 2


def exposed(lo: float, hi: float, threshold: int) -> bool:
    """An interval narrower than the threshold around a small non-zero value gives a person count away."""
    return hi - lo < threshold and lo < threshold and hi > 0


def recovered(lo: float, hi: float, threshold: int) -> bool:
    """A perturbed count is given away when it is shown to be a small non-zero count (1 to threshold - 1),
    or known exactly. A window narrowed by differencing noisy counts (the method's documented limit: noise
    of at most +-2 on each) that may still hold 0 or a count of threshold or more is not."""
    return (lo >= 1 and hi <= threshold - 1) or lo == hi


def solve_linear(a: sparse.csr_matrix, lo: np.ndarray, hi: np.ndarray, targets: sparse.csr_matrix, *,
                 threshold: int = 10, milp_seconds: float = 2.0,
                 refine_width: float | None = None) -> list[tuple[float, float]] | None:
    """``[min, max]`` of each row ``t`` of ``targets`` (``t @ x``) over integer ``x >= 0`` with ``lo <= a @ x <= hi``.

    The general form of :func:`solve` for facts that are not plain sums of cells (weighted sums such as
    person-days, differences between two partitions of the same people). The linear relaxation gives each
    window; the integer programme narrows it when the relaxed window is at most ``refine_width`` wide
    (default ``2 * threshold``) and exposes nothing by itself. Returns None when no ``x`` fits (the facts
    contradict each other, or the attacker's model of them is wrong).
    """
    refine_width = 2 * threshold if refine_width is None else refine_width
    a = sparse.csr_matrix(a)
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    a_ub, b_ub, a_eq, b_eq = _as_linprog(a, lo, hi)
    n = a.shape[1]
    kw = dict(A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if linprog(np.zeros(n), **kw).status == 2:
        return None
    con = LinearConstraint(a, lo, np.where(np.isfinite(hi), hi, np.inf))
    out = []
    for i in range(targets.shape[0]):
        c = np.asarray(targets[i].todense()).ravel()
        rmin, rmax = linprog(c, **kw), linprog(-c, **kw)
        lo_t = max(0.0, float(np.ceil(rmin.fun - 1e-6))) if rmin.status == 0 else 0.0
        hi_t = float(np.floor(-rmax.fun + 1e-6)) if rmax.status == 0 else INF
        if hi_t - lo_t <= refine_width and not exposed(lo_t, hi_t, threshold):
            opts = {"time_limit": milp_seconds, "disp": False}
            for sign in (1, -1):
                r = milp(sign * c, constraints=con, integrality=np.ones(n), bounds=Bounds(0, np.inf), options=opts)
                if r.status == 0 and sign == 1:
                    lo_t = max(lo_t, float(np.ceil(r.fun - 1e-6)))
                elif r.status == 0:
                    hi_t = min(hi_t, float(np.floor(-r.fun + 1e-6)))
        out.append((lo_t, hi_t))
    return out


def perturbed_range(value: float, threshold: int = 10, max_noise: int = 2) -> tuple[float, float]:
    """The true counts a published cell-key-perturbed count can stand for, as the published method says
    (README; :mod:`evaluation.publish.perturbation`): counts 1 to ``threshold - 1`` are published as 0 or
    ``threshold``, larger ones move by at most ``max_noise`` and never below ``threshold``; 0 stays 0."""
    v = float(value)
    if v <= 0:
        return 0.0, float(threshold - 1)
    if v < threshold:  # never published by the method: read as exact (an unprotected count)
        return v, v
    if v == threshold:
        return 1.0, float(threshold + max_noise)
    return max(float(threshold), v - max_noise), v + max_noise
