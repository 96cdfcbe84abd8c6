"""Programme view: did the gap between districts (or income groups) narrow after enrolment?

For each enrolled participant we take the mean of the outcome (e.g. daily steps on
valid days) over a window before enrolment and a window after it, average these
by group (district, or income quintile as an ordered dimension), compute the
summary measures on the group means before and after (weights = participants per
group, the same people in both periods), and report the change.

Confidence intervals: a stratified nonparametric bootstrap over participants
within groups (each replicate resamples each group's participants with
replacement, keeping the before/after pairing, so the within-person correlation
and the group sizes are preserved; fixed seed). The interval is the estimate
+/- z x the bootstrap standard error. We chose the bootstrap over the delta
method because several measures (max-min difference, BGSD, |SII|) are not
smooth in the group means, and the normal interval over the percentile one
because measures computed on estimated group means are biased upward by
sampling noise (e.g. BGV by roughly sum p_j se_j^2): the bootstrap distribution
of a level then sits above the estimate and a percentile interval can miss it.
In the change, before and after use the same participants and group sizes, so
that bias largely cancels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..publish import i18n, suppression
from . import _labels  # noqa: F401
from ..effects._guard import require_finite, require_ids, row_list
from ._validate import ridit

Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _mu(Y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return Y @ p


def _k_bgv(Y, p, r):
    return ((Y - _mu(Y, p)[..., None]) ** 2) @ p


def _k_bgsd(Y, p, r):
    return np.sqrt(_k_bgv(Y, p, r))


def _k_mld(Y, p, r):
    Yc = np.where(Y == 0, 1e-6, Y)
    return (-np.log(Yc / _mu(Yc, p)[..., None])) @ p * 1000


def _k_theil(Y, p, r):
    Yc = np.where(Y == 0, 1e-6, Y)
    R = Yc / _mu(Yc, p)[..., None]
    return (R * np.log(R)) @ p * 1000


def _k_diff_unordered(Y, p, r):
    return Y.max(axis=-1) - Y.min(axis=-1)


def _k_ratio_unordered(Y, p, r):
    return Y.max(axis=-1) / Y.min(axis=-1)


def _k_diff_ordered(Y, p, r):
    return Y[..., -1] - Y[..., 0]


def _k_ratio_ordered(Y, p, r):
    return Y[..., -1] / Y[..., 0]


def _slope(Y, p, r):
    rbar = float(r @ p)
    var_r = float(((r - rbar) ** 2) @ p)
    b1 = ((Y - _mu(Y, p)[..., None]) * (r - rbar)) @ p / var_r
    b0 = _mu(Y, p) - b1 * rbar
    return b0, b1


def _k_sii(Y, p, r):
    return _slope(Y, p, r)[1]


def _k_rii(Y, p, r):
    b0, b1 = _slope(Y, p, r)
    return (b0 + b1) / b0


def _k_aci(Y, p, r):
    return (Y * (2 * r - 1)) @ p


def _k_rci(Y, p, r):
    return _k_aci(Y, p, r) / _mu(Y, p)


# (kernel, how the size of the gap is read: "value", "abs" or "abslog")
UNORDERED_KERNELS: dict[str, tuple[Kernel, str]] = {
    "bgv": (_k_bgv, "value"), "bgsd": (_k_bgsd, "value"), "mld": (_k_mld, "value"),
    "theil": (_k_theil, "value"), "difference": (_k_diff_unordered, "value"), "ratio": (_k_ratio_unordered, "abslog"),
}
ORDERED_KERNELS: dict[str, tuple[Kernel, str]] = {
    "sii": (_k_sii, "abs"), "rii": (_k_rii, "abslog"), "aci": (_k_aci, "abs"), "rci": (_k_rci, "abs"),
    "bgv": (_k_bgv, "value"), "difference": (_k_diff_ordered, "abs"), "ratio": (_k_ratio_ordered, "abslog"),
}


def _size(x: np.ndarray, how: str) -> np.ndarray:
    if how == "abs":
        return np.abs(x)
    if how == "abslog":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.abs(np.log(x))
    return x


def participant_periods(
    daily: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    outcome: str = "steps",
    group: str = "district",
    pre_days: tuple[int, int] = (-28, -1),
    post_days: tuple[int, int] = (56, 83),
    arms: Sequence[str] | None = ("band_issued", "own_device"),
    valid_only: bool = True,
    min_days: int = 7,
) -> pd.DataFrame:
    """One row per enrolled participant: ``participant_id``, group, ``before``, ``after`` (outcome means).

    Days are counted from ``enrolled_on`` (day 0); a participant enters only with at
    least ``min_days`` (valid) days in both windows. Participant-level: never for staff.
    """
    for col in ("participant_id", "date", outcome):
        if col not in daily.columns:
            raise ValueError(f"daily table: column {col!r} not found; available: {list(daily.columns)}")
    for col in ("participant_id", "enrolled_on", group):
        if col not in participants.columns:
            raise ValueError(f"participants table: column {col!r} not found; available: {list(participants.columns)}")
    if pre_days[0] > pre_days[1] or post_days[0] > post_days[1]:
        raise ValueError(f"windows must be (first_day, last_day); got pre={pre_days}, post={post_days}")
    p = participants[participants["enrolled_on"].notna()]
    if arms is not None and "arm" in p.columns:
        p = p[p["arm"].astype(str).isin(list(arms))]
    p = p[["participant_id", "enrolled_on", group]]
    cols = ["participant_id", "date", outcome] + (["valid_day"] if valid_only and "valid_day" in daily.columns else [])
    d = daily[cols].merge(p, on="participant_id", how="inner")
    if "valid_day" in d.columns:
        d = d[d["valid_day"].astype(bool)]
    day = (pd.to_datetime(d["date"]) - pd.to_datetime(d["enrolled_on"])).dt.days
    d = d.assign(period=np.where(day.between(*pre_days), "before", np.where(day.between(*post_days), "after", "")))
    d = d[d["period"] != ""]
    agg = d.groupby(["participant_id", "period"])[outcome].agg(["mean", "size"]).reset_index()
    agg = agg[agg["size"] >= min_days]
    wide = agg.pivot(index="participant_id", columns="period", values="mean").dropna()
    if wide.empty or not {"before", "after"} <= set(wide.columns):
        raise ValueError("no participant has enough days in both the before and after windows")
    out = wide[["before", "after"]].reset_index().merge(p[["participant_id", group]], on="participant_id")
    return out


@dataclass
class GapChangeResult:
    """Result of :func:`gap_change`.

    Attributes
    ----------
    outcomes : per group (column named like the group, e.g. ``district``): n, before, after,
        change (group means), their SEs and ``suppressed`` (n < min_n; values and n blanked) --
        safe for staff.
    measures : per measure: before, after, change, gap_change (change in the size of the gap:
        |x| for signed measures, |log x| for ratios), bootstrap CIs, and ``verdict``
        ("narrowed" / "widened" / "no_clear_change").
    n_participants, n_boot, seed, group, ordered.
    """

    outcomes: pd.DataFrame
    measures: pd.DataFrame
    n_participants: int
    n_boot: int
    seed: int
    group: str
    ordered: bool
    conf_level: float = 0.95
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """The measures table (tidy)."""
        return self.measures.copy()

    def headline(self, measure: str) -> pd.Series:
        """One measure's row."""
        m = self.measures.set_index("measure")
        if measure not in m.index:
            raise KeyError(f"measure {measure!r} not computed; have {list(m.index)}")
        return m.loc[measure]

    def plot(self, lang: str = "ko", measure: str | None = None, ax: Any = None, *,
             outcomes: pd.DataFrame | None = None, measures: pd.DataFrame | None = None) -> Any:
        """Before/after group means (dumbbell chart), suppressed groups left out; returns the Figure.

        ``outcomes`` and ``measures`` are the published tables (group means and gap measures rounded by n,
        withheld where n is too small) to draw what staff see; without them the unprotected ones."""
        import matplotlib.pyplot as plt

        from ..reference import districts

        o = self.outcomes if outcomes is None else outcomes
        o = o.assign(before=pd.to_numeric(o["before"], errors="coerce").astype(float),
                     after=pd.to_numeric(o["after"], errors="coerce").astype(float))
        shown = ~o["suppressed"].astype(bool) if "suppressed" in o else pd.Series(True, index=o.index)
        o = o[shown & o["before"].notna() & o["after"].notna()].sort_values("after")
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(o) + 1)))
        else:
            fig = ax.figure
        labels = o[self.group].astype(str)
        if self.group == "district":
            labels = labels.map(districts.names(lang)).fillna(labels)
        ypos = np.arange(len(o))
        ax.hlines(ypos, o["before"], o["after"], color="grey", lw=1)
        ax.scatter(o["before"], ypos, label=i18n.t("before", lang), zorder=3)
        ax.scatter(o["after"], ypos, label=i18n.t("after", lang), zorder=3)
        ax.set_yticks(ypos)
        ax.set_yticklabels(labels)
        if len(o):
            ax.legend(loc="lower right")
        else:  # every group withheld: say so instead of an empty frame that reads as "no change"
            ax.text(0.5, 0.5, i18n.t("suppressed", lang), transform=ax.transAxes, ha="center", va="center", color="0.4")
        ax.set_ylabel(i18n.t(self.group, lang))
        if measure:
            m = self.measures if measures is None else measures
            r = m.set_index("measure").loc[measure]

            def num(v: float) -> str:
                v = float(v)
                return "x" if not np.isfinite(v) else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}")

            ax.set_title(f"{i18n.t(measure, lang)}: {i18n.t('before', lang)} {num(r['before'])}, "
                         f"{i18n.t('after', lang)} {num(r['after'])}")
        return fig


def gap_change(
    daily: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    outcome: str = "steps",
    group: str = "district",
    ordered: bool = False,
    measures: Sequence[str] | None = None,
    pre_days: tuple[int, int] = (-28, -1),
    post_days: tuple[int, int] = (56, 83),
    arms: Sequence[str] | None = ("band_issued", "own_device"),
    min_days: int = 7,
    min_n: int = 10,
    n_boot: int = 1000,
    seed: int = 2023,
    conf_level: float = 0.95,
    periods: pd.DataFrame | None = None,
) -> GapChangeResult:
    """Inequality between groups in a programme outcome before vs after enrolment, with bootstrap CIs.

    ``group="district"`` (non-ordered: BGV, BGSD, MLD, TI, D, R) or an ordered
    dimension such as ``group="income_quintile", ordered=True`` (1 = most
    disadvantaged: SII, RII, ACI, RCI on the linear scale, BGV, D, R). Pass
    ``periods`` (from :func:`participant_periods`) to skip the daily-table step.
    """
    if periods is None:
        periods = participant_periods(daily, participants, outcome=outcome, group=group, pre_days=pre_days,
                                      post_days=post_days, arms=arms, min_days=min_days)
    for col in ("before", "after", group):
        if col not in periods.columns:
            raise ValueError(f"periods table: column {col!r} not found")
    # a missing group would become the group "nan"; a missing or infinite outcome would make its group's
    # mean NaN and every measure with it: refuse, naming the rows
    require_ids(periods, group, "gap_change", "group")
    require_finite(periods, ["before", "after"], "gap_change", "outcome")
    miss = periods[["before", "after"]].isna().any(axis=1).to_numpy()
    if miss.any():
        raise ValueError(f"gap_change: 'before' or 'after' is missing in {int(miss.sum())} {row_list(miss)}; "
                         "participant_periods leaves such people out, drop them before passing periods")
    table = ORDERED_KERNELS if ordered else UNORDERED_KERNELS
    measures = list(measures) if measures is not None else list(table)
    unknown = [m for m in measures if m not in table]
    if unknown:
        raise ValueError(f"measures {unknown} not available for {'ordered' if ordered else 'non-ordered'} groups; "
                         f"choose from {list(table)}")
    per = periods.sort_values(group, kind="stable")
    if ordered:
        try:
            keys = np.sort(pd.to_numeric(per[group].unique()))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"ordered=True needs a numeric group column; {group!r} is not numeric") from exc
    else:
        keys = np.array(sorted(per[group].astype(str).unique()))
        per = per.assign(**{group: per[group].astype(str)})
    if len(keys) < 3:
        raise ValueError(f"need at least 3 groups in {group!r}, found {len(keys)}")
    before_by = [per.loc[per[group] == k, "before"].to_numpy() for k in keys]
    after_by = [per.loc[per[group] == k, "after"].to_numpy() for k in keys]
    n = np.array([len(b) for b in before_by], dtype=float)
    p = n / n.sum()
    r = ridit(n)
    yb = np.array([b.mean() for b in before_by])
    ya = np.array([a.mean() for a in after_by])

    rng = np.random.default_rng(seed)
    Yb = np.empty((n_boot, len(keys)))
    Ya = np.empty((n_boot, len(keys)))
    for j, (b, a) in enumerate(zip(before_by, after_by)):
        idx = rng.integers(0, len(b), size=(n_boot, len(b)))
        Yb[:, j] = b[idx].mean(axis=1)
        Ya[:, j] = a[idx].mean(axis=1)
    from ._validate import z_value

    z = z_value(conf_level)
    rows = []
    for name in measures:
        kern, how = table[name]
        mb, ma = float(kern(yb, p, r)), float(kern(ya, p, r))
        bb, ba = kern(Yb, p, r), kern(Ya, p, r)
        gap = _size(ba, how) - _size(bb, how)
        gap_pt = float(_size(np.array(ma), how) - _size(np.array(mb), how))
        se_b, se_a, se_g = (float(np.nanstd(x, ddof=1)) for x in (bb, ba, gap))
        lo, hi = gap_pt - z * se_g, gap_pt + z * se_g
        verdict = "narrowed" if hi < 0 else ("widened" if lo > 0 else "no_clear_change")
        rows.append({
            "measure": name, "before": mb, "after": ma, "change": ma - mb,
            "before_se": se_b, "before_ci_low": mb - z * se_b, "before_ci_high": mb + z * se_b,
            "after_se": se_a, "after_ci_low": ma - z * se_a, "after_ci_high": ma + z * se_a,
            "gap_change": gap_pt, "gap_change_se": se_g, "gap_change_ci_low": lo, "gap_change_ci_high": hi,
            "gap_scale": how, "verdict": verdict,
        })
    outcomes = pd.DataFrame({group: keys, "n": n.astype(int), "before": yb, "after": ya, "change": ya - yb})
    se_b = np.array([b.std(ddof=1) / np.sqrt(len(b)) if len(b) > 1 else np.nan for b in before_by])
    se_a = np.array([a.std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else np.nan for a in after_by])
    outcomes["se_before"], outcomes["se_after"] = se_b, se_a
    # small cells: the project's shared primary suppression (values and n blanked, flag set)
    outcomes = suppression.primary(outcomes, min_n, n="n",
                                   columns=("before", "after", "change", "se_before", "se_after", "n"))
    return GapChangeResult(outcomes=outcomes, measures=pd.DataFrame(rows), n_participants=int(n.sum()),
                           n_boot=n_boot, seed=seed, group=group, ordered=ordered, conf_level=conf_level,
                           details={"pre_days": pre_days, "post_days": post_days, "outcome": outcome})
