"""Period positions and cohort coding for staggered adoption designs, the pre-processing R ``did`` does.

Every rule of the Callaway-Sant'Anna estimator (base periods, anticipation, who is a
not-yet-treated control, event time) is applied to period *positions* 1..T, never to
the labels: YYYYMM labels across a year end, or periods 2, 4, 6, give exactly the
answers of the same panel relabelled 1..T. Every unit that is dropped or recoded is
counted and described in ``notes`` (the rows of the result's ``diagnostics``).

Group (cohort) coding of the ``group`` column:

* a period label: the first period the unit is treated;
* ``inf``, or ``0`` when 0 is not a period label: never treated (R ``did`` uses 0);
* NaN: unknown (e.g. a joiner without an index date) -> the unit is dropped and counted;
* after the last period: treated outside the window -> recoded as never treated (R, moderndid);
* at or before the first period (+ anticipation): no pre-treatment period -> dropped (R, moderndid);
* between two period labels: mapped to the next period (the first observed treated period).

Without never-treated units and with not-yet-treated controls, the periods from the last cohort's start
(less anticipation) on are dropped and that cohort is used only as a control (R ``did`` >= 2.3). With
never-treated controls requested and none present we refuse (R coerces the last cohort into controls).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._guard import require_finite, require_varies

NEVER = np.inf  # cohort position of never-treated units (and of units used only as controls)


def note(check: str, value: float, threshold: float, passed: bool | None, ko: str, en: str) -> dict:
    """One diagnostics row: staff-facing message Korean first, then English."""
    return {"check": check, "value": value, "threshold": threshold, "passed": passed, "message": f"{ko} / {en}"}


def _fmt(values) -> str:
    """Short list of labels for messages ('' if empty)."""
    vals = [v.item() if hasattr(v, "item") else v for v in values]
    vals = [int(v) if isinstance(v, float) and float(v).is_integer() else v for v in vals]
    shown = ", ".join(str(v) for v in vals[:8])
    return shown + (f", ... ({len(vals)} in all)" if len(vals) > 8 else "")


@dataclass
class Design:
    """A balanced panel on period positions.

    Attributes
    ----------
    units : unit ids kept, in the row order of ``Y``
    labels : period labels; position p (1-based) is ``labels[p - 1]``
    Y : n x T outcomes
    X : covariate name -> n x T values
    G : cohort position per unit (``NEVER`` for never-treated units and control-only cohorts)
    cohorts : positions of the cohorts whose ATT(g,t) are estimated
    notes : diagnostics rows (see :func:`note`)
    n_incomplete : units dropped because some period is missing (balanced panel)
    """

    units: pd.Index
    labels: np.ndarray
    Y: np.ndarray
    X: dict[str, np.ndarray]
    G: np.ndarray
    cohorts: np.ndarray
    notes: list[dict] = field(default_factory=list)
    n_incomplete: int = 0
    n_missing_group: int = 0
    n_early: int = 0
    n_recoded_never: int = 0
    dropped_periods: list = field(default_factory=list)
    warn: list[str] = field(default_factory=list)
    all_labels: np.ndarray | None = None  # labels before periods were dropped (cohort positions may exceed T)
    n_trimmed: int = 0  # comparison unit-cells trimmed (score >= 0.995), filled in by the cell estimation

    @property
    def T(self) -> int:
        return len(self.labels)

    def label(self, pos: float):
        """Period label of a position (1-based), also for cohorts starting after the kept periods."""
        labs = self.labels if self.all_labels is None else self.all_labels
        return labs[int(pos) - 1]


def prepare(
    df: pd.DataFrame,
    unit: str,
    time: str,
    group: str,
    outcome: str,
    covariates: list[str],
    *,
    control_group: str,
    anticipation: int,
) -> Design:
    """Validate and recode a long panel into a :class:`Design` (see the module docstring for the rules)."""
    where = "staggered_did"
    cols = [unit, time, group, outcome] + covariates
    d = df[cols].copy()
    # errors name rows (positions in df), never unit ids: ids may identify participants
    g_num = pd.to_numeric(d[group], errors="coerce")
    bad = g_num.isna() & d[group].notna()
    if bad.any():
        raise TypeError(f"{where}: column {group!r} must be numeric (a period, inf/0 for never treated, NaN if "
                        f"unknown); row(s) {np.flatnonzero(bad.to_numpy())[:5].tolist()} are not")
    d[group] = g_num.astype(float)
    if d[[unit, time]].isna().any().any():
        rows = np.flatnonzero(d[[unit, time]].isna().any(axis=1).to_numpy())[:5].tolist()
        raise ValueError(f"{where}: missing {unit!r} or {time!r} in row(s) {rows}")
    dup = d.duplicated([unit, time])
    if dup.any():
        raise ValueError(f"{where}: more than one row per ({unit!r}, {time!r}), e.g. row(s) "
                         f"{np.flatnonzero(dup.to_numpy())[:5].tolist()}")
    varies = d.groupby(unit, sort=False)[group].transform("nunique", dropna=False) > 1
    if varies.any():
        raise ValueError(f"{where}: {group!r} varies within unit(s) ({d.loc[varies, unit].nunique()} units, "
                         f"row(s) {np.flatnonzero(varies.to_numpy())[:5].tolist()}); it must be the unit's first "
                         "treated period in every row")
    if np.isneginf(d[group]).any():
        raise ValueError(f"{where}: {group!r} is -inf; use inf (or 0) for never-treated units")
    # an infinite outcome or covariate would turn its cohort's cells into NaN, and the cohort would be
    # dropped for "no post-treatment period"; name the real cause instead
    require_finite(d, [outcome], where, "outcome")
    require_finite(d, covariates, where, "covariate")
    require_varies(d[outcome].to_numpy(float), outcome, where)

    notes: list[dict] = []
    warn: list[str] = []
    # rows with a missing outcome or covariate are dropped (R: complete cases); the unit then
    # lacks a period and leaves with the balancing below, where it is counted
    complete_row = d[[outcome] + covariates].notna().all(axis=1)
    n_rows_missing = int((~complete_row).sum())
    units_with_missing = set(d.loc[~complete_row, unit])
    n_units_input = d[unit].nunique()
    d = d[complete_row]
    # units whose every row has a missing outcome or covariate vanish here: count them with the balancing
    n_all_missing = n_units_input - d[unit].nunique()
    labels = np.sort(d[time].unique())
    if len(labels) < 2:
        raise ValueError(f"{where}: need at least two periods with data, got {list(labels)}")
    all_labels = labels

    g_unit = d.groupby(unit, sort=False)[group].first()
    gv = g_unit.to_numpy(float)
    if (gv == 0).any() and (labels == 0).any():
        raise ValueError(
            f"{where}: {group!r} is 0 for {int((gv == 0).sum())} unit(s) but 0 is also a period of {time!r}: "
            "0 cannot mean 'never treated' here. Mark never-treated units with inf (np.inf) instead, "
            "or number the periods from 1.")
    missing = np.isnan(gv)
    never = (gv == 0) | np.isposinf(gv)
    treated = ~missing & ~never
    pos = np.full(len(gv), NEVER)
    pos[treated] = np.searchsorted(labels, gv[treated], side="left") + 1.0
    after = treated & (gv > labels[-1])
    inside = treated & ~after
    between = inside & (gv > labels[0]) & ~np.isin(gv, labels)
    pos[after] = NEVER
    early = inside & (pos <= 1 + anticipation)

    n_missing = int(missing.sum())
    notes.append(note("missing_group", n_missing, 0, n_missing == 0,
                      f"처치 시작 시점(코호트)이 비어 있는 {n_missing}명 제외(예: 등록일 없는 참여자)",
                      f"{n_missing} units with a missing {group!r} (e.g. joiners without an index date) dropped"))
    if n_missing:
        warn.append(f"{n_missing} units with a missing {group!r} were dropped (never used as controls)")
    n_after, n_between, n_early = int(after.sum()), int(between.sum()), int(early.sum())
    gl_after, gl_between, gl_early = (_fmt(np.unique(gv[m])) for m in (after, between, early))
    notes.append(note("cohorts_after_last_period", n_after, 0, n_after == 0,
                      f"마지막 기간 이후에 처치가 시작되는 코호트({gl_after or '없음'}) {n_after}명을 비처치군으로 재분류",
                      f"{n_after} units first treated after the last period (cohorts: {gl_after or 'none'}) "
                      "recoded as never treated"))
    if n_after:
        warn.append(f"cohorts {gl_after} start after the last period: {n_after} units recoded as never treated")
    notes.append(note("cohort_start_not_a_period", n_between, 0, n_between == 0,
                      f"시작 시점({gl_between or '없음'})이 관측 기간이 아닌 {n_between}명은 다음 기간부터 처치된 것으로 계산",
                      f"{n_between} units start at a time that is not an observed period ({gl_between or 'none'}): "
                      "treated from the next period"))
    if n_between:
        warn.append(f"cohort start(s) {gl_between} are not observed periods; mapped to the next period")
    notes.append(note("treated_in_first_period", n_early, 0, n_early == 0,
                      f"첫 기간(+예상효과 {anticipation}기간)에 이미 처치된 코호트({gl_early or '없음'}) {n_early}명 제외: "
                      "처치 전 기간 없음",
                      f"{n_early} units already treated in the first period (+{anticipation} anticipation; "
                      f"cohorts: {gl_early or 'none'}) dropped: no pre-treatment period"))
    if n_early:
        warn.append(f"{n_early} units already treated in the first period (cohorts {gl_early}) were dropped")
    keep_unit = ~missing & ~early
    G_all = pd.Series(pos, index=g_unit.index)[keep_unit]
    d = d[d[unit].isin(G_all.index)]

    dropped_periods: list = []
    if not np.isinf(G_all.to_numpy()).any():
        if control_group == "nevertreated":
            raise ValueError(f"{where}: no never-treated units; use control_group='notyettreated'")
        # R did: without never-treated units, periods from the last cohort's start (less anticipation)
        # on have no comparison group; they are dropped and the last cohort serves only as a control
        latest = float(G_all.max())
        cutoff = latest - anticipation
        dropped_periods = [lab.item() for lab in labels[int(cutoff) - 1:]]
        labels = labels[: int(cutoff) - 1]
        if len(labels) < 2:
            raise ValueError(f"{where}: no never-treated units and fewer than two periods before the last "
                             f"cohort starts ({labels[-1] if len(labels) else 'none'}); nothing to compare")
        d = d[d[time].isin(labels)]
        last_label = gv[(pos == latest) & keep_unit][0]
        n_last = int((G_all == latest).sum())
        G_all[G_all == latest] = NEVER
        msg_p = _fmt(dropped_periods)
        notes.append(note("no_never_treated", len(dropped_periods), 0, False,
                          f"비처치군이 없어 마지막 코호트({_fmt([last_label])}, {n_last}명) 시작 이후 기간({msg_p})을 "
                          "제외하고, 그 코호트는 비교군으로만 사용",
                          f"no never-treated units: periods {msg_p} (from the last cohort's start, "
                          f"{_fmt([last_label])}) dropped; that cohort ({n_last} units) is used only as a control"))
        warn.append(f"no never-treated units: periods {msg_p} dropped and cohort {_fmt([last_label])} "
                    "used only as a not-yet-treated control (as R did)")
    else:
        notes.append(note("no_never_treated", 0, 0, True, "비처치군 있음: 제외한 기간 없음",
                          "never-treated units present: no period dropped"))

    # balanced panel: a unit must have a complete row in every remaining period
    Yw = d.pivot(index=unit, columns=time, values=outcome).reindex(columns=labels)
    full = Yw.notna().all(axis=1)
    n_incomplete = int((~full).sum()) + n_all_missing
    n_units_before = len(Yw) + n_all_missing
    n_by_missing = int(pd.Index(Yw.index[~full.to_numpy()]).isin(list(units_with_missing)).sum()) + n_all_missing
    Yw = Yw[full]
    units = Yw.index
    if len(units) == 0:
        raise ValueError(f"{where}: no unit is observed in every period; the panel is empty once balanced")
    share = n_incomplete / max(n_units_before, 1)
    n_absent = n_incomplete - n_by_missing
    notes.append(note("incomplete_panel", round(share, 4), 0.1, share <= 0.1,
                      f"일부 기간이 빠진 {n_incomplete}명({share:.1%}) 제외(균형 패널): 결측 결과·공변량 때문 "
                      f"{n_by_missing}명, 기간 행 없음 {n_absent}명(결측 행 {n_rows_missing}개)",
                      f"{n_incomplete} units ({share:.1%}) missing a period dropped to balance the panel: "
                      f"{n_by_missing} for a missing outcome or covariate, {n_absent} with no row in some period "
                      f"({n_rows_missing} rows with a missing outcome or covariate)"))
    for reason, k, ko, en in (("missing_value", n_by_missing, "결측 결과·공변량 때문에 균형 패널에서 제외한 단위",
                               "units dropped to balance the panel for a missing outcome or covariate"),
                              ("missing_period", n_absent, "기간 행이 없어 균형 패널에서 제외한 단위",
                               "units dropped to balance the panel for a period with no row")):
        notes.append(note(f"dropped:{reason}", k, 0, k == 0, f"{ko} {k}개", f"{en}: {k}"))
    if n_incomplete:
        warn.append(f"{n_incomplete} of {n_units_before} units ({share:.1%}) dropped to balance the panel: "
                    f"{n_by_missing} for a missing outcome or covariate, {n_absent} with no row in some period")
    X = {c: d.pivot(index=unit, columns=time, values=c).reindex(index=units, columns=labels).to_numpy(float)
         for c in covariates}
    G = G_all.reindex(units).to_numpy(float)
    cohorts = np.unique(G[np.isfinite(G)])
    if len(cohorts) == 0:
        raise ValueError(f"{where}: no treated cohort with a pre-treatment period")
    if control_group == "nevertreated" and not np.isinf(G).any():
        raise ValueError(f"{where}: no never-treated units; use control_group='notyettreated'")

    sizes = pd.Series(G).value_counts()
    req = len(covariates) + 5  # R did warns below 5 + number of covariates units per group
    small = sizes[sizes < req]
    if control_group == "nevertreated" and any(not np.isfinite(g) for g in small.index):
        # R did's pre_process_did stops here too: a comparison group this small cannot carry the estimate
        n_never = int(sizes[[g for g in sizes.index if not np.isfinite(g)]].sum())
        raise ValueError(f"{where}: 비교군(미참여자)이 {n_never}명으로 너무 적습니다 (최소 {req}명). "
                         f"control_group='notyettreated'를 쓰십시오 / the never-treated group has {n_never} units, "
                         f"fewer than {req} (5 + number of covariates, as R did requires): use "
                         "control_group='notyettreated'")
    notes.append(note("small_groups", int(sizes.min()), req, small.empty,
                      f"{req}명 미만인 집단 {len(small)}개" + (f"(코호트 {_fmt([_lab(all_labels, g) for g in small.index])})"
                                                         if len(small) else ""),
                      f"{len(small)} groups with fewer than {req} units" +
                      (f" (cohorts {_fmt([_lab(all_labels, g) for g in small.index])})" if len(small) else "")))
    return Design(units=units, labels=labels, Y=Yw.to_numpy(float), X=X, G=G, cohorts=cohorts, notes=notes,
                  n_incomplete=n_incomplete, n_missing_group=n_missing, n_early=n_early, n_recoded_never=n_after,
                  dropped_periods=dropped_periods, warn=warn, all_labels=all_labels)


def _lab(labels: np.ndarray, g: float):
    return "never" if not np.isfinite(g) else labels[int(g) - 1]
