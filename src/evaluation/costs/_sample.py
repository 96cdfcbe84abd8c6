"""The sample's outcomes as the cost notebook may use them: published through the gate first (issue 20).

A cost per completer is a budget over a head count: computed from the exact share of the sample that
completed, ``cost x participants / budget`` gives that share back to full precision, and with the
sample size the exact count. So every share of the run's participants the cost model uses is first
published by the :class:`~evaluation.publish.report.Recorder`: a share of two perturbed counts, rounded
by its published denominator and withheld (None) when that denominator is below
:func:`~evaluation.publish.perturbation.stat_min_n`. Unit costs, the Markov model's data-driven inputs and
the participant-level bootstrap are then computed from those published values only:

* :func:`publish_outcomes` records the sample counts and shares (results ``sample_*``) and publishes the
  perturbed counts of MetS change by arm (table ``mets_change_by_arm``);
* :func:`trial_from_counts` rebuilds a pseudo-sample from those published counts (one row per published
  person: arm and MetS change), so the bootstrap of costs and QALYs resamples published numbers, never
  the participants themselves.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from ._outcomes import ProgrammeOutcomes

if TYPE_CHECKING:
    from ..publish.report import Recorder

CHANGES = (-1, 0, 1)  # new MetS, unchanged, MetS resolved (ProgrammeOutcomes.per_person["change"])
CHANGE_TABLE = "mets_change_by_arm"

@dataclass(frozen=True)
class PublishedOutcomes:
    """Shares of the sample as published [proportion; None = withheld] and the published counts behind them.

    ``n_treated`` / ``n_comparison`` are perturbed counts [persons]; ``change_counts`` the published table of
    perturbed counts by ``arm`` and MetS ``change`` (column ``participants``).
    """

    share_active: float | None
    share_completed: float | None
    risk_reduced_treated: float | None
    risk_reduced_comparison: float | None
    mets_baseline_treated: float | None
    resolved_treated: float | None
    resolved_comparison: float | None
    n_treated: int
    n_comparison: int
    change_counts: pd.DataFrame

    @property
    def extra_resolved(self) -> float | None:
        """Resolution share, joiners minus comparison [proportion]; None when either share is withheld."""
        if self.resolved_treated is None or self.resolved_comparison is None:
            return None
        return self.resolved_treated - self.resolved_comparison


def _label(key: str, lang: str) -> str:
    """The result's label in ``lang`` from the results.json catalogue (:mod:`evaluation.publish.result_labels`)."""
    from ..publish.result_labels import LABELS

    ko, en = LABELS[key]
    return ko if lang == "ko" else en


def publish_outcomes(rec: "Recorder", participants: pd.DataFrame, outcomes: ProgrammeOutcomes, *,
                     active_after_week: int = 12, treated: str = "treated", arm: str = "arm",
                     arms: Sequence[str] | None = None) -> PublishedOutcomes:
    """Publish the sample's counts and shares through ``rec`` and return them as published.

    ``participants`` is the table ``outcomes`` was computed from (same rows, with ``participant_id``,
    ``treated``, ``arm``, ``dropout_week`` and ``completed``). Each share is the ratio of two perturbed
    counts (:meth:`Recorder.share_of`), recorded with ``kind="share"`` and its published denominator.
    """
    p = participants
    per = outcomes.per_person
    if not per.index.equals(p.index):
        raise ValueError("outcomes.per_person must have the rows of participants (compute both from the same table)")
    ids = p["participant_id"]
    is_t = p[treated].astype(bool)
    is_c = ~is_t
    active = is_t & (p["dropout_week"].astype(float).fillna(np.inf) > active_after_week)
    completed = is_t & p["completed"].fillna(False).astype(bool)
    m0 = per["mets_w0"].astype(bool)
    resolved = m0 & ~per["mets_w24"].astype(bool)
    reduced = per["risk_reduced"].astype(bool)
    lang = rec.lang
    n_t = rec.result("sample_treated", unit="persons", members=ids[is_t], label=_label("sample_treated", lang))
    n_c = rec.result("sample_comparison", unit="persons", members=ids[is_c], label=_label("sample_comparison", lang))

    def share(key: str, num: pd.Series, den: pd.Series) -> float | None:
        value, n = rec.share_of(ids[num & den], ids[den])
        return rec.result(key, value, unit="share", kind="share", n=n, label=_label(key, lang))

    out: dict[str, Any] = {
        "share_active": share("sample_share_active", active, is_t),
        "share_completed": share("sample_share_completed", completed, is_t),
        "risk_reduced_treated": share("sample_risk_reduced_treated", reduced, is_t),
        "risk_reduced_comparison": share("sample_risk_reduced_comparison", reduced, is_c),
        "mets_baseline_treated": share("sample_mets_baseline_treated", m0, is_t),
        "resolved_treated": share("sample_resolved_treated", resolved, is_t & m0),
        "resolved_comparison": share("sample_resolved_comparison", resolved, is_c & m0),
    }
    levels = list(arms) if arms is not None else sorted(p[arm].astype(str).unique())
    frame = pd.DataFrame({"participant_id": ids, "arm": p[arm].astype(str), "change": per["change"].astype(int)})
    counts = rec.counts(CHANGE_TABLE, frame, ["arm", "change"], margins=False,
                        levels={"arm": levels, "change": list(CHANGES)})
    return PublishedOutcomes(**out, n_treated=int(n_t), n_comparison=int(n_c), change_counts=counts)


def trial_from_counts(counts: pd.DataFrame, *, arm: str = "arm", change: str = "change",
                      count: str = "participants") -> pd.DataFrame:
    """A pseudo-sample with one row per published person (``arm``, ``change``) from a published count table.

    The bootstrap of :func:`evaluation.costs.bootstrap_ce` resamples these rows within each arm: the
    spread it shows is that of the published counts, and nothing of a participant enters it.
    """
    rows = counts[[arm, change, count]].copy()
    rows[count] = pd.to_numeric(rows[count], errors="coerce").fillna(0).astype(int)
    if (rows[count] < 0).any():
        raise ValueError("published counts cannot be negative")
    out = rows.loc[rows.index.repeat(rows[count]), [arm, change]].reset_index(drop=True)
    out[arm] = out[arm].astype(str)
    out[change] = out[change].astype(int)
    return out
