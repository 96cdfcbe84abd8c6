"""Disclosure control across all tables of a run: the audit ``evaluation run`` does before publishing.

Each table passes its own suppression; together they may not. An analyst can
subtract a report total from published months, difference a running total
week by week, or solve two tables sharing a dimension (district x arm and
district x sex) as one linear system. This module plays that analyst.

The model (the attacker's knowledge, after sdcTable's ``attack()`` and
tau-Argus' audit):

* a **population** (e.g. ``participants``) is split into *atoms*: the cross
  product of every dimension the run's tables use (district x arm x sex x
  segments of the enrolment date cut at every week and month boundary any
  table uses). Atom counts are the unknowns, ``x >= 0``;
* every published count is a **fact**: the sum of the atoms it covers equals
  the published value (a cell, a margin, a running total, a headline in
  ``results.json``). Withheld counts, and the period increments of running
  totals, are **targets**;
* for every target the audit solves two linear programmes
  (``scipy.optimize.linprog``, HiGHS) for its smallest and largest feasible
  value ``[lo, hi]`` (rounded inwards to integers).

**Rule.** A target is *exposed* when the analyst can confine it to a window
narrower than the threshold that still contains small non-zero counts:
``hi - lo < threshold and lo < threshold and hi > 0``. (A withheld primary cell
is below the threshold, so this is the protection-interval rule ``hi - lo >=
threshold`` of :mod:`evaluation.publish.suppression`; a target known to be 0, or known
to be at least the threshold, reveals no small cell.) Published person counts
between 1 and ``threshold - 1`` are primary violations.

**Remedy.** Primary violations are withheld. For an exposed target, the
published facts that hold its bound are read off the LP's dual values
(``res.eqlin.marginals``); the smallest of them is withheld too, and the target
is solved again, until nothing is exposed. Withholding only removes
constraints, so intervals only widen and the loop ends; if ``max_rounds`` is
reached the run is refused (:class:`DisclosureError`).

Hand-written because the tools that do this (sdcTable, tau-Argus) are R and
Java programs with their own table formats; only the LP solver is borrowed.
Survival curves are non-linear in the counts: :func:`evaluation.cohort.engagement.retention`
coarsens its weekly grid so that KM steps reveal no small count; the audit
checks its linear part (at-risk and dropout counts).
"""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import sparse

from . import suppression

NA = "<NA>"  # the segment of an interval dimension holding "no value" (e.g. never enrolled)
INF = float("inf")
ENROLLED_ARMS_EXCLUDE = ("comparison",)  # data contract: the comparison arm has no enrolled_on


class DisclosureError(RuntimeError):
    """The run's tables give away counts below the threshold and the audit could not fix it."""

    def __init__(self, message: str, report: dict[str, Any]):
        super().__init__(message)
        self.report = report


# ------------------------------------------------------------------------------------------ facts
@dataclass
class Fact:
    """One count as the analyst sees it.

    ``where`` maps a dimension to a selector: a tuple of levels (categorical),
    a ``("range", lo, hi)`` half-open interval (interval dimension; ``lo``/``hi``
    may be infinite), ``"notna"`` (any value of an interval dimension), or is
    absent (all). ``value`` is NaN when withheld. ``key`` says where the number
    lives: ``(table, row, column)`` or ``("results", notebook, key)``; ``None``
    for targets that are not printed anywhere (period increments).
    """

    population: str
    where: dict[str, Any]
    value: float
    label: str
    key: tuple | None = None
    target: bool = True

    @property
    def published(self) -> bool:
        return self.key is not None and not np.isnan(self.value)


@dataclass
class Population:
    name: str
    interval_dims: tuple[str, ...] = ()


def _days(x: Any) -> float:
    """Dates as days since 1970 (floats), so date ranges are intervals on a number line."""
    return float(pd.Timestamp(x).value // 86_400_000_000_000)


# ------------------------------------------------------------------------------------------ table readers
def _num(v: Any) -> float:
    try:
        return float(v) if v is not None and not pd.isna(v) else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def _lvl(v: Any) -> Any:
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def two_way(rows: str, cols: str, value: str, *, enrolled_only: bool = False) -> Callable[[str, pd.DataFrame], list[Fact]]:
    """Reader of a :meth:`suppression.SuppressedTable.summary` table (cells and margins; None = total)."""
    def read(name: str, df: pd.DataFrame) -> list[Fact]:
        out = []
        for i, r in df.iterrows():
            where: dict[str, Any] = {k: (_lvl(r[k]),) for k in (rows, cols) if _lvl(r[k]) is not None}
            if enrolled_only:
                where["enrolled"] = ("yes",)
            out.append(Fact("participants", where, _num(r[value]), f"{name}[{_desc(where)}].{value}", (name, i, value)))
        return out
    return read


_enrolment_by_district_arm = two_way("district", "arm", "participants")
_enrolment_by_district = two_way("district", "sex", "enrolled", enrolled_only=True)


def _enrolment_by_month(name: str, df: pd.DataFrame) -> list[Fact]:
    out = []
    for i, r in df.iterrows():
        start = pd.Timestamp(r["period"])
        end = start + pd.offsets.MonthBegin(1)
        base = {"arm": (_lvl(r["arm"]),)} if "arm" in df and _lvl(r["arm"]) is not None else {}
        month = dict(base, enrolled_on=("range", _days(start), _days(end)))
        cum = dict(base, enrolled_on=("range", -INF, _days(end)))
        out.append(Fact("participants", month, _num(r["enrolled"]), f"{name}[{_desc(month)}].enrolled", (name, i, "enrolled")))
        out.append(Fact("participants", cum, _num(r["cumulative"]), f"{name}[{_desc(cum)}].cumulative",
                        (name, i, "cumulative"), target=False))
    # the table lists every month with an enrolment: the months it leaves out are known zeros
    by = ["arm"] if "arm" in df else []
    for key, g in (df.groupby(by, observed=True) if by else [((), df)]):
        base = {"arm": (str(key[0] if isinstance(key, tuple) else key),)} if by else {}
        starts = sorted(_days(p) for p in g["period"])
        ends = [_days(pd.Timestamp(p) + pd.offsets.MonthBegin(1)) for p in sorted(g["period"])]
        for lo, hi in zip([-INF] + ends, starts + [INF]):
            if lo < hi:
                where = dict(base, enrolled_on=("range", lo, hi))
                out.append(Fact("participants", where, 0.0, f"known: no enrolment {_desc(where)}", ("known",), False))
    return out


def _weekly_active(name: str, df: pd.DataFrame) -> list[Fact]:
    out = []
    by = [c for c in ("arm", "district") if c in df.columns]
    groups = df.groupby(by, observed=True, sort=False) if by else [((), df)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        base = {k: (str(v),) for k, v in zip(by, key)}
        g = g.sort_values("week")
        ends = [_days(pd.Timestamp(w) + pd.Timedelta(days=7)) for w in g["week"]]
        for (i, r), end in zip(g.iterrows(), ends):
            where = dict(base, enrolled_on=("range", -INF, end))
            out.append(Fact("participants", where, _num(r["enrolled"]), f"{name}[{_desc(where)}].enrolled",
                            (name, i, "enrolled"), target=False))
        # differencing targets: the enrolments between consecutive weeks, and before the first / after the last
        edges = [-INF] + ends + [INF]
        for lo, hi in zip(edges[:-1], edges[1:]):
            where = dict(base, enrolled_on=("range", lo, hi))
            out.append(Fact("participants", where, float("nan"), f"{name}: new enrolments {_desc(where)}"))
    return out


def _retention(name: str, df: pd.DataFrame) -> list[Fact]:
    out = []
    if "at_risk" not in df or "week" not in df:
        return out
    weeks = sorted(int(w) for w in df["week"].unique())
    arms = [a for a in df["arm"].dropna().unique() if a != "all"] if "arm" in df else []
    for i, r in df.iterrows():
        arm = _lvl(r["arm"]) if "arm" in df else None
        base = {"arm": (arm,)} if arm not in (None, "all") else {}
        w = int(r["week"])
        risk = dict(base, time=("range", w, INF))
        out.append(Fact("retention", risk, _num(r["at_risk"]), f"{name}[{_desc(risk)}].at_risk", (name, i, "at_risk"),
                        target=False))
        if "week_from" in df and not pd.isna(r.get("week_from")) and "events" in df:
            ev = dict(base, time=("range", int(r["week_from"]), w), event=("yes",))
            out.append(Fact("retention", ev, _num(r["events"]), f"{name}[{_desc(ev)}].events", (name, i, "events"),
                            target=False))
    # targets: each week's dropouts and censorings per arm (the counts the weekly table would have shown)
    for arm in arms or [None]:
        base = {"arm": (arm,)} if arm else {}
        for w in weeks:
            for e in ("yes", "no"):
                where = dict(base, time=("range", w, w + 1), event=(e,))
                out.append(Fact("retention", where, float("nan"), f"{name}: {'dropouts' if e == 'yes' else 'censored'} {_desc(where)}"))
    return out


def _cohort_table(name: str, df: pd.DataFrame) -> list[Fact]:
    """``cohort.aggregate`` output: one fact per cell and metric (``n`` persons); breakdowns in
    ``dimension``/``level`` columns (as in ``steps_by_week_since_enrolment``) share one weekly total."""
    out = []
    if "n" not in df.columns:  # a table that publishes no count (statistics only) has no linear facts
        return out
    time_col = next((c for c in ("week_since_enrolment", "week", "date", "period") if c in df.columns), None)
    for i, r in df.iterrows():
        pop = f"{name}:{r['metric']}" if "metric" in df else name
        where: dict[str, Any] = {}
        if time_col:
            where[time_col] = (str(r[time_col]),)
        if "dimension" in df and "level" in df:
            where[str(r["dimension"])] = (str(r["level"]),)
        for k in ("arm", "district", "sex", "age_band"):
            if k in df.columns and _lvl(r[k]) is not None:
                where[k] = (str(r[k]),)
        out.append(Fact(pop, where, _num(r["n"]), f"{name}[{_desc(where)}].n", (name, i, "n")))
    return out


# table name -> reader of its facts. Tables not listed get the primary check on their person-count columns.
READERS: dict[str, Callable[[str, pd.DataFrame], list[Fact]]] = {
    "enrolment_by_district_arm": _enrolment_by_district_arm,
    "enrolment_by_district": _enrolment_by_district,
    "enrolment_by_month": _enrolment_by_month,
    "weekly_active": _weekly_active,
    "retention": _retention,
    "steps_by_week_since_enrolment": _cohort_table,
    "steps_by_week": _cohort_table,
    "goal_share_by_week": _cohort_table,
}
# person-count columns checked cell by cell (primary rule) in every table that has them
PERSON_COUNTS = ("n", "participants", "participants_flagged", "enrolled", "active", "at_risk", "events", "count",
                 "observed", "adherence_n")
# results.json headlines that are also facts of the participants population
RESULT_FACTS = {
    "participants_enrolled": {"enrolled": ("yes",)},
    "participants_comparison": {"arm": ("comparison",)},
}

POPULATIONS = {
    "participants": Population("participants", interval_dims=("enrolled_on",)),
    "retention": Population("retention", interval_dims=("time",)),
}


def _known_zeros(facts: list[Fact]) -> list[Fact]:
    """What the analyst knows without any table (data contract): the comparison arm has no
    ``enrolled_on``, every other arm has one. Published zeros, never withheld."""
    arms = sorted({a for f in facts for a in (f.where.get("arm") or ())})
    out = [Fact("participants", {"enrolled": ("no",), "enrolled_on": "notna"}, 0.0, "known: not enrolled, no date", ("known",), False),
           Fact("participants", {"enrolled": ("yes",), "enrolled_on": ("na",)}, 0.0, "known: enrolled, has a date", ("known",), False)]
    for a in arms:
        flag = "yes" if a in ENROLLED_ARMS_EXCLUDE else "no"
        out.append(Fact("participants", {"arm": (a,), "enrolled": (flag,)}, 0.0, f"known: arm {a}", ("known",), False))
    return out


def _desc(where: dict[str, Any]) -> str:
    parts = []
    for k, v in where.items():
        if isinstance(v, tuple) and v and v[0] == "range":
            lo, hi = v[1], v[2]
            if k == "enrolled_on":
                f = (lambda d: "" if not np.isfinite(d) else str((pd.Timestamp(0) + pd.Timedelta(days=d)).date()))
                parts.append(f"{k}∈[{f(lo)},{f(hi)})")
            else:
                parts.append(f"{k}∈[{'' if not np.isfinite(lo) else int(lo)},{'' if not np.isfinite(hi) else int(hi)})")
        elif v == "notna":
            parts.append(f"{k}=any")
        else:
            parts.append(f"{k}={'|'.join(map(str, v))}")
    return ", ".join(parts) or "all"


# ------------------------------------------------------------------------------------------ the linear system
@dataclass
class _System:
    matrix: sparse.csr_matrix  # facts x variables (0/1)
    consistency: sparse.csr_matrix  # rows r with r @ x = 0 (marginals agreeing on separators)
    component: np.ndarray  # variable -> connected component
    n_vars: int


def _selects(sel: Any, level: Any, interval: bool) -> bool:
    if sel is None:
        return True
    if interval:
        if sel == ("na",):
            return level == NA
        if level == NA:
            return False
        if sel == "notna":
            return True
        _, lo, hi = sel
        a, b = level
        return lo <= a and b <= hi
    return level in sel


def _cliques(dims: list[str], edges: set[frozenset]) -> list[tuple[str, ...]]:
    """Maximal cliques of a chordal completion (greedy min-fill elimination).

    Hand-written (a dozen lines) rather than adding networkx for it: the graphs
    have a handful of dimensions.
    """
    adj = {d: {e for pair in edges if d in pair for e in pair if e != d} for d in dims}
    left, found = set(dims), []
    while left:
        def fill(v: str) -> int:
            nb = adj[v] & left
            return sum(1 for a, b in itertools.combinations(nb, 2) if b not in adj[a])
        v = min(sorted(left), key=lambda d: (fill(d), len(adj[d] & left)))
        nb = adj[v] & left
        for a, b in itertools.combinations(nb, 2):
            adj[a].add(b); adj[b].add(a)
        found.append(frozenset(nb | {v}))
        left.remove(v)
    maximal = [c for c in found if not any(c < o for o in found)]
    return [tuple(sorted(c)) for c in dict.fromkeys(maximal)]


def _build(pop: Population, facts: list[Fact], max_atoms: int) -> _System:
    """The analyst's linear system over clique marginals of the population's cross-classification.

    Instead of one unknown per atom of the full cross product (25 districts x 3
    arms x 2 sexes x 60 date segments = 9,000), the unknowns are the counts of
    the maximal cliques of the dimensions' interaction graph (dimensions some
    fact restricts together), with marginals agreeing on a junction tree's
    separators. For a chordal graph such locally consistent non-negative
    marginals always come from a non-negative joint table (junction tree
    theorem), so the LP bounds are exactly those of the full table, at a
    fraction of the size.
    """
    dims: dict[str, set] = {}
    for f in facts:
        for k, sel in f.where.items():
            dims.setdefault(k, set())
            if k in pop.interval_dims:
                if isinstance(sel, tuple) and sel and sel[0] == "range":
                    dims[k].update(x for x in sel[1:] if np.isfinite(x))
            elif sel is not None:
                dims[k].update(sel)
    levels: dict[str, list] = {}
    for k, vals in dims.items():
        if k in pop.interval_dims:
            cuts = [-INF] + sorted(vals) + [INF]
            levels[k] = [NA] + [(a, b) for a, b in zip(cuts[:-1], cuts[1:])]
        else:
            levels[k] = sorted(vals, key=str)
    names = sorted(levels)
    edges = {frozenset(p) for f in facts for p in itertools.combinations(sorted(k for k, v in f.where.items() if v is not None), 2)}
    cliques = _cliques(names, edges) or [()]
    offsets, grids = [], []
    total = 0
    for c in cliques:
        g = np.array(list(itertools.product(*(range(len(levels[k])) for k in c))), dtype=np.int64).reshape(-1, len(c))
        offsets.append(total); grids.append(g); total += len(g)
    if total > max_atoms:
        raise ValueError(f"population {pop.name!r} needs {total:,} unknowns (> {max_atoms:,}); audit not attempted")
    sel_cache: dict[tuple[int, str], np.ndarray] = {}

    def member(f: Fact, ci: int) -> np.ndarray:
        c, g = cliques[ci], grids[ci]
        m = np.ones(len(g), bool)
        for d, k in enumerate(c):
            sel = f.where.get(k)
            if sel is None:
                continue
            key = (id(f), k)
            if key not in sel_cache:
                sel_cache[key] = np.array([_selects(sel, lev, k in pop.interval_dims) for lev in levels[k]], bool)
            m &= sel_cache[key][g[:, d]]
        return m

    rows, cols = [], []
    for i, f in enumerate(facts):
        r = {k for k, v in f.where.items() if v is not None}
        ci = min((j for j, c in enumerate(cliques) if r <= set(c)), key=lambda j: len(grids[j]))
        idx = np.flatnonzero(member(f, ci)) + offsets[ci]
        rows += [i] * len(idx); cols += idx.tolist()
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(facts), total))
    # junction tree: maximum spanning tree of the clique graph weighted by separator size (+1 keeps it connected)
    cons_r, cons_c, cons_v, nrow = [], [], [], 0
    if len(cliques) > 1:
        from scipy.sparse.csgraph import minimum_spanning_tree

        w = np.zeros((len(cliques), len(cliques)))
        for a, b in itertools.combinations(range(len(cliques)), 2):
            w[a, b] = -(len(set(cliques[a]) & set(cliques[b])) + 1)
        tree = minimum_spanning_tree(sparse.csr_matrix(w)).tocoo()
        for a, b in zip(tree.row, tree.col):
            sep = sorted(set(cliques[a]) & set(cliques[b]))
            ka = [cliques[a].index(k) for k in sep]
            kb = [cliques[b].index(k) for k in sep]
            for combo in itertools.product(*(range(len(levels[k])) for k in sep)):
                combo = np.array(combo, dtype=np.int64)
                ia = np.flatnonzero((grids[a][:, ka] == combo).all(axis=1)) + offsets[a]
                ib = np.flatnonzero((grids[b][:, kb] == combo).all(axis=1)) + offsets[b]
                cons_r += [nrow] * (len(ia) + len(ib)); cons_c += ia.tolist() + ib.tolist()
                cons_v += [1.0] * len(ia) + [-1.0] * len(ib)
                nrow += 1
    consistency = sparse.csr_matrix((cons_v, (cons_r, cons_c)), shape=(nrow, total))
    pub = np.array([f.published for f in facts], bool)
    links = sparse.vstack([matrix[pub], abs(consistency)]).tocsr()
    from scipy.sparse.csgraph import connected_components

    _, comp = connected_components((links.T @ links) + sparse.identity(total, format="csr"), directed=False)
    return _System(matrix, consistency, comp, total)


def _interval(sys_: _System, facts: list[Fact], t: int, values: np.ndarray, published: np.ndarray):
    """``(lo, hi, duals_of_min, duals_of_max, fact_rows)`` of fact ``t`` given the published facts."""
    row = sys_.matrix[t]
    if not row.nnz:
        return 0.0, 0.0, None, None, None
    comps = np.unique(sys_.component[row.indices])
    cols = np.flatnonzero(np.isin(sys_.component, comps))
    pub_rows = np.flatnonzero(published)
    a = sys_.matrix[pub_rows][:, cols]
    keep = np.asarray(a.getnnz(axis=1) > 0).ravel()
    a, b, fact_rows = a[keep], values[pub_rows][keep], pub_rows[keep]
    cons = sys_.consistency[:, cols]
    cons = cons[np.asarray(cons.getnnz(axis=1) > 0).ravel()]
    if a.shape[0] == 0:
        return 0.0, INF, None, None, fact_rows
    a_eq = sparse.vstack([a, cons]).tocsr()
    b_eq = np.concatenate([b, np.zeros(cons.shape[0])])
    c = np.asarray(row[:, cols].todense()).ravel()
    from scipy.optimize import linprog

    rmin = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    rmax = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if rmin.status == 2 or rmax.status == 2:
        raise DisclosureError(f"published counts are inconsistent around {facts[t].label} (no solution)",
                              {"status": "refused", "reason": "inconsistent tables"})
    lo = 0.0 if rmin.status != 0 else max(0.0, float(np.ceil(rmin.fun - 1e-6)))
    hi = INF if rmax.status != 0 else float(np.floor(-rmax.fun + 1e-6))
    n = len(fact_rows)
    dmin = rmin.eqlin.marginals[:n] if rmin.status == 0 else None
    dmax = rmax.eqlin.marginals[:n] if rmax.status == 0 else None
    return lo, hi, dmin, dmax, fact_rows


def exposed_window(lo: float, hi: float, threshold: int) -> bool:
    """The audit rule: confined to a window narrower than ``threshold`` that holds small non-zero counts."""
    return hi - lo < threshold and lo < threshold and hi > 0


# ------------------------------------------------------------------------------------------ audit
@dataclass
class Audit:
    """Outcome of :func:`audit`.

    Attributes
    ----------
    withheld : list of dicts (table, row keys, column, reason) the audit withheld
    exposed : list of dicts (label, lo, hi) still exposed when refused (else empty)
    checked : number of targets solved; populations: atoms and facts per population
    status : "clean" (nothing to do), "suppressed" (the audit withheld more) or "refused"
    """

    threshold: int
    withheld: list[dict[str, Any]] = field(default_factory=list)
    exposed: list[dict[str, Any]] = field(default_factory=list)
    checked: int = 0
    populations: dict[str, dict[str, int]] = field(default_factory=dict)
    unmodelled: list[str] = field(default_factory=list)
    reports_withheld: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def status(self) -> str:
        return "refused" if self.exposed else ("suppressed" if self.withheld else "clean")

    def summary(self) -> str:
        if not self.checked and not self.withheld and not self.exposed:
            # every count of the run is perturbed: "clean" after checking nothing would read as a verdict
            return ("disclosure audit: no exact person count published, nothing for the suppression audit; "
                    "the perturbed counts go to the attack audit")
        return (f"disclosure audit: {self.status}; {self.checked} counts checked in {len(self.populations)} "
                f"population(s), {len(self.withheld)} more value(s) withheld, {len(self.exposed)} exposed "
                f"({self.seconds:.1f} s)")

    def manifest(self) -> dict[str, Any]:
        return {"status": self.status, "threshold": self.threshold, "rule": "hi - lo >= threshold for every withheld "
                "count and period increment (LP bounds over all published counts); published person counts >= threshold",
                "checked": self.checked, "populations": self.populations, "withheld": self.withheld,
                "exposed": self.exposed, "primary_check_only": self.unmodelled, "reports_withheld": self.reports_withheld,
                "seconds": round(self.seconds, 2)}

    def public_manifest(self) -> dict[str, Any]:
        """What the published ``manifest.json`` says: the outcome and how many values, not which or why."""
        return {"status": self.status, "threshold": self.threshold, "checked": self.checked,
                "withheld": len(self.withheld), "reports_withheld": self.reports_withheld,
                "seconds": round(self.seconds, 2)}

    @property
    def diagnostics(self) -> pd.DataFrame:
        return pd.DataFrame(self.withheld + [dict(e, reason="exposed") for e in self.exposed])


def _row_keys(df: pd.DataFrame, row: Any) -> dict[str, Any]:
    keys = {}
    for c in df.columns:
        if df[c].dtype == object or isinstance(df[c].dtype, pd.CategoricalDtype) or c in ("week", "period", "date", "week_since_enrolment"):
            v = df.at[row, c]
            if c not in PERSON_COUNTS + ("reason", "unit", "label") and (isinstance(v, (str, int, np.integer)) or isinstance(v, pd.Timestamp)):
                keys[c] = str(v.date()) if isinstance(v, pd.Timestamp) else (v if isinstance(v, str) else int(v))
    return keys


def _facts(tables: dict[str, pd.DataFrame], results: dict[str, Any], readers: dict[str, Callable],
           unmodelled: list[str] | None = None) -> dict[str, list[Fact]]:
    facts: dict[str, list[Fact]] = {}
    for name, df in tables.items():
        reader = readers.get(name)
        if reader is None:
            if unmodelled is not None:
                unmodelled.append(name)
            continue
        for f in reader(name, df):
            facts.setdefault(f.population, []).append(f)
    for nb, entries in results.items():
        for key, where in RESULT_FACTS.items():
            e = entries.get(key)
            # a perturbed count is not an exact fact: no linear system can be solved with it
            if isinstance(e, dict) and "participants" in facts and not e.get("perturbed"):
                facts["participants"].append(Fact("participants", dict(where), _num(e.get("value")),
                                                  f"results.json[{nb}].{key}", ("results", nb, key), target=False))
    if "participants" in facts:
        facts["participants"] += _known_zeros(facts["participants"])
    return facts


def intervals(tables: dict[str, pd.DataFrame], results: dict[str, dict[str, Any]] | None = None, *,
              readers: dict[str, Callable[[str, pd.DataFrame], list[Fact]]] | None = None,
              max_atoms: int = 20_000) -> pd.DataFrame:
    """The analyst's interval ``[lo, hi]`` of every withheld count and period increment (no withholding).

    Columns: ``population``, ``label``, ``lo``, ``hi`` (counts; ``hi`` may be inf).
    """
    facts = _facts(tables, results or {}, {**READERS, **(readers or {})})
    out = []
    for pname, flist in facts.items():
        system = _build(POPULATIONS.get(pname, Population(pname)), flist, max_atoms)
        values = np.array([f.value for f in flist], float)
        published = np.array([f.published for f in flist], bool)
        for t, f in enumerate(flist):
            if f.target and not published[t]:
                lo, hi, *_ = _interval(system, flist, t, values, published)
                out.append({"population": pname, "label": f.label, "lo": lo, "hi": hi})
    return pd.DataFrame(out, columns=["population", "label", "lo", "hi"])


def audit(tables: dict[str, pd.DataFrame], results: dict[str, dict[str, Any]] | None = None, *,
          threshold: int = suppression.DEFAULT_THRESHOLD, max_rounds: int = 200, max_atoms: int = 20_000,
          readers: dict[str, Callable[[str, pd.DataFrame], list[Fact]]] | None = None,
          editable: set[str] | None = None) -> Audit:
    """Audit (and fix in place) a run's tables and results together; see the module docstring.

    ``tables`` maps table name -> DataFrame (modified in place where the audit
    withholds values); ``results`` is the merged ``results.json`` (modified in
    place). Raises :class:`DisclosureError` if it cannot make the run safe.
    ``readers`` overrides :data:`READERS`; ``editable`` limits the complements
    the audit may withhold to those tables (a builder protecting its own table
    against tables already published).
    """
    readers = {**READERS, **(readers or {})}
    t0 = time.time()
    results = results or {}
    rep = Audit(threshold=threshold)

    def withhold_table(name: str, row: Any, col: str, reason: str) -> None:
        df = tables[name]
        if pd.api.types.is_integer_dtype(df[col]) and not pd.api.types.is_extension_array_dtype(df[col]):
            df[col] = df[col].astype("Int64")
        df.loc[row, col] = pd.NA if pd.api.types.is_extension_array_dtype(df[col]) else np.nan
        if col == "n" and "suppressed" in df:  # a cell's n: the whole row goes (its estimates rest on it)
            df.loc[row, "suppressed"] = True
            for c in suppression.VALUE_COLUMNS:
                if c in df and c != col:
                    if pd.api.types.is_integer_dtype(df[c]) and not pd.api.types.is_extension_array_dtype(df[c]):
                        df[c] = df[c].astype("Int64")
                    df.loc[row, c] = pd.NA if pd.api.types.is_extension_array_dtype(df[c]) else np.nan
        if col == "enrolled" and "active_share" in df:  # the share gives the total back
            df.loc[row, "active_share"] = np.nan
        if col == "at_risk" and "survival" in df:  # the KM step gives the at-risk count back
            for c in ("events", "survival", "ci_low", "ci_high"):
                if c in df:
                    df.loc[row, c] = pd.NA if pd.api.types.is_extension_array_dtype(df[c]) else np.nan
        rep.withheld.append({"table": name, "row": _row_keys(df, row), "column": col, "reason": reason})

    def withhold_result(nb: str, key: str, reason: str) -> None:
        entry = results[nb][key]
        entry["value"] = None
        entry.pop("ci", None)
        entry["suppressed"] = True
        rep.withheld.append({"table": "results.json", "row": {"notebook": nb, "key": key}, "column": "value",
                             "reason": reason})

    # 1. primary rule on every person count that is published
    for name, df in tables.items():
        for col in [c for c in PERSON_COUNTS if c in df.columns]:
            vals = pd.to_numeric(df[col], errors="coerce")
            for row in df.index[(vals >= 1) & (vals < threshold)]:
                withhold_table(name, row, col, f"primary: a published count below {threshold}")
    for nb, entries in results.items():
        for key, e in entries.items():
            v = e.get("value") if isinstance(e, dict) else None
            if isinstance(e, dict) and e.get("unit") == "persons" and isinstance(v, (int, float)) and 1 <= v < threshold:
                withhold_result(nb, key, f"primary: a published count below {threshold}")

    # 2. the linear system, population by population
    facts = _facts(tables, results, readers, rep.unmodelled)
    rounds = 0
    for pname, flist in facts.items():
        pop = POPULATIONS.get(pname, Population(pname))
        try:
            system = _build(pop, flist, max_atoms)
        except ValueError as exc:  # too large to solve: refuse rather than publish unaudited
            rep.exposed.append({"label": str(exc), "lo": float("nan"), "hi": float("nan")})
            continue
        rep.populations[pname] = {"unknowns": system.n_vars, "facts": len(flist)}
        values = np.array([f.value for f in flist], float)
        published = np.array([f.published for f in flist], bool)
        queue = [i for i, f in enumerate(flist) if f.target and not published[i]]
        seen = set()
        while queue:
            t = queue.pop(0)
            if t in seen:
                continue
            lo, hi, dmin, dmax, rows = _interval(system, flist, t, values, published)
            rep.checked += 1
            if not exposed_window(lo, hi, threshold):
                seen.add(t)
                continue
            rounds += 1
            if rounds > max_rounds:
                rep.exposed.append({"label": flist[t].label, "lo": lo, "hi": hi})
                seen.add(t)
                continue
            pick = _complement(flist, rows, dmin, dmax, editable)
            if pick is None:
                rep.exposed.append({"label": flist[t].label, "lo": lo, "hi": hi})
                seen.add(t)
                continue
            f = flist[pick]
            reason = (f"complement: {flist[t].label} could be bounded to [{lo:g}, {hi:g}] "
                      f"(narrower than {threshold}) from the published tables")
            if f.key[0] == "results":
                withhold_result(f.key[1], f.key[2], reason)
            else:
                withhold_table(f.key[0], f.key[1], f.key[2], reason)
            # the same count printed elsewhere goes too (e.g. a total in two tables)
            for j, g in enumerate(flist):
                if published[j] and g.where == f.where and j != pick and g.key[0] != "known" \
                        and (editable is None or g.key[0] in editable):
                    published[j] = False
                    if g.key[0] == "results":
                        withhold_result(g.key[1], g.key[2], "same count as " + f.label)
                    else:
                        withhold_table(g.key[0], g.key[1], g.key[2], "same count as " + f.label)
            published[pick] = False
            values[pick] = np.nan
            queue.insert(0, t)  # solve it again
            if f.target:
                queue.append(pick)
    rep.seconds = time.time() - t0
    if rep.exposed:
        lines = "; ".join(f"{e['label']} in [{e['lo']:g}, {e['hi']:g}]" for e in rep.exposed[:5])
        raise DisclosureError(f"공개 거부: 표들을 함께 풀면 {threshold}명 미만 수치 {len(rep.exposed)}개를 알아낼 수 있습니다 / "
                              f"disclosure audit refused to publish: {len(rep.exposed)} count(s) below "
                              f"{threshold} can be derived from the run's tables ({lines})", rep.manifest())
    return rep


def _complement(facts: list[Fact], rows: np.ndarray | None, dmin, dmax, editable: set[str] | None = None) -> int | None:
    """The published fact to withhold: among those whose dual is non-zero in the bounding LPs, the smallest."""
    if rows is None:
        return None
    cand: set[int] = set()
    for d in (dmax, dmin):
        if d is not None:
            cand |= {int(rows[k]) for k in np.flatnonzero(np.abs(d) > 1e-9)}
    if not cand:
        return None
    cand = {j for j in cand if facts[j].key[0] != "known" and (editable is None or facts[j].key[0] in editable)}
    if not cand:
        return None
    # prefer table cells over results headlines, then the smallest count (least information lost)
    return min(cand, key=lambda j: (facts[j].key[0] == "results", facts[j].value, j))


# ------------------------------------------------------------------------------------------ a run folder
NOTICE = """<!doctype html><html lang="ko"><meta charset="utf-8"><title>{title}</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>{title}</h1>
<p>이 보고서는 게시하지 않았습니다. 공개 전 노출 점검(disclosure audit)에서 표들을 함께 풀면 참여자 {k}명 미만의
수치를 알아낼 수 있어 일부 칸을 추가로 비공개 처리했는데, 보고서는 그 전에 만들어졌기 때문입니다.
표와 대시보드는 비공개 처리된 값으로 볼 수 있습니다. 자세한 내용은 manifest.json의 "disclosure" 항목을 보세요.</p>
<p lang="en">This report was withheld. The pre-publication disclosure audit found that, solved together, the run's
tables revealed counts below {k} and withheld further cells; the report had been rendered before that.
Tables and dashboards show the protected values. Details: "disclosure" in manifest.json.</p></body></html>
"""


def audit_run(run_dir: str | Path, *, threshold: int = suppression.DEFAULT_THRESHOLD, **kwargs) -> Audit:
    """Audit ``<run_dir>/tables/*.parquet`` and ``results.json`` together and rewrite what the audit withholds.

    When the audit withheld anything, the HTML reports (rendered earlier from the
    unprotected numbers) are replaced by a notice. Raises :class:`DisclosureError`
    when the run cannot be published.
    """
    run_dir = Path(run_dir)
    folder = run_dir / "tables"
    from .report import is_perturbed

    paths = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    tables = {p.stem: pd.read_parquet(p) for p in paths}
    res_path = run_dir / "results.json"
    results = json.loads(res_path.read_text(encoding="utf-8")) if res_path.exists() else {}
    # perturbed tables are protected by design (record keys): their counts are noisy, not exact facts, so
    # they get the primary check only (a perturbed count is never 1..threshold-1)
    perturbed = {p.stem for p in paths if is_perturbed(p)}
    readers = {**READERS, **kwargs.pop("readers", {})}
    for name in perturbed:
        readers[name] = None  # no reader: primary check only
    rep = audit(tables, results, threshold=threshold, readers=readers, **kwargs)
    if rep.withheld:
        touched = {w["table"] for w in rep.withheld}
        from .provenance import default_for_run, of_table
        from .report import write_table

        for name in touched - {"results.json"}:
            tmp = folder / f".{name}.parquet.tmp"
            # the rewritten table keeps the source it was recorded with
            write_table(tmp, tables[name], of_table(folder / f"{name}.parquet") or default_for_run(run_dir))
            tmp.replace(folder / f"{name}.parquet")
        if "results.json" in touched:
            res_path.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
            for nb, entries in results.items():
                p = run_dir / "results" / f"{nb}.json"
                if p.exists():
                    p.write_text(json.dumps(entries, ensure_ascii=False, indent=2), encoding="utf-8")
        for html in _stale_reports(run_dir, rep.withheld, results):
            html.write_text(NOTICE.format(title=html.stem, k=threshold), encoding="utf-8")
            rep.reports_withheld.append(html.name)
    return rep


def _stale_reports(run_dir: Path, withheld: list[dict[str, Any]], results: dict[str, Any]) -> list[Path]:
    """HTML reports that may print a value the audit withheld.

    A report is stale when its executed notebook records a touched table (its
    name in quotes) and either the audit withheld complements there (notebooks
    display such tables, often reshaped) or the report names the blanked column
    (a primary count shown as a table column); and when it recorded a touched
    headline. All reports when a touched table cannot be traced to a notebook.
    """
    reports = sorted((run_dir / "reports").glob("*.html"))
    stale: set[Path] = set()
    for w in withheld:
        if w["table"] == "results.json":
            stale |= {h for h in reports if h.stem == w["row"]["notebook"]}
            continue
        traced = False
        for html in reports:
            nb = run_dir / "private" / "notebooks" / f"{html.stem}.ipynb"
            text = nb.read_text(encoding="utf-8") if nb.exists() else ""
            if f'\\"{w["table"]}\\"' in text or f"'{w['table']}'" in text:
                traced = True
                if not w["reason"].startswith("primary") or w["column"] in html.read_text(encoding="utf-8"):
                    stale.add(html)
        if not traced:
            return reports
    return sorted(stale)


def gate(run_dir: str | Path, manifest: dict[str, Any], *, threshold: int = suppression.DEFAULT_THRESHOLD,
         say: Callable[[str], None] = print) -> str | None:
    """The run's publishing gate (called by :func:`evaluation.runs.run`): audit, record in ``manifest["disclosure"]``.

    Returns ``None`` when the run may be published, else the name of the failed
    step (``"disclosure audit"``), with the reason in the manifest.
    """
    try:
        rep = audit_run(run_dir, threshold=threshold)
    except DisclosureError as exc:
        manifest["disclosure"] = dict(exc.report, error=str(exc))
        say(f"disclosure audit refused to publish: {exc}")
        return "disclosure audit"
    manifest["disclosure"] = rep.public_manifest()
    from .report import private_dir

    # which cells were withheld and why stays private: a published reason tells what a hidden value is
    (private_dir(run_dir) / "disclosure.json").write_text(json.dumps(rep.manifest(), ensure_ascii=False, indent=2,
                                                                     default=str), encoding="utf-8")
    say(rep.summary())
    return None
