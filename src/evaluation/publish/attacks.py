"""An outsider's attack on everything a run publishes; ``evaluation run`` refuses to publish what it breaks.

Reads only ``<run>/tables/*.parquet``, ``<run>/results.json`` and the visible
text of ``<run>/reports/*.html`` (:mod:`evaluation.publish.published`), never
the private data, and tries the six kinds of attack of issue 20 (cohort inference is
the second half of the third):

1. ``differencing`` -- a total printed elsewhere (a ``results.json`` headline, a
   number in a report) minus the listed bins of a table leaves the withheld bins;
2. ``lp`` -- linear and integer programming (scipy HiGHS, :mod:`.attack_lp`)
   over every published cell, margin and total, tables related by shared
   dimensions (a table whose margins equal sums of another's cells is the same
   people, found by matching, as an attacker would);
3. ``presence`` -- a listed row has somebody in it, a missing row nobody, and a
   person-day count bounds the people;
   ``cohort`` -- a table by week since enrolment is a sum over enrolment cohorts:
   an LP over the people enrolled on each day (capped by the enrolment tables)
   under the simplest model of who has data that fits every published count;
4. ``decode`` -- full-precision shares times their denominators, and pooled
   minus subgroup statistics, give withheld numerators and rows back;
5. ``rule`` -- the publisher's rule read backwards (a printed ``reason``, a flag,
   a table with no totals to protect withholds only small counts);
6. ``prose`` -- numbers of people under the threshold in report text, and
   rounded shares with printed group sizes (an integer programme over the group
   size and every share of it at once).

A count is **exposed** when the attacker confines it to an interval narrower
than the threshold that holds a small non-zero value (``hi - lo < threshold``,
``lo < threshold``, ``hi > 0``). Each exposed cell is listed once, under the
first attack (in the order above) that exposes it.

Usage::

    rep = attacks.audit_run("outputs/smartband_9988/latest")
    rep.exposed, rep.table, print(rep.summary("ko"))
"""
from __future__ import annotations

import dataclasses
import math
import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from . import attack_lp
from .attack_lp import INF, Fact, Population
from .attack_tables import ONLY_WHEN_SMALL as _ONLY_WHEN_SMALL
from .attack_tables import TableModel, count_columns, describe, dimensions, model, where_of
from .published import Published, is_person_count, is_person_days, is_total, load, tokens

DEFAULT_THRESHOLD = 10
ATTACKS = ("differencing", "lp", "presence", "cohort", "decode", "rule", "prose")
COLUMNS = ["attack", "source", "cell", "low", "high", "how"]
# dimensions that split people (each person in one level), as opposed to days or bins of a daily measure
PERSON_DIMS = frozenset({"district", "arm", "sex", "age_band", "wave", "group", "income_quintile", "programme",
                         "device", "source", "enrolled"})
MESSAGES = {
    "differencing": ("다른 곳에 인쇄된 합계(results.json, 보고서)에서 공개된 칸을 빼면 비공개 칸이 {k}명 미만으로 좁혀집니다.",
                     "A total printed elsewhere (results.json, a report) minus the published cells pins withheld cells below {k}."),
    "lp": ("공개된 표·합계를 함께 선형/정수계획으로 풀면 비공개 칸이 {k}명 미만 구간으로 좁혀집니다.",
           "Solving the published tables and totals together (linear/integer programming) pins withheld cells below {k}."),
    "presence": ("표에 행이 있는지 없는지(있으면 1명 이상, 없으면 0명)와 인-일 수가 비공개 인원을 알려 줍니다.",
                 "Which rows are listed (a listed row has at least one person, a missing one none) and person-days give withheld counts away."),
    "cohort": ("등록 주차별 표는 등록 시기별 인원(등록 표)의 합이라, 등록 시기를 미지수로 한 선형계획이 비공개 칸을 {k}명 미만으로 좁힙니다.",
               "A table by week since enrolment is a sum over enrolment cohorts (the enrolment table): an LP over cohort sizes pins withheld cells below {k}."),
    "decode": ("소수점 끝까지 공개된 비율·평균을 분수로 풀거나 전체에서 하위집단을 빼면 숨긴 인원·값이 나옵니다.",
               "Full-precision shares and means decode to whole numerators, and pooled minus subgroup gives withheld rows back."),
    "rule": ("비공개 규칙 자체(사유 열, 1~{km}명일 때만 숨김)가 숨긴 값이 작다는 것을 알려 줍니다.",
             "The withholding rule itself (a printed reason, withheld only when 1-{km}) says the hidden value is small."),
    "prose": ("보고서 문장에 {k}명 미만의 인원이 쓰였거나, 반올림한 비율과 집단 크기를 곱하면 {k}명 미만이 나옵니다.",
              "Report text prints fewer than {k} people, or a rounded share times a printed group size gives fewer than {k}."),
}


@dataclass
class AttackReport:
    """Outcome of :func:`audit_run`.

    Attributes: ``table`` (one row per exposed cell: attack, source, cell, low, high, how -- low/high are
    counts of people or person-days), ``threshold``, ``checked`` (withheld or perturbed counts attacked),
    ``seconds``, ``notes`` (what the attacker could not use, e.g. a contradictory table), ``checked_by``
    (per attack, the cells it bounded, exposed or not).
    """

    table: pd.DataFrame
    threshold: int = DEFAULT_THRESHOLD
    checked: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    checked_by: dict[str, int] = field(default_factory=dict)  # cells each attack bounded

    @property
    def exposed(self) -> bool:
        return len(self.table) > 0

    def counts(self) -> dict[str, int]:
        """Exposed cells per attack kind (every kind listed, 0 when none)."""
        got = self.table["attack"].value_counts().to_dict() if len(self.table) else {}
        return {a: int(got.get(a, 0)) for a in ATTACKS}

    def summary(self, lang: str = "ko") -> str:
        k = self.threshold
        ko = lang == "ko"
        if not self.exposed:
            return (f"공격 점검: 노출 없음 (비공개·교란 수치 {self.checked}개 점검, {self.seconds:.1f}초)" if ko else
                    f"attack audit: nothing exposed ({self.checked} withheld or perturbed counts attacked, {self.seconds:.1f} s)")
        head = (f"공격 점검: {len(self.table)}개 칸 노출 (기준 {k}명, 점검 {self.checked}개, {self.seconds:.1f}초) — 공개 불가"
                if ko else f"attack audit: {len(self.table)} cell(s) exposed (threshold {k}, {self.checked} attacked, "
                f"{self.seconds:.1f} s) -- not publishable")
        lines = [head]
        for attack, n in self.counts().items():
            if n:
                msg = MESSAGES[attack][0 if ko else 1].format(k=k, km=k - 1)
                ex = self.table[self.table["attack"] == attack].iloc[0]
                lines.append(f"- {attack}: {n} — {msg}")
                lines.append(f"    {'예' if ko else 'e.g.'}: {ex['source']} [{ex['cell']}] ∈ [{_fmt(ex['low'])}, {_fmt(ex['high'])}] ({ex['how']})")
        lines += [f"  ({n})" for n in self.notes[:5]]
        return "\n".join(lines)

    @property
    def diagnostics(self) -> dict[str, Any]:
        return {"exposed": self.exposed, "counts": self.counts(), "checked": self.checked,
                "checked_by": {a: int(self.checked_by.get(a, 0)) for a in ATTACKS},
                "threshold": self.threshold, "seconds": round(self.seconds, 2), "notes": self.notes}

    def manifest(self) -> dict[str, Any]:
        """For ``manifest.json``: counts and the first 200 exposed cells."""
        return dict(self.diagnostics, cells=self.table.head(200).to_dict("records"))


def _fmt(x: float) -> str:
    return "inf" if not np.isfinite(x) else f"{x:g}"


class _Found:
    """Exposed cells, each once, under the first attack that found it."""

    def __init__(self, threshold: int):
        self.threshold = threshold
        self.rows: list[dict[str, Any]] = []
        self.keys: set[tuple[str, str]] = set()
        self.tried: dict[str, int] = {}  # windows each attack obtained (cells it bounded), exposed or not

    def add(self, attack: str, source: str, cell: str, lo: float, hi: float, how: str, *,
            recovered: bool = False) -> bool:
        """``recovered``: a perturbed count known exactly (exposed whatever its size)."""
        self.tried[attack] = self.tried.get(attack, 0) + 1
        if (source, cell) in self.keys or lo > hi or not (recovered or attack_lp.exposed(lo, hi, self.threshold)):
            return False
        self.keys.add((source, cell))
        self.rows.append({"attack": attack, "source": source, "cell": cell, "low": float(lo), "high": float(hi), "how": how})
        return True

    def has(self, source: str, cell: str) -> bool:
        return (source, cell) in self.keys


# ------------------------------------------------------------------------------------------ populations
@dataclass
class _Member:
    model: TableModel
    extra: dict[str, frozenset] = field(default_factory=dict)  # where the table sits in the population

    def facts(self, layer: str) -> list[Fact]:
        return [dataclasses.replace(f, where={**self.extra, **f.where}) for f in self.model.facts.get(layer, [])]


@dataclass
class _Pop:
    name: str
    members: list[_Member]
    totals: list[Fact] = field(default_factory=list)  # printed in results.json: used by every attack
    guesses: list[Fact] = field(default_factory=list)  # read from prose: each tried on its own (differencing)


def _cells(m: TableModel, layer: str = "exact") -> dict[tuple, Fact]:
    """Facts restricting every dimension of the table (its inner cells), by level tuple."""
    full = {k for f in m.facts.get(layer, []) for k in f.where}
    out = {}
    for f in m.facts.get(layer, []):
        if set(f.where) == full and f.source == m.table:
            out[tuple(sorted((k, next(iter(v))) for k, v in f.where.items()))] = f
    return out


def _link(a: TableModel, b: TableModel) -> dict[str, frozenset] | None:
    """Where ``b``'s people sit inside ``a``'s, found as an attacker finds it: ``b``'s margins over a shared
    dimension (and its grand total) equal the sums of ``a``'s cells (and margins) over one subset of ``a``'s
    other dimension, never exceed what ``a`` publishes for that subset, and no other subset fits as well."""
    da = {k for f in a.facts["exact"] for k in f.where}
    db = {k for f in b.facts["exact"] for k in f.where}
    shared = (da & db) & PERSON_DIMS
    if len(shared) != 1 or not (da | db) <= PERSON_DIMS:
        return None
    (d,) = shared
    other = da - {d}
    if len(other) != 1:
        return None
    (e,) = other
    cells = {(dict(k)[d], dict(k)[e]): f for k, f in _cells(a).items()}
    levels_e = sorted({le for (_, le) in cells})
    if not 1 < len(levels_e) <= 6:
        return None
    if any(f.perturbed for m in (a, b) for f in m.facts["exact"]):
        return _link_perturbed(a, b, e, levels_e)
    exact = lambda f: not f.target and f.lo == f.hi  # noqa: E731
    margins_b = {next(iter(f.where[d])): f.lo for f in b.facts["exact"] if set(f.where) == {d} and exact(f)}
    grand_b = next((f.lo for f in b.facts["exact"] if not f.where and exact(f)), None)
    margins_a = {next(iter(f.where[e])): f for f in a.facts["exact"] if set(f.where) == {e}}
    scores: dict[tuple, int] = {}
    for r in range(1, len(levels_e) + 1):
        for subset in combinations(levels_e, r):
            match = 0
            checks = [([cells.get((lv, le)) for le in subset], total) for lv, total in margins_b.items()]
            if grand_b is not None:
                checks.append(([margins_a.get(le) for le in subset], grand_b))
            for parts, total in checks:
                if any(p is None for p in parts):
                    continue
                known = sum(p.lo for p in parts if exact(p))
                if all(exact(p) for p in parts):
                    if known != total:
                        match = -1
                        break
                    match += 1
                elif known > total:
                    match = -1
                    break
            scores[subset] = match
    best = max(scores.values(), default=0)
    winners = [s for s, v in scores.items() if v == best]
    if best < 1 or len(winners) != 1:
        return None
    (subset,) = winners
    return {} if len(subset) == len(levels_e) else {e: frozenset(subset)}


def _link_perturbed(a: TableModel, b: TableModel, e: str, levels_e: list) -> dict[str, frozenset] | None:
    """:func:`_link` for perturbed tables (every count a window): ``b``'s people are the people of one subset
    of ``a``'s levels of ``e`` when that subset, and no other, lets one table fit every published window of
    both (an LP per subset)."""
    fits = []
    for r in range(1, len(levels_e) + 1):
        for subset in combinations(levels_e, r):
            extra = {} if len(subset) == len(levels_e) else {e: frozenset(subset)}
            merged = _Member(a).facts("exact") + _Member(b, extra).facts("exact")
            if _feasible(merged):
                fits.append(extra)
    return fits[0] if len(fits) == 1 else None


def _populations(models: list[TableModel]) -> list[_Pop]:
    # larger tables first: a table is linked into the population of one that holds its people
    models = sorted(models, key=lambda m: -max((f.lo for f in m.facts.get("exact", []) if np.isfinite(f.lo)), default=0))
    pops: list[_Pop] = []
    placed: set[int] = set()
    for i, a in enumerate(models):
        if i in placed:
            continue
        pop = _Pop(f"{a.table}.{a.column}", [_Member(a)])
        placed.add(i)
        if is_person_count(a.column):
            for j, b in enumerate(models):
                if j in placed or not is_person_count(b.column):
                    continue
                extra = _link(a, b)
                if extra is not None and _feasible([f for mm in pop.members + [_Member(b, extra)]
                                                     for f in mm.facts("exact")]):
                    pop.members.append(_Member(b, extra))
                    placed.add(j)
        pops.append(pop)
    return pops


def _feasible(facts: list[Fact]) -> bool:
    try:
        return attack_lp.feasible(facts)
    except ValueError:  # too many cells to check: the attacker does not use the total
        return False


# ------------------------------------------------------------------------------------------ totals printed elsewhere
_GENERIC = {"total", "number", "of", "count", "the", "in", "all"}
_PROSE_TOTAL = [
    re.compile(r"(?:participants|people|persons)\s*[:=]\s*(\d[\d,]*)", re.I),
    re.compile(r"참여자\s*[:=]?\s*(\d[\d,]*)\s*명"),
]
_PROSE_PEOPLE = [
    re.compile(r"(?<![\d.,])(\d[\d,]*)\s*명(?!\s*(?:미만|이상|이하|초과|당))"),  # "1명당" is "per person", not a count
    re.compile(r"(?<![\d.,])(\d[\d,]*)\s+(?:people|participants|persons|joiners|non-joiners|individuals|respondents)\b", re.I),
    re.compile(r"(?:participants|people|persons)\s*[:=]\s*(\d[\d,]*)", re.I),
]


def _totals(pub: Published) -> list[tuple[str, str, float, str, set[str], bool]]:
    """``(source, label, value, kind, key tokens, perturbed)`` of person and person-day totals printed outside
    tables (``results.json`` headlines first, then numbers read from the reports); a headline marked
    perturbed is read as the window of true counts it stands for."""
    out = []
    for nb, key, value, unit, _label in pub.result_values():
        u = unit.lower()
        kind = "days" if "day" in u and "person" in u or u == "person-days" else ("persons" if u in ("persons", "people") else "")
        if kind:
            entry = pub.results.get(nb, {}).get(key, {})
            perturbed = bool(isinstance(entry, dict) and entry.get("perturbed"))
            out.append((f"results.json", f"{nb}.{key}", value, kind, tokens(key) - _GENERIC, perturbed))
    for report, text in pub.texts.items():
        for pat in _PROSE_TOTAL:
            for mt in pat.finditer(text):
                out.append((f"reports/{report}.html", mt.group(0).strip(), float(mt.group(1).replace(",", "")),
                            "persons", {"person"}, False))
    return out


def _attach_totals(pops: list[_Pop], pub: Published, threshold: int = DEFAULT_THRESHOLD) -> None:
    """Hang every printed total on the table(s) it is the total of (name match, consistent with the tables)."""
    for source, label, value, kind, keys, perturbed in _totals(pub):
        for pop in pops:
            for mem in pop.members:
                m = mem.model
                if m.time_dims or (kind == "days") != is_person_days(m.column):
                    continue
                dims = {k for f in m.facts["exact"] for k in f.where}
                if kind == "persons" and not dims <= PERSON_DIMS:
                    continue
                col = tokens(m.column) - _GENERIC
                if not col <= keys | {"person"}:
                    continue
                rest = keys - col - {"person", "days"}
                where = dict(mem.extra)
                levels = {str(lv).lower(): (d, lv) for f in m.facts["exact"] for d, s in f.where.items() for lv in s}
                if any(r not in levels for r in rest):
                    continue
                for r in rest:
                    d, lv = levels[r]
                    where[d] = frozenset([lv])
                lo_v, hi_v = attack_lp.perturbed_range(value, threshold) if perturbed else (value, value)
                fact = Fact(where, lo_v, hi_v, source, label, how=f"{label} = {value:g}")
                prose = source.startswith("reports/")
                trial = [f for mm in pop.members for f in mm.facts("exact")] + pop.totals + [fact]
                if _feasible(trial):
                    (pop.guesses if prose else pop.totals).append(fact)


# ------------------------------------------------------------------------------------------ attack 1
def _differencing(pops: list[_Pop], found: _Found) -> None:
    """Each total minus the published cells it covers, listed cells at least 1 when the table prints no zeros."""
    for pop in pops:
        for total in pop.totals + pop.guesses:
            for mem in pop.members:
                dims = {k for f in mem.model.facts["exact"] for k in f.where}
                if any(total.where.get(k) != v for k, v in mem.extra.items()) or \
                        any(k not in dims for k in total.where if k not in mem.extra):
                    continue  # the total is not a sum of this table's cells
                cells = [dataclasses.replace(c, where={**mem.extra, **c.where}) for c in _cells(mem.model).values()]
                inside = [c for c in cells if all(c.where[k] <= v for k, v in total.where.items())]
                # withheld: printed blank; a perturbed count is known as its window (band > 0)
                withheld = [c for c in inside if c.target and not c.band]
                if not withheld:
                    continue
                known = [c for c in inside if not (c.target and not c.band)]
                rest = total.hi - sum(c.lo for c in known)
                rest_lo = total.lo - sum(c.hi for c in known)
                if rest < 0:
                    continue
                lo1 = 0.0 if any(c.lo == 0 and not c.target for c in cells) or any(c.band for c in cells) else 1.0
                hi = rest - lo1 * (len(withheld) - 1)
                for c in withheld:
                    how = (f"{total.cell} ({total.source}) − {len(known)} published cells = {rest:g} "
                           f"over {len(withheld)} withheld")
                    lo = max(rest_lo, 0.0) if len(withheld) == 1 else min(lo1, max(rest_lo, 0.0))
                    found.add("differencing", c.source, c.cell, lo, hi, how)
                    _companion(mem.model, c, hi, found, "differencing", how + f"; people ≤ person-days {hi:g}")


def _companion(m: TableModel, person_days: Fact, hi: float, found: _Found, attack: str, how: str) -> None:
    """A bound on a row's person-days bounds its people too (each person adds at least one day)."""
    if not is_person_days(m.column):
        return
    for fact in m.siblings.get(person_days.cell.rsplit(":", 1)[0], []):
        found.add(attack, fact.source, fact.cell, 1.0 if hi > 0 else 0.0, hi, how)


# ------------------------------------------------------------------------------------------ attacks 2, 3, 5
def _solve_layers(pops: list[_Pop], found: _Found, threshold: int, notes: list[str], kinds: tuple[str, ...],
                  unbounded: set[tuple[str, str]]) -> int:
    """The LP/MILP attack with more and more attacker knowledge: ``lp`` (published numbers), ``presence``
    (+ listed and missing rows, person-days), ``rule`` (+ the withholding rule read backwards).

    "Withheld only when small" is assumed only of cells that no published sum covers (``unbounded``: the
    ``lp`` layer found no upper bound), since a cell inside a total may have been withheld as its complement;
    a printed reason or flag is believed everywhere.
    """
    checked = 0
    for pop in pops:
        base = [f for m in pop.members for f in m.facts("exact")] + pop.totals
        if not any(f.target for f in base) and ("lp" not in kinds or _feasible(base)):
            continue  # nothing withheld and the printed counts agree: nothing to attack
        checked += sum(f.target for f in base)
        presence = [f for m in pop.members for f in m.facts("presence")]
        rule = [f for m in pop.members for f in m.facts("rule")
                if f.how != _ONLY_WHEN_SMALL or (f.source, f.cell) in unbounded]
        layers = {"lp": base, "presence": base + presence, "rule": base + presence + rule}
        for attack, facts in ((k, layers[k]) for k in kinds):
            todo = [dataclasses.replace(f, target=f.target and not found.has(f.source, f.cell)) for f in facts]
            if not any(f.target for f in todo) and attack != "lp":
                break
            bounds = _solve_or_widen(pop.name, todo, threshold, notes, attack)
            for b in bounds:
                if (b.fact.band and b.hi - b.lo >= b.fact.band) or \
                        (b.fact.perturbed and not attack_lp.recovered(b.lo, b.hi, threshold)):
                    # a perturbed count known no better than its own printed value, or narrowed by
                    # differencing noisy counts but not given away
                    found.tried[attack] = found.tried.get(attack, 0) + 1
                    continue
                if attack == "lp" and not np.isfinite(b.hi):
                    unbounded.add((b.fact.source, b.fact.cell))
                how = {"lp": "LP/MILP over published cells, margins and totals",
                       "presence": "LP/MILP + listed rows ≥ 1, missing rows 0, person-days",
                       "rule": "LP/MILP + withheld only when small"}[attack]
                found.add(attack, b.fact.source, b.fact.cell, b.lo, b.hi, how + (" (integer)" if b.integer else ""))
    return checked


NOISE_STEPS = (1, 2, 3, 5, 8)


def _widen(facts: list[Fact], d: float) -> list[Fact]:
    """Printed counts read as perturbed by up to ``d`` (zeros and known facts stay exact); each becomes a target."""
    out = []
    for f in facts:
        if not f.target and f.lo == f.hi and f.lo > 0 and f.source != "absent row":
            f = dataclasses.replace(f, lo=max(0.0, f.lo - d), hi=f.hi + d, target=True, band=2 * d)
        out.append(f)
    return out


def _solve_or_widen(name: str, facts: list[Fact], threshold: int, notes: list[str], attack: str) -> list:
    """Solve; when the printed numbers contradict each other (perturbed, or rounded), do what an attacker does:
    read them as noisy by the smallest step in :data:`NOISE_STEPS` that makes them fit, and attack every count."""
    try:
        if not any(f.target for f in facts) and not attack_lp.feasible(facts):
            raise ValueError(f"population {name!r}: the published numbers contradict each other")
        return attack_lp.solve(Population(name, facts), threshold=threshold)
    except ValueError as exc:
        first = str(exc)
    for d in NOISE_STEPS:
        try:
            bounds = attack_lp.solve(Population(name, _widen(facts, d)), threshold=threshold)
        except ValueError:
            continue
        notes.append(f"{name} ({attack}): printed counts disagree; read as perturbed by up to ±{d}")
        return bounds
    notes.append(f"{name} ({attack}): not solved ({first})")
    return []


# ------------------------------------------------------------------------------------------ attack 4 and 6 (shares)
_SHARE = re.compile(r"(share|rate|prop|proportion|pct|percent|fraction)", re.I)
_DENOMS = ("n", "enrolled", "at_risk", "adherence_n", "participants", "n_days")


def _decimals(v: float) -> int:
    """Decimal places printed (a full-precision float gives ~16)."""
    s = repr(float(v))
    if "e" in s:
        return 17
    return len(s.split(".")[1]) if "." in s and s.split(".")[1] != "0" else 0


def _shares(pub: Published, found: _Found, threshold: int) -> None:
    """A share times its row's denominator: the numerator (and the rest) in people."""
    for name, df in pub.tables.items():
        shares = [c for c in df.columns if _SHARE.search(str(c)) and pd.api.types.is_float_dtype(df[c])
                  and not str(c).startswith(("ci_", "se"))]
        denom = next((c for c in _DENOMS if c in df.columns and is_person_count(c)), None)
        if not shares or denom is None:
            continue
        dims = dimensions(df)
        for i, row in df.iterrows():
            n = pd.to_numeric(pd.Series([row[denom]]), errors="coerce").iloc[0]
            if pd.isna(n) or n <= 0:
                continue
            cell = describe(where_of(row, dims))
            for c in shares:
                v = row[c]
                if pd.isna(v) or not 0 <= v <= 1:
                    continue
                d = _decimals(v)
                r = 0.5 * 10.0 ** (-min(d, 12)) if d < 12 else 1e-9
                # a perturbed denominator: every true size it can stand for
                sizes = range(*map(int, np.add(attack_lp.perturbed_range(n, threshold), (0, 1)))) \
                    if name in pub.perturbed else [int(n)]
                fits = [(k, size) for size in sizes if size > 0
                        for k in range(math.ceil((v - r) * size - 1e-9), math.floor((v + r) * size + 1e-9) + 1)
                        if 0 <= k <= size]
                if not fits:  # not a share of these people (e.g. a share of person-days)
                    continue
                lo, hi = min(k for k, _ in fits), max(k for k, _ in fits)
                r_lo, r_hi = min(sz - k for k, sz in fits), max(sz - k for k, sz in fits)
                attack = "decode" if d >= 4 else "prose"  # 4+ decimals: more than a rounded percentage prints
                how = f"{c} {v:.{min(d, 8)}g} × {denom} {n:g}"
                # the numerator is a count column of its own when the share is named after it (active_share)
                num = next((x for x in df.columns if x != denom and is_person_count(str(x)) and str(x) in tokens(c)), None)
                label = f"{cell}: {num}" if num else f"{cell}: {c} numerator"
                found.add(attack, name, label, max(lo, 0), hi, how)
                found.add(attack, name, f"{cell}: {c} rest", r_lo, r_hi, how + " (n − numerator)")
                if num is not None and name in pub.perturbed and lo == hi and pd.notna(row[num]):
                    own = attack_lp.perturbed_range(float(row[num]), threshold)
                    # a share of the published counts (the gate's share_of) is just the printed numbers again
                    of_published = abs(float(row[num]) / n - v) <= r + 1e-12
                    if own[0] < own[1] and not of_published:  # a share of the true counts undoes the perturbation
                        found.add("decode", name, label, lo, hi, how + f": the perturbed {num} {row[num]:g} is "
                                  f"{lo:g} exactly (the share is of the true counts)", recovered=True)


def _pooled_minus_subgroup(pub: Published, found: _Found, threshold: int) -> None:
    """Pooled statistic x n minus the published subgroups' gives a withheld subgroup's statistic back."""
    for name, df in pub.tables.items():
        denom = next((c for c in _DENOMS if c in df.columns and is_person_count(c)), None)
        dims = dimensions(df)
        if denom is None or not dims:
            continue
        stats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c]) and c != denom and c not in dims
                 and not is_person_count(str(c)) and not is_person_days(str(c))]
        # averages first: pooled x n minus subgroups x n is exact for a mean or a share
        stats.sort(key=lambda c: not re.search(r"mean|share|rate|adherence|estimate|prop", str(c)))
        for d in dims:
            others = [x for x in dims if x != d]
            groups = df.groupby([df[x].astype(str) for x in others], dropna=False) if others else [((), df)]
            for gkey, g in groups:
                total = g[g[d].map(is_total)]
                subs = g[~g[d].map(is_total)]
                if len(total) != 1 or len(subs) < 2:
                    continue
                t = total.iloc[0]
                n_all = t[denom]
                hidden = subs[subs[denom].isna()]
                shown = subs[subs[denom].notna()]
                if pd.isna(n_all) or len(hidden) != 1:
                    continue
                n_h = n_all - shown[denom].sum()
                if not 0 < n_h < threshold:
                    continue
                h = hidden.iloc[0]
                for c in stats:
                    if pd.isna(t[c]) or shown[c].isna().any():
                        continue
                    value = (t[c] * n_all - (shown[c] * shown[denom]).sum()) / n_h
                    found.add("decode", name, f"{d}={h[d]}{'' if not others else ' ' + str(gkey)}: {c}", n_h, n_h,
                              f"pooled − subgroups: {c} of {n_h:g} people recovered ({value:.3g})")
                    break


def _fraction(v: float, max_den: int = 5_000) -> Fraction | None:
    """A full-precision float (9+ decimals) as the fraction it was computed from, or None."""
    if pd.isna(v) or _decimals(v) < 9:
        return None
    f = Fraction(float(v)).limit_denominator(max_den)
    return f if abs(float(f) - v) < 1e-9 * max(1.0, abs(v)) else None


def _decoded_subgroups(pub: Published, found: _Found, threshold: int) -> None:
    """Full-precision means with no printed denominator (adherence = days / people): decode pooled and
    published subgroups to sum/n in lowest terms; a withheld subgroup is the pooled fraction minus the others',
    believed when the difference is a proper group (0 < n, and its mean inside the others' range)."""
    for name, df in pub.tables.items():
        dims = dimensions(df)
        stats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c]) and c not in dims
                 and re.search(r"mean|adherence|average|share|rate", str(c)) and not re.search(r"ci_|se", str(c))]
        for d in dims:
            others = [x for x in dims if x != d]
            groups = df.groupby([df[x].astype(str) for x in others], dropna=False) if others else [((), df)]
            for gkey, g in groups:
                total, subs = g[g[d].map(is_total)], g[~g[d].map(is_total)]
                if len(total) != 1 or len(subs) < 2:
                    continue
                for c in stats:
                    hidden, shown = subs[subs[c].isna()], subs[subs[c].notna()]
                    f_all = _fraction(total.iloc[0][c])
                    fs = [_fraction(v) for v in shown[c]]
                    if len(hidden) != 1 or f_all is None or any(f is None for f in fs) or not fs:
                        continue
                    n_h = f_all.denominator - sum(f.denominator for f in fs)
                    s_h = f_all.numerator - sum(f.numerator for f in fs)
                    lo_v, hi_v = min(map(float, fs)), max(map(float, fs))
                    if n_h <= 0 or s_h < 0 or not lo_v - 3 * abs(hi_v - lo_v) - 1 <= s_h / n_h <= hi_v + 3 * abs(hi_v - lo_v) + 1:
                        continue
                    h = hidden.iloc[0]
                    where = "" if not others else " " + ", ".join(f"{x}={h[x]}" for x in others)
                    found.add("decode", name, f"{d}={h[d]}{where}: {c}", n_h, n_h,
                              f"{c} decoded: pooled {f_all.numerator}/{f_all.denominator} − published subgroups "
                              f"= {s_h}/{n_h} ({s_h / n_h:.3g} over {n_h} people)")


def _decoded_denominators(pub: Published, found: _Found, threshold: int) -> None:
    """Full-precision shares with no denominator printed: the fraction in lowest terms bounds numerator and
    denominator from below (``Fraction.limit_denominator``); a lowest-terms denominator under the threshold
    with a non-zero numerator is a small group's share."""
    for nb, key, value, unit, _ in pub.result_values():
        if not unit.lower().startswith("share") or not 0 < value < 1 or _decimals(value) < 9:
            continue
        f = Fraction(value).limit_denominator(100_000)
        if abs(float(f) - value) > 1e-12 or f.denominator >= threshold:
            continue
        found.add("decode", "results.json", f"{nb}.{key}", f.numerator, f.numerator,
                  f"{value!r} = {f.numerator}/{f.denominator} in lowest terms")


def _largest_group(pub: Published) -> float:
    """The largest number of people the run publishes anywhere (a perturbed one plus its noise)."""
    most = 0.0
    for _nb, _key, value, unit, _ in pub.result_values():
        if unit.lower() in ("persons", "people"):
            most = max(most, value + 2)
    for df in pub.tables.values():
        for c in count_columns(df):
            if is_person_count(c):
                most = max(most, float(pd.to_numeric(df[c], errors="coerce").max(skipna=True) or 0) + 2)
    return most


def _decoded_table_shares(pub: Published, found: _Found, threshold: int) -> None:
    """Shares printed with 6 or more decimals (more than any rounding rule keeps) and no denominator beside
    them: the fraction in lowest terms ``k/q`` (within the printed precision) means ``k*m`` people of ``q*m``,
    and ``m`` is at most the largest group the run publishes over ``q``; a small ``k`` with few multiples
    possible gives the numerator away (and ``q - k`` the rest)."""
    most = _largest_group(pub)
    if most <= 0:
        return
    for name, df in pub.tables.items():
        if any(c in df.columns for c in _DENOMS):
            continue  # with a denominator beside it, _shares does better
        for c in [c for c in df.columns if pd.api.types.is_float_dtype(df[c]) and _SHARE.search(str(c))
                  and not str(c).startswith(("ci_", "se"))]:
            col = pd.to_numeric(df[c], errors="coerce")
            vals = col.dropna()
            if vals.empty or not vals.between(0, 1).all():
                continue
            d = max(_decimals(v) for v in vals)
            if d < 6:
                continue
            tol = 0.5 * 10.0 ** (-min(d, 12))
            dims = dimensions(df)
            for i, v in col.items():
                if pd.isna(v) or v in (0.0, 1.0):
                    continue
                q = next((q for q in range(2, 5001) if abs(round(v * q) / q - v) <= tol), None)
                if q is None:
                    continue
                k, m = round(v * q), max(1, int(most // q))
                cell = f"{describe(where_of(df.loc[i], dims))}: {c}"
                how = f"{c} {v!r} = {k}/{q} in lowest terms; at most {m}x (largest published group {most:g})"
                found.add("decode", name, cell + " numerator", k, k * m, how)
                found.add("decode", name, cell + " rest", q - k, (q - k) * m, how)


def _report_of(pub: Published, df: pd.DataFrame) -> str | None:
    """The report that displays a table: the only one whose text names at least two of its column names."""
    names = [str(c) for c in df.columns if "_" in str(c)]
    hits = [r for r, text in pub.texts.items() if sum(n in text for n in names) >= 2]
    return hits[0] if len(hits) == 1 else None


def _group_sizes(pub: Published, report: str, threshold: int) -> dict[tuple[float, float], str]:
    """Windows ``(low, high)`` of group sizes an attacker reads beside a table: people counts printed in its
    report and that notebook's results.json entries (at least the threshold; a count marked perturbed as
    the true counts it can stand for), and sums of two printed there (matched + unmatched)."""
    sizes: dict[tuple[float, float], str] = {}
    perturbed: set[float] = set()
    entries = pub.results.get(report, {}) if isinstance(pub.results.get(report), dict) else {}
    for key, e in entries.items():
        v = e.get("value") if isinstance(e, dict) else None
        if isinstance(v, (int, float)) and not isinstance(v, bool) and str(e.get("unit", "")).lower() in ("persons", "people") \
                and v >= threshold:
            if e.get("perturbed"):
                perturbed.add(float(v))
            sizes.setdefault(_size_window(float(v), float(v) in perturbed, threshold), f"results.json {report}.{key}")
    text = pub.texts.get(report, "")
    seen = sorted({float(m.group(1).replace(",", "")) for pat in _PROSE_PEOPLE for m in pat.finditer(text)}
                  | {lo for lo, hi in sizes if lo == hi} | perturbed)
    for v in seen:
        if v >= threshold:  # prose prints the recorded (perturbed) value
            sizes.setdefault(_size_window(v, v in perturbed, threshold), f"reports/{report}.html")
    for a, b in combinations(seen, 2):
        if a > 0 and b > 0 and a + b >= threshold:
            wa, wb = _size_window(a, a in perturbed, threshold), _size_window(b, b in perturbed, threshold)
            sizes.setdefault((wa[0] + wb[0], wa[1] + wb[1]), f"reports/{report}.html ({a:g} + {b:g})")
    return sizes


def _size_window(v: float, perturbed: bool, threshold: int) -> tuple[float, float]:
    return attack_lp.perturbed_range(v, threshold) if perturbed else (v, v)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _share_windows(shares: list[float], size: tuple[float, float], one_hot: list[list[int]], *,
                   half: float, perturbed_counts: bool, threshold: int) -> list[tuple[float, float, float, float]] | None:
    """For rounded shares ``k_j / N`` of one group whose size ``N`` lies in ``size``: the windows of every
    numerator ``k_j`` and rest ``N - k_j`` over all integer solutions (an integer programme, scipy HiGHS),
    or None when no integer ``N`` and ``k`` fit every share at once. ``one_hot``: positions of shares that
    are the levels of one variable (their numerators add up to ``N``). ``perturbed_counts``: the shares are of
    published perturbed counts (numerators 0 or at least the threshold), read back to the true counts
    they can stand for. ``half``: half a unit of the last decimal the column prints."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    j = len(shares)
    # variables: N, k_1 .. k_j
    rows, lo, hi = [], [], []
    for i, v in enumerate(shares):
        r = half
        row = np.zeros(j + 1); row[0] = -(v + r); row[i + 1] = 1.0
        rows.append(row); lo.append(-np.inf); hi.append(1e-9)   # k <= (v + r) N
        row = np.zeros(j + 1); row[0] = -(v - r); row[i + 1] = 1.0
        rows.append(row); lo.append(-1e-9); hi.append(np.inf)   # k >= (v - r) N
        row = np.zeros(j + 1); row[0] = -1.0; row[i + 1] = 1.0
        rows.append(row); lo.append(-np.inf); hi.append(0.0)    # k <= N
    for members in one_hot:
        row = np.zeros(j + 1); row[0] = -1.0; row[np.asarray(members) + 1] = 1.0
        rows.append(row); lo.append(0.0); hi.append(0.0)
    con = LinearConstraint(np.array(rows), np.array(lo), np.array(hi))
    b_lo = np.r_[size[0], np.zeros(j)]
    b_hi = np.r_[size[1], np.full(j, size[1])]
    integrality = np.ones(j + 1)
    if perturbed_counts:
        # a perturbed numerator is 0 or at least the threshold: k_i >= threshold * z_i, k_i <= N_max * z_i
        extra = []
        for i in range(j):
            a = np.zeros(2 * j + 1); a[i + 1] = 1.0; a[j + 1 + i] = -threshold
            b = np.zeros(2 * j + 1); b[i + 1] = 1.0; b[j + 1 + i] = -size[1]
            extra += [(a, 0.0, np.inf), (b, -np.inf, 0.0)]
        base = np.hstack([np.array(rows), np.zeros((len(rows), j))])
        con = LinearConstraint(np.vstack([base] + [e[0] for e in extra]),
                               np.r_[lo, [e[1] for e in extra]], np.r_[hi, [e[2] for e in extra]])
        b_lo, b_hi = np.r_[b_lo, np.zeros(j)], np.r_[b_hi, np.ones(j)]
        integrality = np.ones(2 * j + 1)
    nvar = len(b_lo)
    opts = {"time_limit": 2.0, "disp": False}

    def extreme(c: np.ndarray) -> float | None:
        res = milp(c, constraints=con, integrality=integrality, bounds=Bounds(b_lo, b_hi), options=opts)
        return float(res.fun) if res.status == 0 else None

    if extreme(np.zeros(nvar)) is None:
        return None
    out = []
    for i in range(j):
        e_k = np.zeros(nvar); e_k[i + 1] = 1.0
        e_r = np.zeros(nvar); e_r[0] = 1.0; e_r[i + 1] = -1.0
        # a programme HiGHS cannot finish in time keeps the trivial bound (0 .. the largest group)
        k_lo, k_hi = round(_or(extreme(e_k), 0.0)), round(-_or(extreme(-e_k), -size[1]))
        r_lo, r_hi = round(_or(extreme(e_r), 0.0)), round(-_or(extreme(-e_r), -size[1]))
        if perturbed_counts:  # back from the published (perturbed) numbers to the true counts
            n_lo, n_hi = attack_lp.perturbed_range(size[0], threshold)[0], attack_lp.perturbed_range(size[1], threshold)[1]
            t_lo = attack_lp.perturbed_range(k_lo, threshold)[0]
            t_hi = attack_lp.perturbed_range(k_hi, threshold)[1]
            k_lo, k_hi, r_lo, r_hi = t_lo, t_hi, max(0.0, n_lo - t_hi), max(0.0, n_hi - t_lo)
        out.append((k_lo, k_hi, r_lo, r_hi))
    return out


def _binary_shares(pub: Published, found: _Found, threshold: int) -> None:
    """Rounded shares of binary covariates (``type == binary``) of one group, and the group sizes printed
    beside the table: an integer programme over the group size and every numerator at once (each share's
    rounding window, dummies of one variable adding up to the group) gives the people with (and without)
    each trait. Every printed size is a hypothesis (a perturbed one as the window of true sizes it stands
    for), and so is "shares of the published perturbed counts" (as the gate publishes them); the attacker
    keeps the hypotheses some integer solution fits and reports the union of their windows."""
    for name, df in pub.tables.items():
        if "type" not in df.columns or not df["type"].astype(str).eq("binary").any():
            continue
        report = _report_of(pub, df)
        sizes = _group_sizes(pub, report, threshold) if report else {}
        if not sizes:
            continue
        label = next((c for c in ("covariate", "variable", "label") if c in df.columns), None)
        cols = [c for c in df.columns if str(c).startswith("mean") and pd.api.types.is_float_dtype(df[c])]
        extra = [c for c in ("method", "group") if c in df.columns]
        binary = df[df["type"].astype(str).eq("binary")]
        groups = binary.groupby([binary[e].astype(str) for e in extra]) if extra else [((), binary)]
        for gkey, g in groups:
            for c in cols:
                part = g[g[c].notna() & g[c].between(0, 1)]
                if part.empty:
                    continue
                shares = [float(v) for v in part[c]]
                # the column's precision: 0.90 is stored as 0.9, but its neighbours print two decimals
                half = 0.5 * 10.0 ** (-min(max(_decimals(v) for v in g[c].dropna()), 12))
                names = [str(r[label]) if label else str(i) for i, r in part.iterrows()]
                # dummies of one variable (sex_F, sex_M) whose shares add up to 1 within rounding
                stems: dict[str, list[int]] = {}
                for i, n in enumerate(names):
                    stems.setdefault(n.rsplit("_", 1)[0], []).append(i)
                one_hot = [m for m in stems.values() if len(m) > 1
                           and abs(sum(shares[i] for i in m) - 1) <= half * len(m) + 1e-9]
                windows: list[list[tuple]] = []
                used = []
                fits_perturbed = False
                for (s_lo, s_hi), where in sorted(sizes.items()):
                    hyps = [(False, (s_lo, s_hi))]
                    if s_lo != s_hi:  # a perturbed size: the shares may be of perturbed counts over it
                        printed = next((v for v in range(int(s_lo), int(s_hi) + 1)
                                        if attack_lp.perturbed_range(v, threshold) == (s_lo, s_hi)), None)
                        if printed is not None:
                            hyps.append((True, (float(printed), float(printed))))
                    for pert, size in hyps:
                        w = _share_windows(shares, size, one_hot, half=half, perturbed_counts=pert,
                                           threshold=threshold)
                        if w is not None:
                            windows.append(w); used.append(f"{where}{' (perturbed counts)' if pert else ''}")
                            fits_perturbed = fits_perturbed or pert
                if not windows:
                    continue
                for i, cov in enumerate(names):
                    k_lo = min(w[i][0] for w in windows); k_hi = max(w[i][1] for w in windows)
                    r_lo = min(w[i][2] for w in windows); r_hi = max(w[i][3] for w in windows)
                    cell = f"{cov} {c} ({', '.join(str(x) for x in (gkey if isinstance(gkey, tuple) else (gkey,)))})"
                    how = (f"{c} {shares[i]:g}: integer programme over the group size and {len(shares)} shares; "
                           f"sizes that fit: {'; '.join(used[:3])}")
                    if not fits_perturbed:  # else a numerator is known no better than its perturbed value
                        found.add("prose", name, cell, k_lo, k_hi, how)
                    found.add("prose", name, cell + " rest", r_lo, r_hi, how + " (group − numerator)")


# ------------------------------------------------------------------------------------------ attack 5 (rule) in text
# a sentence about one district, cell or week that says its hidden count is under the threshold (a legend
# stating the rule for every "x" says nothing about any one of them)
_CLAIMS = [
    re.compile(r"이\s*(?:자치구|칸|주|집단|구)[^.\n]{0,40}?(\d+)\s*명\s*미만"),
    re.compile(r"(?:this|each|every)\s+(?:district|cell|week|group)[^.\n]{0,60}?fewer than (\d+)", re.I),
]


def _rule_claims(pub: Published, found: _Found, threshold: int) -> None:
    for page, text in pub.texts.items():
        for pat in _CLAIMS:
            for mt in pat.finditer(text):
                k = int(mt.group(1))
                if k > threshold:
                    continue
                snippet = re.sub(r"\s+", " ", mt.group(0)).strip()
                found.add("rule", page if page.startswith("views/") else f"reports/{page}.html", snippet, 1.0, float(k - 1),
                          "the page says this withheld count is under the threshold (and it is listed, so not 0)")


# ------------------------------------------------------------------------------------------ attack 6 (prose)
def _prose(pub: Published, found: _Found, threshold: int) -> None:
    for report, text in pub.texts.items():
        for pat in _PROSE_PEOPLE:
            for mt in pat.finditer(text):
                v = float(mt.group(1).replace(",", ""))
                start = max(0, mt.start() - 30)
                snippet = re.sub(r"\s+", " ", text[start:mt.end() + 10]).strip()
                page = report if report.startswith("views/") else f"reports/{report}.html"
                found.add("prose", page, snippet, v, v, "a number of people printed in the text")
    for nb, key, value, unit, _ in pub.result_values():
        if unit.lower() in ("persons", "people") and 0 < value < threshold:
            found.add("prose", "results.json", f"{nb}.{key}", value, value, "a headline count of people")


# ------------------------------------------------------------------------------------------ attack 7 (cohorts)
_SINCE = re.compile(r"weeks?.?since|since.?enrol", re.I)
_DAY = pd.Timedelta(days=1)


def _data_window(pub: Published) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day of the daily data, as the published tables show it: the dates of a by-date table,
    else the first Monday and last Sunday of a by-week table (the widest span any table shows)."""
    spans: dict[str, list[pd.Timestamp]] = {"date": [], "week": []}
    for df in pub.tables.values():
        for c in df.columns:
            kind = str(c).lower()
            if kind in spans and pd.api.types.is_datetime64_any_dtype(df[c]) and df[c].notna().any():
                spans[kind] += [df[c].min(), df[c].max() + (6 * _DAY if kind == "week" else 0 * _DAY)]
    days = spans["date"] or spans["week"]
    return (min(days).normalize(), max(days).normalize()) if days else None


def _enrolment(pub: Published, threshold: int) -> tuple[list[tuple[pd.Timestamp, pd.Timestamp, float]], dict]:
    """Enrolment periods ``(first day, last day, most people)`` from a published enrolment-by-period table
    (a perturbed count read as the largest true count it can stand for), and the most people enrolled per
    level of a person dimension (``{(dimension, level): most}``) from enrolment tables by district, sex..."""
    periods: list[tuple[pd.Timestamp, pd.Timestamp, float]] = []
    levels: dict[tuple[str, str], float] = {}
    for name, df in pub.tables.items():
        if "enrol" not in name.lower():
            continue
        counts = [c for c in count_columns(df) if is_person_count(c) and c != "cumulative"]
        if not counts:
            continue
        col = counts[0]
        vals = pd.to_numeric(df[col], errors="coerce").astype(float)
        most = vals.map(lambda v: np.inf if pd.isna(v) else (attack_lp.perturbed_range(v, threshold)[1]
                                                             if name in pub.perturbed else v))
        dims = dimensions(df)
        tcol = next((d for d in dims if pd.api.types.is_datetime64_any_dtype(df[d])), None)
        inner = np.ones(len(df), bool)
        for d in dims:
            inner &= ~df[d].map(is_total).to_numpy()
        if "margin" in df.columns:
            inner &= ~df["margin"].fillna(False).astype(bool).to_numpy()
        if tcol is not None and not periods:
            starts = sorted(df.loc[inner, tcol].dropna().unique())
            monthly = all(pd.Timestamp(s).day == 1 for s in starts)
            for i, s in enumerate(starts):
                s = pd.Timestamp(s)
                if i + 1 < len(starts):
                    end = pd.Timestamp(starts[i + 1]) - _DAY
                else:
                    end = (s + pd.offsets.MonthEnd(0)) if monthly else s + 6 * _DAY
                periods.append((s, end, float(most[inner & (df[tcol] == s).to_numpy()].sum())))
        for d in dims:
            if d == tcol:
                continue
            for lv, g in most[inner].groupby(df.loc[inner, d].astype(str)):
                key = (d, lv)
                levels[key] = min(levels.get(key, np.inf), float(g.sum()))
            # a margin row for one level of d (the other dimensions total) caps it too
            others = [x for x in dims if x != d]
            margin = ~df[d].map(is_total).to_numpy()
            for x in others:
                margin &= df[x].map(is_total).to_numpy()
            if others:
                for lv, g in most[margin].groupby(df.loc[margin, d].astype(str)):
                    key = (d, lv)
                    levels[key] = min(levels.get(key, np.inf), float(g.min()))
    return periods, levels


def _since_cells(df: pd.DataFrame, wcol: str) -> tuple[dict, bool, bool] | None:
    """A week-since-enrolment table's people per ``(dimension, level, week)``: ``(low, high, withheld)``, and
    its person-days ``(low, high)`` (2 significant digits read as a rounding window). From an ``n`` column,
    or from the ``participants`` metric's estimate when the table prints no ``n``. Also whether the table
    prints zeros (else a missing row is nobody) and whether it had person-days."""
    counts = [c for c in count_columns(df) if is_person_count(c)]
    people_rows = df["metric"].astype(str).isin(["participants", "persons", "n"]) if "metric" in df.columns else None
    # the people metric's row carries the cell's person-days (other metrics' rows may count valid days only)
    rows = df[people_rows] if people_rows is not None and people_rows.any() else df
    if counts:
        col = counts[0]
    elif people_rows is not None and people_rows.any() and "estimate" in df.columns:
        col = "estimate"
    else:
        col = None  # no people printed: which rows are listed is all there is
    if rows.empty:
        return None
    days_col = next((c for c in df.columns if is_person_days(str(c))), None)
    nd = pd.to_numeric(rows[days_col], errors="coerce").astype(float) if days_col else None
    rounded = False
    if nd is not None and nd.notna().any():
        def sig(v: float) -> int:
            return len(f"{int(v)}".rstrip("0")) if v >= 1 else 1
        rounded = all(sig(v) <= 2 for v in nd.dropna()) and (nd.dropna() >= 100).any()
    vals = (pd.to_numeric(rows[col], errors="coerce").astype(float) if col is not None
            else pd.Series(np.nan, index=rows.index))
    dims = [d for d in dimensions(rows) if d != wcol]
    # zeros printed, or every (level, week) listed: a listed row says nothing about who is in it
    wheres = [tuple(sorted((k, next(iter(s))) for k, s in where_of(r, dims).items())) for _, r in rows.iterrows()]
    by_shape: dict[tuple, set] = {}
    for w, k in zip(wheres, rows[wcol]):
        by_shape.setdefault(tuple(d for d, _ in w), set()).add((w, k))
    full_grid = all(len(v) == len({w for w, _ in v}) * len({k for _, k in v}) for v in by_shape.values())
    zeros = bool((vals == 0).any()) or full_grid
    cells: dict[tuple[str, str, int], dict] = {}
    for (_, row), v in zip(rows.iterrows(), vals):
        where = where_of(row, dims)
        if len(where) > 1:
            return None  # crossed dimensions: not this attack's shape
        (dim, lv) = next(((k, next(iter(s))) for k, s in where.items()), ("_all", "all"))
        try:
            k = int(float(row[wcol]))
        except (TypeError, ValueError):
            continue
        key = (dim, lv, k)
        if key in cells:
            continue
        if np.isnan(v):
            count = (0.0 if zeros else 1.0, INF, True)
        elif col == "estimate" and v >= 1000:  # a statistic keeps 3 significant digits from n = 100
            half = 0.5 * 10.0 ** (math.floor(math.log10(v)) - 2)
            count = (math.ceil(v - half), math.floor(v + half), False)
        else:
            count = (v, v, False)
        cell = {"count": count, "days": None}
        if nd is not None and pd.notna(nd.loc[row.name]):
            p = float(nd.loc[row.name])
            half = 0.5 * 10.0 ** (math.floor(math.log10(p)) - 1) if rounded and p >= 100 else 0.0
            cell["days"] = (max(0.0, p - half), p + half)
        cells[key] = cell
    return cells, zeros, nd is not None


def _overlap(days: np.ndarray, ks: np.ndarray, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Days of week-since-enrolment ``k`` (enrolment day + 7k .. + 7k + 6) inside the data window, per
    enrolment day (rows) and week (columns); ``days`` as day numbers."""
    s, e = start.toordinal(), end.toordinal()
    first = days[:, None] + 7 * ks[None, :]
    return np.clip(np.minimum(first + 6, e) - np.maximum(first, s) + 1, 0, 7)


class _Rows:
    """Linear facts ``lo <= row @ x <= hi`` collected as sparse triplets."""

    def __init__(self, nvar: int):
        self.nvar, self.r, self.c, self.v, self.lo, self.hi = nvar, [], [], [], [], []

    def add(self, idx: np.ndarray, coef: np.ndarray, lo: float, hi: float) -> None:
        idx, coef = np.asarray(idx), np.broadcast_to(np.asarray(coef, float), np.shape(idx))
        nz = coef != 0
        self.r.append(np.full(int(nz.sum()), len(self.lo))); self.c.append(idx[nz]); self.v.append(coef[nz])
        self.lo.append(float(lo)); self.hi.append(float(hi))

    def copy(self) -> "_Rows":
        out = _Rows(self.nvar)
        out.r, out.c, out.v, out.lo, out.hi = list(self.r), list(self.c), list(self.v), list(self.lo), list(self.hi)
        return out

    def matrix(self) -> sparse.csr_matrix:
        cat = lambda xs, t: np.concatenate(xs) if xs else np.zeros(0, t)  # noqa: E731
        return sparse.csr_matrix((cat(self.v, float), (cat(self.r, int), cat(self.c, int))),
                                 shape=(len(self.lo), self.nvar))


def _cohort_inference(pub: Published, found: _Found, threshold: int, notes: list[str]) -> int:
    """Week-since-enrolment tables as sums over enrolment cohorts (issue 20, attack 3).

    Who is in week ``k`` since enrolment is fixed by who enrolled when: a person enrolled on day ``d`` is
    in calendar days ``d + 7k .. d + 7k + 6``, and only days inside the data window (:func:`_data_window`)
    can count. So a listed week holds someone, and at most the people of the enrolment periods that reach
    it (capped by the enrolment tables, per period and per level): the bound that holds whatever the data.

    Where a dimension of the table prints numbers (people, person-days), the attacker also solves an LP
    whose unknowns are ``x[d, level]``, the people with data enrolled on day ``d``, under the simplest
    model of who has data that fits every published count (checked by the LP, as an attacker checks):
    everyone with data is recorded every day of the window (people in week k = sum of ``x`` over the days
    that reach k; person-days = sum of ``x`` times the days of k inside the window), else everyone is seen
    every week (person-days between people and 7 x people). Each dimension is solved on its own.
    Returns the number of withheld cells attacked.
    """
    window = _data_window(pub)
    periods, level_most = _enrolment(pub, threshold)
    if window is None or not periods:
        return 0
    start, end = window
    checked = 0
    for name, df in pub.tables.items():
        wcol = next((c for c in df.columns if _SINCE.search(str(c))), None)
        parsed = _since_cells(df, wcol) if wcol is not None else None
        if parsed is None:
            continue
        cells, zeros, _ = parsed
        ks = np.array(sorted({k for (_, _, k) in cells}))
        # enrolment days whose weeks reach the window, each with its period
        day_list, period_of = [], []
        for j, (p0, p1, most) in enumerate(periods):
            if most > 0:
                for d in pd.date_range(p0, p1, freq="D"):
                    day_list.append(d.toordinal()); period_of.append(j)
        if not len(ks) or not day_list:
            continue
        days, period_of = np.array(day_list), np.array(period_of)
        ov = _overlap(days, ks, start, end)
        keep = ov.sum(axis=1) > 0
        days, ov, period_of = days[keep], ov[keep], period_of[keep]
        reach = (ov > 0).astype(float)
        col_of_k = {int(k): i for i, k in enumerate(ks)}
        levels: dict[str, list[str]] = {}
        for (dim, lv, _k) in cells:
            levels.setdefault(dim, [])
            if lv not in levels[dim]:
                levels[dim].append(lv)
        for dim, lvs in levels.items():
            targets = [(lv, int(k)) for lv in lvs for k in ks if (dim, lv, int(k)) in cells and cells[(dim, lv, int(k))]["count"][2]]
            if not targets:
                continue
            checked += len(targets)
            informative = any(not c["count"][2] or c["days"] is not None for (d, _, _), c in cells.items() if d == dim)
            if informative and len(days) * len(lvs) <= 20_000:
                _cohort_lp(name, wcol, dim, lvs, cells, zeros, ks, days, ov, reach, period_of, periods, level_most,
                           targets, found, threshold, notes)
            # the bound that holds whatever the data: listed -> someone; at most the cohorts that reach the week
            for lv, k in targets:
                i = col_of_k[k]
                most = sum(periods[j][2] for j in np.unique(period_of[reach[:, i] > 0]))
                most = min(most, level_most.get((dim, lv), INF))
                found.add("cohort", name, f"{wcol}={k}, {dim}={lv}: people", cells[(dim, lv, k)]["count"][0], most,
                          "a listed week has someone; at most the people of the enrolment periods that reach it")
    return checked


def _cohort_lp(name: str, wcol: str, dim: str, lvs: list[str], cells: dict, zeros: bool, ks: np.ndarray,
               days: np.ndarray, ov: np.ndarray, reach: np.ndarray, period_of: np.ndarray, periods: list,
               level_most: dict, targets: list[tuple[str, int]], found: _Found, threshold: int, notes: list[str]) -> None:
    """The LP of :func:`_cohort_inference` for one dimension: unknowns ``x[day, level]`` (people with data)."""
    nvar = len(days) * len(lvs)
    col_of_k = {int(k): i for i, k in enumerate(ks)}

    def var(lv: str) -> np.ndarray:
        return np.arange(len(days)) * len(lvs) + lvs.index(lv)

    prob, tmat = _Rows(nvar), _Rows(nvar)
    day_facts: list[tuple[np.ndarray, int, float, float]] = []
    for lv in lvs:
        idx = var(lv)
        for k in ks:
            i = col_of_k[int(k)]
            cell = cells.get((dim, lv, int(k)))
            if cell is None:
                if not zeros:
                    prob.add(idx, reach[:, i], 0.0, 0.0)  # a missing row: nobody
                continue
            prob.add(idx, reach[:, i], cell["count"][0], cell["count"][1])
            if cell["days"] is not None:
                day_facts.append((idx, i, *cell["days"]))
        cap = level_most.get((dim, lv))
        if cap is not None and np.isfinite(cap):
            prob.add(idx, np.ones(len(days)), 0.0, cap)
    for j, (_, _, most) in enumerate(periods):
        sel = np.flatnonzero(period_of == j)
        if len(sel) and np.isfinite(most):
            idx = np.concatenate([var(lv)[sel] for lv in lvs])
            prob.add(idx, np.ones(len(idx)), 0.0, most)
    for lv, k in targets:
        tmat.add(var(lv), reach[:, col_of_k[k]], 0.0, 0.0)
    models = []
    if day_facts:
        strong, weak = prob.copy(), prob.copy()
        for idx, i, a, b in day_facts:
            strong.add(idx, ov[:, i], a, b)
            weak.add(idx, 7.0 * reach[:, i], a, INF)  # each person seen adds 1 to 7 days
            weak.add(idx, reach[:, i], 0.0, b)
        models += [("everyone with data recorded every day of the window", strong),
                   ("everyone with data seen every week of the window", weak)]
    else:
        models.append(("everyone with data seen every week of the window", prob))
    for label, rows in models:
        bounds = attack_lp.solve_linear(rows.matrix(), np.array(rows.lo), np.array(rows.hi), tmat.matrix(),
                                        threshold=threshold)
        if bounds is None:
            notes.append(f"{name} ({dim}, cohort): the published counts do not fit '{label}'")
            continue
        for (lv, k), (b_lo, b_hi) in zip(targets, bounds):
            found.add("cohort", name, f"{wcol}={k}, {dim}={lv}: people", b_lo, b_hi,
                      f"LP over enrolment cohorts (day x {dim}) assuming {label}; the model fits every published count")
        return


# ------------------------------------------------------------------------------------------ entry points
def audit(pub: Published, *, threshold: int = DEFAULT_THRESHOLD, noise: float = 0.0) -> AttackReport:
    """Run the six attacks on a run's published files (see the module docstring).

    ``noise``: the largest change the attacker assumes perturbation made to a printed count (0: printed
    counts are exact). With ``noise > 0`` every printed count is a target too.
    """
    t0 = time.time()
    found = _Found(threshold)
    notes: list[str] = []
    models = []
    for name, df in pub.tables.items():
        by_row: dict[str, list[Fact]] = {}
        table_models = []
        for col in count_columns(df):
            try:
                table_models.append(model(name, df, col, threshold=threshold, noise=noise,
                                          perturbed=name in pub.perturbed))
            except Exception as exc:  # an odd table must not stop the audit of the others
                notes.append(f"{name}.{col}: not modelled ({type(exc).__name__}: {exc})")
        for m in table_models:
            if is_person_count(m.column):
                for f in m.withheld:
                    by_row.setdefault(f.cell.rsplit(":", 1)[0], []).append(f)
        for m in table_models:
            if is_person_days(m.column):
                m.siblings = by_row
        models += table_models
    pops = _populations(models)
    _attach_totals(pops, pub, threshold)
    _differencing(pops, found)
    unbounded: set[tuple[str, str]] = set()
    checked = _solve_layers(pops, found, threshold, notes, ("lp", "presence"), unbounded)
    checked += _cohort_inference(pub, found, threshold, notes)
    _pooled_minus_subgroup(pub, found, threshold)
    _decoded_subgroups(pub, found, threshold)
    _decoded_denominators(pub, found, threshold)
    _decoded_table_shares(pub, found, threshold)
    _shares(pub, found, threshold)
    _solve_layers(pops, found, threshold, notes, ("rule",), unbounded)
    _rule_claims(pub, found, threshold)
    _prose(pub, found, threshold)
    _binary_shares(pub, found, threshold)
    notes += _unperturbed_counts(pub, threshold)
    table = pd.DataFrame(found.rows, columns=COLUMNS)
    return AttackReport(table, threshold, checked, time.time() - t0, notes, dict(found.tried))


def _unperturbed_counts(pub: Published, threshold: int) -> list[str]:
    """Tables of the run's own people printing exact (not perturbed) person counts: each is the true value of
    any perturbed count of the same people (a headline, a perturbed table), so it undoes the perturbation.
    Listed as notes: which published numbers describe the same people is for a reader to judge."""
    out = []
    for name, df in pub.tables.items():
        if name in pub.perturbed:
            continue
        cols = [c for c in count_columns(df) if is_person_count(c)
                and (pd.to_numeric(df[c], errors="coerce") >= threshold).any()]
        if cols:
            out.append(f"{name}: exact person counts ({', '.join(cols)}) in a table not marked perturbed; a perturbed "
                       "count of the same people elsewhere is known exactly from them")
    return out


def audit_run(run_dir: str | Path, *, threshold: int = DEFAULT_THRESHOLD, noise: float = 0.0) -> AttackReport:
    """Attack ``<run_dir>``'s tables, results.json and report text; returns an :class:`AttackReport`."""
    return audit(load(run_dir), threshold=threshold, noise=noise)


def refuse_if_exposed(run_dir: str | Path, manifest: dict[str, Any], *, threshold: int = DEFAULT_THRESHOLD,
                      say: Any = print) -> str | None:
    """The run's last check before publishing (called once by :func:`evaluation.runs.run`).

    Records the report in ``manifest["attacks"]`` and writes ``attack_report.csv``
    beside it; returns ``None`` when nothing is exposed, else the failed step's name.
    """
    rep = audit_run(run_dir, threshold=threshold)
    manifest["attacks"] = rep.manifest()
    say(rep.summary("ko"))
    if not rep.exposed:
        return None
    say(rep.summary("en"))
    rep.table.to_csv(Path(run_dir) / "attack_report.csv", index=False)
    return "attack audit"
