"""An outsider's attack on published demo runs (issue 20, acceptance), written apart from the attack suite.

Reads only what a run publishes -- ``tables/*.parquet`` (with their Parquet metadata), ``results.json``,
``reports/*.html`` and the dashboards' pre-rendered ``views/`` (``*.html`` and ``index.json``) -- and tries
to recover withheld or perturbed person counts. It imports nothing from ``evaluation.publish.attacks``
(nor its helpers): pandas, numpy and scipy only, so a blind spot of the suite is not copied here.

What the attacker knows besides the files is what the README says about the method: counts are
cell-key perturbed with threshold 10 (a published 0 stands for 0-9, 10 for 1-12, 11 for 10-13, v >= 12
for v-2..v+2), the same set of people gets the same value everywhere, statistics are shown only where
the published n is at least 13 and are rounded (shares to 0.01 below n = 100, 0.001 from 100).

A finding is a count the attacker confines to ``[low, high]``. It is **recovered** when the window is
narrower than the threshold around a small non-zero count (``low >= 1``, ``high <= 9``), or is exact for
a count that was published perturbed or withheld; **narrowed** when it is tighter than the method itself
promises for that published value (e.g. a published 10 shown to be at most 11) without recovering it.

Usage::

    python benchmarks/attack_outsider.py RUN [RUN ...] [--json out.json] [--truth]

``--truth`` scores the findings afterwards against the run's ``private/`` results and the build inputs
named in its ``manifest.json`` (never used by the attack itself).
"""
from __future__ import annotations

import argparse
import ast
import itertools
import json
import math
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

T = 10          # threshold
NOISE = 2       # largest perturbation of a count >= 12
STAT_MIN = 13   # smallest published n behind a statistic
COUNT_NAMES = {"n", "participants", "participants_flagged", "enrolled", "active", "count", "cumulative",
               "persons", "people", "n_participants", "n_comparison", "n_programme", "at_risk", "events"}
DAY_NAMES = {"person_days", "n_days", "participant_days"}
TOTAL = {None, "", "all", "total", "합계", "전체", "pooled"}
SKIP_PROVENANCE = {"seed", "official", "illustrative"}


# ------------------------------------------------------------------------------------------ reading
class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in ("p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "span", "table"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def text_of(html: str) -> str:
    p = _Text()
    p.feed(html)
    return re.sub(r"\n\s*\n+", "\n", re.sub(r"[ \t\r\f\v]+", " ", "".join(p.parts)))


@dataclass
class Run:
    path: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    perturbed: set[str] = field(default_factory=set)
    provenance: dict[str, str] = field(default_factory=dict)
    results: dict[str, dict] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)
    views_index: dict = field(default_factory=dict)


def load(path: str | Path) -> Run:
    run = Run(Path(path))
    for p in sorted((run.path / "tables").glob("*.parquet")):
        meta = pq.read_schema(p).metadata or {}
        prov = json.loads(meta.get(b"evaluation.provenance", b"{}") or b"{}")
        run.provenance[p.stem] = str(prov.get("kind", ""))
        if meta.get(b"evaluation.perturbed") == b"true":
            run.perturbed.add(p.stem)
        run.tables[p.stem] = pd.read_parquet(p)
    if (run.path / "results.json").exists():
        run.results = json.loads((run.path / "results.json").read_text(encoding="utf-8"))
    for p in sorted((run.path / "reports").glob("*.html")):
        run.reports[p.stem] = text_of(p.read_text(encoding="utf-8", errors="replace"))
    vdir = run.path / "views"
    if vdir.is_dir():
        for p in sorted(vdir.rglob("*.html")):
            run.views[str(p.relative_to(vdir))] = text_of(p.read_text(encoding="utf-8", errors="replace"))
        if (vdir / "index.json").exists():
            run.views_index = json.loads((vdir / "index.json").read_text(encoding="utf-8"))
    return run


def people_tables(run: Run) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in run.tables.items() if run.provenance.get(k) not in SKIP_PROVENANCE}


def results_people(run: Run) -> list[tuple[str, str, float, bool]]:
    out = []
    for nb, es in run.results.items():
        if not isinstance(es, dict):
            continue
        for k, e in es.items():
            if not isinstance(e, dict) or (e.get("provenance") or {}).get("kind") in SKIP_PROVENANCE:
                continue
            v = e.get("value")
            if isinstance(v, (int, float)) and not isinstance(v, bool) and str(e.get("unit", "")).lower() in (
                    "persons", "people", "participants", "person-days"):
                out.append((nb, k, float(v), bool(e.get("perturbed"))))
    return out


# ------------------------------------------------------------------------------------------ the method's windows
def window(v: float, perturbed: bool) -> tuple[float, float]:
    """True counts a published value can stand for."""
    if not perturbed:
        return v, v
    if v <= 0:
        return 0.0, T - 1.0
    if v < T:
        return v, v  # never produced by the method
    if v == T:
        return 1.0, T + NOISE
    return max(T, v - NOISE), v + NOISE


@dataclass
class Finding:
    run: str
    attack: str
    source: str
    cell: str
    published: str
    low: float
    high: float
    own_low: float
    own_high: float
    how: str
    truth: float | None = None

    @property
    def recovered(self) -> bool:
        small = self.low >= 1 and self.high <= T - 1
        exact = self.low == self.high and (self.own_low != self.own_high)
        return small or exact

    @property
    def narrowed(self) -> bool:
        return (self.low > self.own_low or self.high < self.own_high) and self.high - self.low < T and self.low < T


class Findings(list):
    def add(self, f: Finding) -> None:
        if f.low > f.high:
            return
        if f.recovered or f.narrowed:
            self.append(f)


def is_count(col: str) -> bool:
    c = col.lower()
    return c in COUNT_NAMES or c.startswith("n_") and c not in DAY_NAMES


def dims_of(df: pd.DataFrame) -> list[str]:
    out = []
    for c in df.columns:
        lc = str(c).lower()
        if is_count(lc) or lc in DAY_NAMES or lc in ("margin", "suppressed", "metric", "unit", "estimate"):
            continue
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_float_dtype(s):
            continue
        if pd.api.types.is_integer_dtype(s) and not any(w in lc for w in ("week", "bin", "year", "month", "group", "wave")):
            continue
        out.append(str(c))
    return out


def level(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return str(v.date())
    s = str(v)
    return None if s.strip().lower() in {"all", "total", "합계", "전체", "pooled", ""} else s


# ------------------------------------------------------------------------------------------ the solver
def bounds(a: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: np.ndarray, narrow: float = 2 * T) -> tuple[float, float] | None:
    """min/max of target @ x over integer x >= 0 with lo <= a x <= hi (LP, then MILP when narrow)."""
    eq = lo == hi
    a_ub = np.vstack([a[~eq & np.isfinite(hi)], -a[~eq & (lo > 0)]])
    b_ub = np.r_[hi[~eq & np.isfinite(hi)], -lo[~eq & (lo > 0)]]
    kw = dict(A_ub=a_ub if len(a_ub) else None, b_ub=b_ub if len(a_ub) else None,
              A_eq=a[eq] if eq.any() else None, b_eq=lo[eq] if eq.any() else None, bounds=(0, None), method="highs")
    r1, r2 = linprog(target, **kw), linprog(-target, **kw)
    if r1.status == 2:
        return None
    lo_t = max(0.0, math.ceil(r1.fun - 1e-6)) if r1.status == 0 else 0.0
    hi_t = math.floor(-r2.fun + 1e-6) if r2.status == 0 else math.inf
    if hi_t - lo_t <= narrow:
        con = LinearConstraint(a, lo, np.where(np.isfinite(hi), hi, np.inf))
        opts = {"time_limit": 5, "disp": False}
        m1 = milp(target, constraints=con, integrality=np.ones(a.shape[1]), bounds=Bounds(0, np.inf), options=opts)
        m2 = milp(-target, constraints=con, integrality=np.ones(a.shape[1]), bounds=Bounds(0, np.inf), options=opts)
        if m1.status == 0:
            lo_t = max(lo_t, math.ceil(m1.fun - 1e-6))
        if m2.status == 0:
            hi_t = min(hi_t, math.floor(-m2.fun + 1e-6))
    return lo_t, hi_t


# ------------------------------------------------------------------------------------------ attack A: each table's cells and margins
def attack_margins(run: Run, out: Findings) -> int:
    """Cells and margins of one table (margins are rows with an empty key), every published value read
    through the method's window; integer programme for each one."""
    attacked = 0
    for name, df in people_tables(run).items():
        dims = dims_of(df)
        counts = [c for c in df.columns if is_count(str(c)) and pd.api.types.is_numeric_dtype(df[c])
                  and not pd.api.types.is_bool_dtype(df[c]) and c != "cumulative"]
        if not dims or not counts or len(df) > 3000:
            continue
        for col in counts:
            keys = [tuple(level(r[d]) for d in dims) for _, r in df.iterrows()]
            full = [k for k in keys if all(x is not None for x in k)]
            if len(full) == len(keys) and "cumulative" not in df.columns:
                continue  # no margins: nothing to combine
            levels = [sorted({k[i] for k in full}) for i in range(len(dims))]
            grid = list(itertools.product(*levels))
            if len(grid) > 4000 or not grid:
                continue
            pos = {g: i for i, g in enumerate(grid)}
            pert = name in run.perturbed
            printed = pd.to_numeric(df[col], errors="coerce")
            fullmask = [all(x is not None for x in k) for k in keys]
            sums = all(abs(printed.iloc[j] - sum(printed.iloc[i] for i, kk in enumerate(keys) if fullmask[i]
                                                   and all(k[d] is None or kk[d] == k[d] for d in range(len(dims)))))
                       < 1e-9 for j, k in enumerate(keys) if not fullmask[j] and pd.notna(printed.iloc[j]))
            if sums and not all(fullmask) and "cumulative" not in df.columns:
                continue  # margins are the sums of the printed cells: they say nothing more
            rows, lo, hi, what = [], [], [], []
            for (_, r), k in zip(df.iterrows(), keys):
                v = pd.to_numeric(r[col], errors="coerce")
                row = np.array([all(k[i] is None or g[i] == k[i] for i in range(len(dims))) for g in grid], float)
                w = (0.0, math.inf) if pd.isna(v) else window(float(v), pert)
                rows.append(row); lo.append(w[0]); hi.append(w[1]); what.append((k, v, w))
            if "cumulative" in df.columns and col != "cumulative":
                tdim = next((i for i, d in enumerate(dims) if pd.api.types.is_datetime64_any_dtype(df[d])), None)
                others = [d for i, d in enumerate(dims) if i != tdim]
                srt = df.sort_values(dims[tdim]) if tdim is not None else df
                printed = pd.to_numeric(srt[col], errors="coerce").fillna(0)
                run_sum = printed.groupby([srt[d].astype(str) for d in others]).cumsum() if others else printed.cumsum()
                if tdim is not None and np.allclose(run_sum.to_numpy(float), pd.to_numeric(srt["cumulative"], errors="coerce")):
                    tdim = None  # the running total is the sum of the printed periods: nothing new
                if tdim is not None:
                    for (_, r), k in zip(df.iterrows(), keys):
                        v = pd.to_numeric(r["cumulative"], errors="coerce")
                        if pd.isna(v) or k[tdim] is None:
                            continue
                        row = np.array([all((i == tdim and g[i] <= k[i]) or (i != tdim and (k[i] is None or g[i] == k[i]))
                                            for i in range(len(dims))) for g in grid], float)
                        w = window(float(v), pert)  # a running total perturbed as a cell of its own
                        rows.append(row); lo.append(w[0]); hi.append(w[1])
                        what.append(None)
            a, lo_a, hi_a = np.array(rows), np.array(lo), np.array(hi)
            for j, wt in enumerate(what):
                if wt is None:
                    continue
                k, v, w = wt
                attacked += 1
                b = bounds(a, lo_a, hi_a, a[j])
                if b is None:
                    out.add(Finding(run.path.parent.name, "margins", name, f"{dict(zip(dims, k))}: {col}", str(v), 0, 0,
                                    *w, "published values contradict the method's windows"))
                    break
                out.add(Finding(run.path.parent.name, "margins", name, f"{dict(zip(dims, k))}: {col}", str(v), b[0], b[1],
                                *w, f"integer programme over {len(grid)} cells, {len(rows)} published values"))
    return attacked


# ------------------------------------------------------------------------------------------ attack A2: tables of the same people, jointly
# which people each published count covers, as an outsider reads the labels ("등록자" = enrolled arms only)
ENROLLED = "__enrolled__"
POPULATIONS = {
    "smartband_9988": {
        "dims": ("district", "arm", "sex"),
        "tables": {"enrolment_by_district_arm": ("participants", {}), "participants_by_arm": ("participants", {}),
                   "enrolment_by_district": ("enrolled", {"arm": ENROLLED})},
        "results": {"participants_total": {}, "participants_enrolled": {"arm": ENROLLED}, "n_joiners": {"arm": ENROLLED},
                    "participants_comparison": {"arm": {"comparison"}}, "n_comparison": {"arm": {"comparison"}}},
    },
    "mobile_healthcare_ilsandong": {
        "dims": ("arm", "group"),
        "tables": {"records_by_group": ("n", {})},
        "results": {"participants_enrolled": {"arm": {"participant"}}, "comparison_group_size": {"arm": {"waiting_list"}}},
        # exact (unperturbed) counts of the same people printed in other tables
        "exact": {("kpis", "n", "indicator", "completion", "group", "participants", "week", 12): {"arm": {"participant"}},
                  ("kpis", "n", "indicator", "eligible_at_baseline", "group", "comparison", "week", 0): {"arm": {"waiting_list"}},
                  ("baseline_by_group", "n_participants", "measure", "age", None, None, None, None): {"arm": {"participant"}},
                  ("baseline_by_group", "n_comparison", "measure", "age", None, None, None, None): {"arm": {"waiting_list"}}},
    },
}


def attack_joint(run: Run, out: Findings, notes: list[str]) -> int:
    """Every table and headline about one set of people in one integer programme over their finest cells
    (e.g. district x arm x sex): the district x arm cells, the district x sex cells of the enrolled arms,
    arm totals, headline totals, each through the method's window (exact where printed unperturbed)."""
    prog = run.path.parent.name
    cfg = POPULATIONS.get(prog)
    if cfg is None:
        return 0
    dims = cfg["dims"]
    levels: dict[str, set] = {d: set() for d in dims}
    facts: list[tuple[dict, float, float, str, str, tuple[float, float], bool]] = []
    for name, (col, fixed) in cfg["tables"].items():
        df = run.tables.get(name)
        if df is None:
            continue
        for _, r in df.iterrows():
            where = {d: {level(r[d])} for d in dims if d in df.columns and level(r[d]) is not None}
            for d, s in where.items():
                levels[d] |= s
            where.update({d: v for d, v in fixed.items()})
            v = pd.to_numeric(r[col], errors="coerce")
            w = (0.0, math.inf) if pd.isna(v) else window(float(v), name in run.perturbed)
            facts.append((where, *w, name, f"{ {d: next(iter(s)) for d, s in where.items() if isinstance(s, set) and len(s) == 1} }: {col}",
                          w, True))
    for nb, key, v, pert in results_people(run):
        if key in cfg["results"]:
            w = window(v, pert)
            facts.append((dict(cfg["results"][key]), *w, "results.json", f"{nb}.{key}", w, True))
    for (name, col, k1, v1, k2, v2, k3, v3), fixed in cfg.get("exact", {}).items():
        df = run.tables.get(name)
        if df is None or col not in df.columns:
            continue
        sel = df
        for k, v in ((k1, v1), (k2, v2), (k3, v3)):
            if k is not None and k in sel.columns:
                sel = sel[sel[k].astype(str) == str(v)]
        if len(sel):
            v = float(sel[col].iloc[0])
            facts.append((dict(fixed), v, v, name, f"{col} ({v1}, {v2})", (v, v), False))
    arms = levels.get("arm", set())
    enrolled = {a for a in arms if a not in ("comparison", "waiting_list")}
    grid = list(itertools.product(*[sorted(levels[d]) for d in dims]))
    if not grid or len(grid) > 5000:
        return 0
    rows, lo, hi = [], [], []
    for where, a, b, *_ in facts:
        sel = {d: (enrolled if s == ENROLLED else s) for d, s in where.items()}
        rows.append(np.array([all(g[i] in sel[d] for i, d in enumerate(dims) if d in sel) for g in grid], float))
        lo.append(a); hi.append(b)
    a_m, lo_a, hi_a = np.array(rows), np.array(lo), np.array(hi)
    attacked = 0
    for j, (where, a, b, src, cell, own, target) in enumerate(facts):
        if not target or a == b:
            continue
        attacked += 1
        res = bounds(a_m, lo_a, hi_a, a_m[j])
        if res is None:
            notes.append(f"joint {prog}: the published numbers do not fit the method's windows (model of who is counted wrong?)")
            return attacked
        out.add(Finding(prog, "joint", src, cell, f"[{a:g}, {b:g}]", res[0], res[1], *own,
                        f"integer programme over {len(grid)} cells ({' x '.join(dims)}) and {len(facts)} published values"))
    return attacked


# ------------------------------------------------------------------------------------------ attack B: the same people in two places
def attack_consistency(run: Run, out: Findings, notes: list[str]) -> int:
    """Values that describe the same people (a 1-D table against another table's margin, a headline
    printed by two notebooks, a dashboard figure against its table): under cell keys they must agree; two
    different values would be two independent draws to average."""
    seen: dict[tuple, list[tuple[str, float]]] = {}
    for name, df in people_tables(run).items():
        dims = dims_of(df)
        for col in [c for c in df.columns if is_count(str(c)) and pd.api.types.is_numeric_dtype(df[c])]:
            for _, r in df.iterrows():
                k = tuple(sorted((d, level(r[d])) for d in dims if level(r[d]) is not None))
                v = pd.to_numeric(r[col], errors="coerce")
                if pd.notna(v) and len(k) == 1:  # a 1-D margin or a 1-D table's cell
                    seen.setdefault(("cell", col if col != "participants" else "n", k), []).append((name, float(v)))
    for nb, key, v, pert in results_people(run):
        seen.setdefault(("headline", key), []).append((f"results.json {nb}", v))
    checked = 0
    for key, vals in seen.items():
        if len({s for s, _ in vals}) < 2:
            continue
        checked += 1
        distinct = sorted({v for _, v in vals})
        if len(distinct) > 1:
            notes.append(f"{key}: different values {vals} -- independent draws (or different people)")
    return checked


# ------------------------------------------------------------------------------------------ attack C: totals printed elsewhere
def attack_totals(run: Run, out: Findings) -> int:
    """A headline total against the sum of a table's published cells (the cells of one dimension
    partition the same people): with every cell's window, the withheld/perturbed cells' sum is bounded."""
    done = 0
    heads = [(nb, k, v, p) for nb, k, v, p in results_people(run)]
    for name, df in people_tables(run).items():
        dims = [d for d in dims_of(df) if not pd.api.types.is_datetime64_any_dtype(df[d])
                and not re.search(r"week|date|period|month|day", d)]  # partitions of people, not time
        cols = [c for c in df.columns if is_count(str(c)) and pd.api.types.is_numeric_dtype(df[c]) and c != "cumulative"]
        if not dims and any(str(c).endswith("_from") for c in df.columns):
            dims = [next(str(c) for c in df.columns if str(c).endswith("_from"))]  # bins of a histogram
            cols = [c for c in df.columns if str(c) in DAY_NAMES] + cols
        if len(dims) != 1 or not cols or len(dims_of(df)) > 1:
            continue
        col = cols[0]
        days = col in DAY_NAMES
        cells = df[[level(x) is not None for x in df[dims[0]]]]
        vals = pd.to_numeric(cells[col], errors="coerce")
        pert = name in run.perturbed
        ws = [(0.0, math.inf) if pd.isna(v) else window(float(v), pert) for v in vals]
        for nb, key, tv, tp in heads:
            if days != (key.endswith("days")):
                continue
            tw = window(tv, tp)
            s_lo, s_hi = sum(w[0] for w in ws), sum(w[1] for w in ws)
            if not (s_lo <= tw[1] and s_hi >= tw[0]) or not math.isfinite(s_hi):
                continue  # not the same people
            done += 1
            for i, (lv, w) in enumerate(zip(cells[dims[0]], ws)):
                rest_lo = sum(x[0] for j, x in enumerate(ws) if j != i)
                rest_hi = sum(x[1] for j, x in enumerate(ws) if j != i)
                lo, hi = max(w[0], tw[0] - rest_hi), min(w[1], tw[1] - rest_lo)
                out.add(Finding(run.path.parent.name, "totals", name, f"{dims[0]}={lv}: {col}", str(vals.iloc[i]),
                                lo, hi, *w, f"results.json {nb}.{key} = {tv:g} minus the other cells"))
    return done


# ------------------------------------------------------------------------------------------ attack D: shares and means
def decimals(v: float) -> int:
    s = repr(float(v))
    return 17 if "e" in s else (len(s.split(".")[1].rstrip("0")) if "." in s else 0)


def denominators(run: Run) -> list[tuple[str, tuple[float, float]]]:
    """Every plausible denominator an outsider can read: published person counts (as windows)."""
    out: dict[tuple[float, float], str] = {}
    for nb, key, v, p in results_people(run):
        if v >= T:
            out.setdefault(window(v, p), f"results.json {nb}.{key}")
    for name, df in people_tables(run).items():
        for col in [c for c in df.columns if is_count(str(c)) and pd.api.types.is_numeric_dtype(df[c])]:
            for v in pd.to_numeric(df[col], errors="coerce").dropna().unique():
                if v >= STAT_MIN:
                    out.setdefault(window(float(v), name in run.perturbed), f"{name}.{col}")
    return [(s, w) for w, s in out.items()]


def numerator_window(s: float, half: float, n_lo: float, n_hi: float) -> tuple[list[int], list[int]] | None:
    ks, rests = [], []
    for n in range(int(n_lo), int(n_hi) + 1):
        if n <= 0:
            continue
        for k in range(math.ceil((s - half) * n - 1e-9), math.floor((s + half) * n + 1e-9) + 1):
            if 0 <= k <= n:
                ks.append(k); rests.append(n - k)
    return (ks, rests) if ks else None


def attack_shares(run: Run, out: Findings) -> int:
    """Every share in a table (0..1, named share/rate/mean of a binary) and in results.json, times its
    row's n, and times every published person count: numerators and rests that come out small."""
    tried = 0
    dens = denominators(run)
    for name, df in people_tables(run).items():
        share_cols = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])
                      and re.search(r"share|rate|prop|survival|mean_treated|mean_control|mean_part|mean_comp|female", str(c))
                      and not re.search(r"ci_|_se$|^se", str(c))]
        ncol = next((c for c in df.columns if str(c) in ("n", "n_participants", "at_risk", "enrolled", "n_programme")), None)
        for c in share_cols:
            col = pd.to_numeric(df[c], errors="coerce")
            if not col.dropna().between(0, 1).all() or col.dropna().empty:
                continue
            half = 0.5 * 10.0 ** (-min(max(decimals(v) for v in col.dropna()), 12))
            for i, s in col.items():
                if pd.isna(s) or (df.loc[i, "type"] != "binary" if "type" in df.columns else False):
                    continue
                num = next((x for x in df.columns if x != ncol and is_count(str(x)) and str(c).startswith(str(x))), None)
                if num is not None and ncol is not None and pd.notna(df.loc[i, num]) and df.loc[i, ncol] and \
                        abs(float(df.loc[i, num]) / float(df.loc[i, ncol]) - s) <= half + 1e-12:
                    continue  # a share of the printed (perturbed) counts: nothing beyond them
                cands = []
                if ncol is not None and pd.notna(df.loc[i, ncol]):
                    cands = [(f"{name}.{ncol}", window(float(df.loc[i, ncol]), name in run.perturbed))]
                else:
                    cands = dens
                tried += 1
                fits = [(src, numerator_window(float(s), half, *w)) for src, w in cands]
                fits = [(src, f) for src, f in fits if f is not None]
                if not fits:
                    continue
                ks = [k for _, f in fits for k in f[0]]
                rs = [r for _, f in fits for r in f[1]]
                cell = f"row {i} {c}" + (f" ({df.loc[i, 'covariate']}, {df.loc[i, 'method']})" if "covariate" in df.columns else "")
                how = f"{c} {s:g} (±{half:g}) × " + ", ".join(src for src, _ in fits[:3]) + (" …" if len(fits) > 3 else "")
                out.add(Finding(run.path.parent.name, "shares", name, cell + " numerator", f"{s:g}", min(ks), max(ks),
                                0, math.inf, how))
                out.add(Finding(run.path.parent.name, "shares", name, cell + " rest", f"{s:g}", min(rs), max(rs),
                                0, math.inf, how))
    for nb, es in run.results.items():
        for key, e in es.items():
            if not isinstance(e, dict) or not str(e.get("unit", "")).startswith("share") or e.get("value") is None:
                continue
            if (e.get("provenance") or {}).get("kind") in SKIP_PROVENANCE:
                continue
            s = float(e["value"])
            half = 0.5 * 10.0 ** (-min(decimals(s), 12))
            tried += 1
            fits = [(src, numerator_window(s, half, *w)) for src, w in dens if src.startswith(f"results.json {nb}")]
            fits = [(src, f) for src, f in fits if f is not None]
            if fits:
                ks = [k for _, f in fits for k in f[0]]
                rs = [r for _, f in fits for r in f[1]]
                how = f"{key} {s:g} × " + ", ".join(src for src, _ in fits[:3])
                out.add(Finding(run.path.parent.name, "shares", "results.json", f"{nb}.{key} numerator", f"{s:g}",
                                min(ks), max(ks), 0, math.inf, how))
                out.add(Finding(run.path.parent.name, "shares", "results.json", f"{nb}.{key} rest", f"{s:g}",
                                min(rs), max(rs), 0, math.inf, how))
            if decimals(s) >= 4:  # more decimals than the gate's rounding: decode the fraction
                f = Fraction(s).limit_denominator(T - 1)
                if abs(float(f) - s) < 0.5 * 10 ** -decimals(s) and 0 < f.numerator:
                    out.add(Finding(run.path.parent.name, "shares", "results.json", f"{nb}.{key} small fraction",
                                    f"{s:g}", f.numerator, f.numerator, 0, math.inf, f"{s!r} = {f} (denominator < {T})"))
    return tried


def attack_fractions(run: Run, out: Findings, notes: list[str]) -> int:
    """Shares printed with more decimals than the rounding rule allows (4+) decode to fractions: the
    smallest group they can be a share of (any multiple fits as well, so this is a lead, not a count)."""
    tried = 0
    for name, df in people_tables(run).items():
        for c in [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]:
            col = pd.to_numeric(df[c], errors="coerce").dropna()
            if col.empty or not col.between(0, 1).all() or max(decimals(v) for v in col) < 4:
                continue
            d = max(decimals(v) for v in col)
            for i, s in col.items():
                if s in (0.0, 1.0):
                    continue
                tried += 1
                # smallest denominator consistent with the printed digits
                n = next((n for n in range(1, 2000) if abs(round(s * n) / n - s) <= 0.5 * 10 ** -d), None)
                if n is not None and n < 100:
                    k = round(s * n)
                    cell = f"row {i} {c}" + (f" ({df.loc[i, 'covariate']}, {df.loc[i, 'method']})" if "covariate" in df.columns else "")
                    notes.append(f"{name} {cell} = {s:g} printed to {d} decimals (more than the rounding rule): {k}/{n} "
                                 f"in lowest terms, so the group is a multiple of {n}")
    return tried


# ------------------------------------------------------------------------------------------ attack E: week since enrolment
def attack_week_since(run: Run, out: Findings, notes: list[str]) -> int:
    """The week-since-enrolment table: people printed (the people metric's estimate) and person-days; the
    levels of each dimension partition the same people each week, so a week whose people are known from
    one dimension bounds the withheld levels of another (each listed level has someone)."""
    tried = 0
    for name, df in people_tables(run).items():
        wcol = next((c for c in df.columns if re.search(r"since", str(c))), None)
        if wcol is None or "dimension" not in df.columns:
            continue
        ppl = df[df.get("metric", pd.Series("", index=df.index)).astype(str).eq("participants")] if "metric" in df else df
        val = "n" if "n" in ppl.columns else "estimate"
        for k, g in ppl.groupby(wcol):
            totals = {}
            for dim, h in g.groupby("dimension"):
                v = pd.to_numeric(h[val], errors="coerce")
                if v.notna().all():
                    totals[dim] = float(v.sum())
            if not totals:
                continue
            total = next(iter(totals.values()))
            if len(set(totals.values())) > 1:
                notes.append(f"{name} week {k}: dimensions disagree on the total {totals}")
            for dim, h in g.groupby("dimension"):
                v = pd.to_numeric(h[val], errors="coerce")
                hidden = h[v.isna()]
                if hidden.empty:
                    continue
                tried += len(hidden)
                rest = total - v.sum()
                for _, r in hidden.iterrows():
                    lo = max(1.0, rest - (len(hidden) - 1) * (STAT_MIN - 1))
                    hi = rest - (len(hidden) - 1)
                    out.add(Finding(run.path.parent.name, "week_since", name, f"{wcol}={k}, {dim}={r['level']}",
                                    "withheld", lo, hi, 0, math.inf,
                                    f"week total {total:g} (from {list(totals)}) minus the shown levels = {rest:g} over "
                                    f"{len(hidden)} withheld levels (each 1..{STAT_MIN - 1} when shown only from {STAT_MIN})"))
    return tried


# ------------------------------------------------------------------------------------------ attack F: text (reports and views)
PEOPLE_NUM = [re.compile(r"(?<![\d.,])(\d[\d,]*)\s*명(?!\s*(?:미만|이상|이하|초과|당))"),
              re.compile(r"(?<![\d.,])(\d[\d,]*)\s+(?:people|participants|persons|joiners)\b", re.I)]
VIEW_LABEL = re.compile(r"(등록자|참여자|지난주 활동 참여자|enrolled|participants|active)[^\n]*\n\s*([\d,]+)\s*\n", re.I)
CLAIM = re.compile(r"(비공개 \(n\s*<\s*(\d+)\)|참여자가 (\d+)명 미만|fewer than (\d+) participants)")


def published_numbers(run: Run) -> set[float]:
    vals: set[float] = set()
    for df in run.tables.values():
        for c in df.columns:
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
                vals |= set(pd.to_numeric(df[c], errors="coerce").dropna().round(6).tolist())
    for es in run.results.values():
        for e in es.values() if isinstance(es, dict) else []:
            if isinstance(e, dict) and isinstance(e.get("value"), (int, float)):
                vals.add(round(float(e["value"]), 6))
    return vals


def attack_text(run: Run, out: Findings, notes: list[str]) -> int:
    """People counts printed in reports and dashboards: under 10, or not found anywhere in the published
    tables and results (a number the dashboard computed: new information); and withholding claims that
    say what a hidden value is."""
    known = published_numbers(run)
    n = 0
    for kind, texts in (("reports", run.reports), ("views", run.views)):
        for page, text in texts.items():
            for pat in PEOPLE_NUM:
                for m in pat.finditer(text):
                    v = float(m.group(1).replace(",", ""))
                    n += 1
                    if 0 < v < T:
                        out.add(Finding(run.path.parent.name, "text", f"{kind}/{page}", text[max(0, m.start() - 40):m.end()].strip(),
                                        f"{v:g}", v, v, 0, math.inf, "a small number of people printed"))
            for m in VIEW_LABEL.finditer(text):
                v = float(m.group(2).replace(",", ""))
                n += 1
                if 0 < v < T:
                    out.add(Finding(run.path.parent.name, "text", f"{kind}/{page}", m.group(0).strip(), f"{v:g}", v, v, 0, math.inf,
                                    "a small count printed on a dashboard card"))
                elif round(v, 6) not in known:
                    notes.append(f"{kind}/{page}: '{m.group(0).strip()}' is not a published value (computed by the page)")
            for m in CLAIM.finditer(text):
                notes.append(f"{kind}/{page}: claim '{m.group(0)}' -- says a withheld statistic's n is under "
                             f"{m.group(2) or m.group(3) or m.group(4)} (the gate withholds below {STAT_MIN})")
    return n


# ------------------------------------------------------------------------------------------ attack G: printed small counts
def attack_printed(run: Run, out: Findings) -> int:
    """Any count printed between 1 and 9 (the method never publishes one), in any table or headline."""
    n = 0
    for name, df in people_tables(run).items():
        for c in [c for c in df.columns if (is_count(str(c)) or str(c) in DAY_NAMES) and pd.api.types.is_numeric_dtype(df[c])
                  and not pd.api.types.is_bool_dtype(df[c])]:
            for i, v in pd.to_numeric(df[c], errors="coerce").items():
                if pd.isna(v):
                    continue
                n += 1
                if 0 < v < T:
                    out.add(Finding(run.path.parent.name, "printed", name, f"row {i}: {c}", f"{v:g}", v, v, 0, math.inf,
                                    "a count printed between 1 and 9"))
    for nb, key, v, p in results_people(run):
        n += 1
        if 0 < v < T:
            out.add(Finding(run.path.parent.name, "printed", "results.json", f"{nb}.{key}", f"{v:g}", v, v, 0, math.inf,
                            "a headline between 1 and 9"))
    return n


# ------------------------------------------------------------------------------------------ attack H: what a page says about one cell
def attack_claims(run: Run, out: Findings) -> int:
    """A district page that says all its weekly values have fewer than 10 participants: every listed
    (week, district) row of the week-since-enrolment table is then read as 1..9 people (listed: someone)."""
    tab = run.tables.get("steps_by_week_since_enrolment")
    n = 0
    for page, text in run.views.items():
        m = re.search(r"/(\d{5})\.html$", page)
        if not m or not re.search(r"주별 값은 모두 참여자가 (\d+)명 미만|Every weekly value of this district has fewer than (\d+)", text):
            continue
        code = m.group(1)
        if tab is None or "dimension" not in tab.columns:
            continue
        rows = tab[(tab["dimension"] == "district") & (tab["level"].astype(str) == code) & (tab["metric"] == "participants")]
        for _, r in rows.iterrows():
            n += 1
            out.add(Finding(run.path.parent.name, "claims", "steps_by_week_since_enrolment",
                            f"week_since_enrolment={r['week_since_enrolment']}, district={code}", "withheld", 1, T - 1, 0, math.inf,
                            f"views/{page} says every weekly value of this district has fewer than {T} participants; "
                            "the row is listed (someone)"))
    return n


# ------------------------------------------------------------------------------------------ scoring (after the attack)
def truth_for(run_dir: Path, root: Path | None = None) -> dict[str, Any]:
    """Unprotected values, for scoring only: private/<notebook>.results.json and the run's participants."""
    truth: dict[str, Any] = {"results": {}}
    for p in (run_dir / "private").glob("*.results.json"):
        nb = p.name.split(".")[0]
        truth["results"][nb] = json.loads(p.read_text(encoding="utf-8"))
    man = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    root = root or Path(man.get("project_root", "."))
    inputs = (man.get("params") or {}).get("inputs") or {}
    if "participants" in inputs and (root / inputs["participants"]).exists():
        truth["participants"] = pd.read_parquet(root / inputs["participants"])
        truth["daily"] = root / inputs.get("daily", "")
    return truth


def score(f: Finding, truth: dict[str, Any]) -> float | None:
    m = re.match(r"(\S+)\.(\S+) ", f.cell + " ")
    if f.source == "results.json" and m and m.group(1) in truth["results"]:
        e = truth["results"][m.group(1)].get(m.group(2).replace(" numerator", "").replace(" rest", ""))
        return None if e is None else e.get("value")
    p = truth.get("participants")
    if p is None:
        return None
    enrolled = p[p["enrolled_on"].notna()] if "enrolled_on" in p else p
    cell = f.cell
    if f.source == "enrolment_by_district_arm" and "participants" in cell:
        w = ast.literal_eval(cell.rsplit(": ", 1)[0])  # the finding's own key dict
        q = p
        for k, v in w.items():
            if v is not None:
                q = q[q[k].astype(str) == v]
        return float(len(q))
    if f.source == "enrolment_by_district" and "enrolled" in cell:
        w = ast.literal_eval(cell.rsplit(": ", 1)[0])
        q = enrolled
        for k, v in w.items():
            if v is not None:
                q = q[q[k].astype(str) == v]
        return float(len(q))
    if f.source == "participants_by_arm":
        w = ast.literal_eval(cell.rsplit(": ", 1)[0])
        return float((p["arm"].astype(str) == w["arm"]).sum())
    if f.source == "steps_by_week_since_enrolment" and truth.get("week_since") is not None:
        k, rest = cell.split(", ", 1)
        dim, lv = rest.split("=", 1)
        ws = truth["week_since"]
        hit = ws[(ws["week_since_enrolment"] == int(k.split("=")[1])) & (ws["dimension"] == dim) & (ws["level"] == lv)]
        return float(hit["n"].iloc[0]) if len(hit) else 0.0
    return None


def week_since_truth(truth: dict[str, Any]) -> pd.DataFrame | None:
    """People per (week since enrolment, dimension, level) from the daily store (scoring only)."""
    try:
        import duckdb
    except ImportError:
        return None
    daily = truth.get("daily")
    p = truth.get("participants")
    if daily is None or p is None or not Path(daily).exists():
        return None
    con = duckdb.connect()
    d = con.execute(f"select distinct participant_id, date from read_parquet('{daily}/**/*.parquet', hive_partitioning=false)").df()
    e = p[p["enrolled_on"].notna()][["participant_id", "enrolled_on", "sex", "age_band", "district"]]
    d = d.merge(e, on="participant_id")
    d["k"] = ((pd.to_datetime(d["date"]) - pd.to_datetime(d["enrolled_on"])).dt.days // 7)
    d = d[d["k"].between(-8, 23)]
    out = []
    for dim in ("sex", "age_band", "district"):
        g = d.groupby(["k", dim], observed=True)["participant_id"].nunique().reset_index()
        out.append(pd.DataFrame({"week_since_enrolment": g["k"], "dimension": dim, "level": g[dim].astype(str), "n": g["participant_id"]}))
    return pd.concat(out, ignore_index=True)


# ------------------------------------------------------------------------------------------ main
def attack(run_dir: str | Path) -> tuple[Findings, dict[str, int], list[str], float]:
    t0 = time.time()
    run = load(run_dir)
    out, notes = Findings(), []
    tried = {
        "printed": attack_printed(run, out),
        "margins": attack_margins(run, out),
        "joint": attack_joint(run, out, notes),
        "totals": attack_totals(run, out),
        "consistency": attack_consistency(run, out, notes),
        "shares": attack_shares(run, out),
        "fractions": attack_fractions(run, out, notes),
        "week_since": attack_week_since(run, out, notes),
        "text": attack_text(run, out, notes),
        "claims": attack_claims(run, out),
    }
    return out, tried, notes, time.time() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--json")
    ap.add_argument("--truth", action="store_true", help="score findings against private/ and the build inputs")
    ap.add_argument("--root", help="project root holding the build inputs (default: the run manifest's)")
    args = ap.parse_args(argv)
    report: dict[str, Any] = {}
    for r in args.runs:
        run_dir = Path(r).resolve()
        found, tried, notes, secs = attack(run_dir)
        truth = truth_for(run_dir, Path(args.root) if args.root else None) if args.truth else None
        if truth is not None and any(f.source == "steps_by_week_since_enrolment" for f in found):
            truth["week_since"] = week_since_truth(truth)
        if truth is not None:
            for f in found:
                f.truth = score(f, truth)
        rec = [f for f in found if f.recovered]
        nar = [f for f in found if not f.recovered]
        print(f"== {run_dir}  ({secs:.1f} s)")
        print("   attacked:", tried)
        print(f"   recovered: {len(rec)}   narrowed (not recovered): {len(nar)}")
        for f in rec + nar:
            t = "" if f.truth is None else f"  truth={f.truth:g} {'IN' if f.low <= f.truth <= f.high else 'OUT'}"
            print(f"   [{'REC' if f.recovered else 'nar'}] {f.attack:11s} {f.source} | {f.cell} | published {f.published} -> "
                  f"[{f.low:g}, {f.high:g}] (method: [{f.own_low:g}, {f.own_high:g}]){t}\n        {f.how}")
        for n in notes:
            print("   note:", n)
        report[str(run_dir)] = {"seconds": secs, "attacked": tried, "findings": [dict(asdict(f), recovered=f.recovered) for f in found],
                                "notes": notes}
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
