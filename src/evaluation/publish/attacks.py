"""An outsider's attack on everything a run publishes; ``evaluation run`` refuses to publish what it breaks.

Reads only ``<run>/tables/*.parquet``, ``<run>/results.json`` and the visible
text of ``<run>/reports/*.html`` (:mod:`evaluation.publish.published`), never
the private data, and tries six kinds of attack (issue 20):

1. ``differencing`` -- a total printed elsewhere (a ``results.json`` headline, a
   number in a report) minus the listed bins of a table leaves the withheld bins;
2. ``lp`` -- linear and integer programming (scipy HiGHS, :mod:`.attack_lp`)
   over every published cell, margin and total, tables related by shared
   dimensions (a table whose margins equal sums of another's cells is the same
   people, found by matching, as an attacker would);
3. ``presence`` -- a listed row has somebody in it, a missing row nobody, and a
   person-day count bounds the people;
4. ``decode`` -- full-precision shares times their denominators, and pooled
   minus subgroup statistics, give withheld numerators and rows back;
5. ``rule`` -- the publisher's rule read backwards (a printed ``reason``, a flag,
   a table with no totals to protect withholds only small counts);
6. ``prose`` -- numbers of people under the threshold in report text, and
   rounded shares times printed group sizes.

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

from . import attack_lp
from .attack_lp import Fact, Population
from .attack_tables import ONLY_WHEN_SMALL as _ONLY_WHEN_SMALL
from .attack_tables import TableModel, count_columns, describe, dimensions, model, where_of
from .published import Published, is_person_count, is_person_days, is_total, load, tokens

DEFAULT_THRESHOLD = 10
ATTACKS = ("differencing", "lp", "presence", "decode", "rule", "prose")
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
    ``seconds``, ``notes`` (what the attacker could not use, e.g. a contradictory table).
    """

    table: pd.DataFrame
    threshold: int = DEFAULT_THRESHOLD
    checked: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

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

    def add(self, attack: str, source: str, cell: str, lo: float, hi: float, how: str) -> bool:
        if (source, cell) in self.keys or lo > hi or not attack_lp.exposed(lo, hi, self.threshold):
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


def _populations(models: list[TableModel]) -> list[_Pop]:
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


def _totals(pub: Published) -> list[tuple[str, str, float, str, set[str]]]:
    """``(source, label, value, kind, key tokens)`` of person and person-day totals printed outside tables
    (``results.json`` headlines first, then numbers read from the reports)."""
    out = []
    for nb, key, value, unit, _label in pub.result_values():
        u = unit.lower()
        kind = "days" if "day" in u and "person" in u or u == "person-days" else ("persons" if u in ("persons", "people") else "")
        if kind:
            out.append((f"results.json", f"{nb}.{key}", value, kind, tokens(key) - _GENERIC))
    for report, text in pub.texts.items():
        for pat in _PROSE_TOTAL:
            for mt in pat.finditer(text):
                out.append((f"reports/{report}.html", mt.group(0).strip(), float(mt.group(1).replace(",", "")),
                            "persons", {"person"}))
    return out


def _attach_totals(pops: list[_Pop], pub: Published) -> None:
    """Hang every printed total on the table(s) it is the total of (name match, consistent with the tables)."""
    for source, label, value, kind, keys in _totals(pub):
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
                fact = Fact(where, value, value, source, label, how=f"{label} = {value:g}")
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
                withheld = [c for c in inside if c.target]
                if not withheld:
                    continue
                rest = total.lo - sum(c.lo for c in inside if not c.target)
                if rest < 0:
                    continue
                lo1 = 0.0 if any(c.lo == 0 and not c.target for c in cells) else 1.0
                hi = rest - lo1 * (len(withheld) - 1)
                for c in withheld:
                    how = (f"{total.cell} ({total.source}) − {len(inside) - len(withheld)} published cells = {rest:g} "
                           f"over {len(withheld)} withheld")
                    lo = rest if len(withheld) == 1 else min(lo1, rest)
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
                if b.fact.band and b.hi - b.lo >= b.fact.band:
                    continue  # a perturbed count known no better than its own printed value
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
                lo, hi = math.ceil((v - r) * n - 1e-9), math.floor((v + r) * n + 1e-9)
                if lo > hi:  # not a share of these n people (e.g. a share of person-days)
                    continue
                attack = "decode" if d >= 4 else "prose"  # 4+ decimals: more than a rounded percentage prints
                how = f"{c} {v:.{min(d, 8)}g} × {denom} {n:g}"
                # the numerator is a count column of its own when the share is named after it (active_share)
                num = next((x for x in df.columns if x != denom and is_person_count(str(x)) and str(x) in tokens(c)), None)
                found.add(attack, name, f"{cell}: {num}" if num else f"{cell}: {c} numerator", max(lo, 0), hi, how)
                found.add(attack, name, f"{cell}: {c} rest", max(n - hi, 0), n - lo, how + " (n − numerator)")


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


def _report_of(pub: Published, df: pd.DataFrame) -> str | None:
    """The report that displays a table: the only one whose text names at least two of its column names."""
    names = [str(c) for c in df.columns if "_" in str(c)]
    hits = [r for r, text in pub.texts.items() if sum(n in text for n in names) >= 2]
    return hits[0] if len(hits) == 1 else None


def _group_sizes(pub: Published, report: str, threshold: int) -> dict[float, str]:
    """Group sizes an attacker reads beside a table: people counts printed in its report and that notebook's
    results.json entries (at least the threshold), and sums of two printed there (matched + unmatched)."""
    sizes: dict[float, str] = {}
    for nb, key, value, unit, _ in pub.result_values():
        if nb == report and unit.lower() in ("persons", "people") and value >= threshold:
            sizes.setdefault(value, f"results.json {nb}.{key}")
    text = pub.texts.get(report, "")
    seen = sorted({float(m.group(1).replace(",", "")) for pat in _PROSE_PEOPLE for m in pat.finditer(text)}
                  | {v for v in sizes})
    for v in seen:
        if v >= threshold:
            sizes.setdefault(v, f"reports/{report}.html")
    for a, b in combinations(seen, 2):
        if a > 0 and b > 0 and a + b >= threshold:
            sizes.setdefault(a + b, f"reports/{report}.html ({a:g} + {b:g})")
    return sizes


def _binary_shares(pub: Published, found: _Found, threshold: int) -> None:
    """Rounded shares of a binary covariate (``type == binary``) times the group sizes printed beside the
    table: the people with (and without) the trait, over every size the share is consistent with."""
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
        for _, row in df[df["type"].astype(str).eq("binary")].iterrows():
            for c in cols:
                v = row[c]
                if pd.isna(v) or not 0 < v < 1:
                    continue
                r = 0.5 * 10.0 ** (-min(_decimals(v), 12))
                fits = []
                for n, where in sorted(sizes.items()):
                    lo, hi = math.ceil((v - r) * n - 1e-9), math.floor((v + r) * n + 1e-9)
                    if lo == hi:
                        fits.append((lo, n, where))
                if fits:
                    ks = [k for k, _, _ in fits]
                    cell = f"{row[label] if label else ''} {c} ({', '.join(str(row[e]) for e in extra)})".strip()
                    found.add("prose", name, cell, min(ks), max(ks),
                              f"{c} {v:g} × group sizes printed in {report}: "
                              + ", ".join(f"{n:g}→{k}" for k, n, _ in fits[:4]))


# ------------------------------------------------------------------------------------------ attack 6 (prose)
def _prose(pub: Published, found: _Found, threshold: int) -> None:
    for report, text in pub.texts.items():
        for pat in _PROSE_PEOPLE:
            for mt in pat.finditer(text):
                v = float(mt.group(1).replace(",", ""))
                start = max(0, mt.start() - 30)
                snippet = re.sub(r"\s+", " ", text[start:mt.end() + 10]).strip()
                found.add("prose", f"reports/{report}.html", snippet, v, v, "a number of people printed in the text")
    for nb, key, value, unit, _ in pub.result_values():
        if unit.lower() in ("persons", "people") and 0 < value < threshold:
            found.add("prose", "results.json", f"{nb}.{key}", value, value, "a headline count of people")


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
                table_models.append(model(name, df, col, threshold=threshold, noise=noise))
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
    _attach_totals(pops, pub)
    _differencing(pops, found)
    unbounded: set[tuple[str, str]] = set()
    checked = _solve_layers(pops, found, threshold, notes, ("lp", "presence"), unbounded)
    _pooled_minus_subgroup(pub, found, threshold)
    _decoded_subgroups(pub, found, threshold)
    _decoded_denominators(pub, found, threshold)
    _shares(pub, found, threshold)
    _solve_layers(pops, found, threshold, notes, ("rule",), unbounded)
    _prose(pub, found, threshold)
    _binary_shares(pub, found, threshold)
    table = pd.DataFrame(found.rows, columns=COLUMNS)
    return AttackReport(table, threshold, checked, time.time() - t0, notes)


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
