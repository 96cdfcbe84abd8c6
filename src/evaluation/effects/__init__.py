"""Programme effectiveness: KPIs, matched / weighted comparisons, DiD (2x2 and staggered),
mixed-model trajectories, interrupted time series and sensitivity analyses.

Every estimator takes a tidy DataFrame and column names and returns a small
result object with the numbers as attributes, ``summary()`` (tidy DataFrame)
and ``plot()``::

    from evaluation import effects
    effects.kpis(participants, benchmarks={"risk_reduction": 0.585})
    effects.matched_att(df, "treated", "sbp_w24", covariates, method="ipw")
    effects.did_2x2(long, "fte", "nj", "post", unit="store")
    effects.staggered_did(panel, "unit", "period", "first_treated", "y", control_group="notyettreated")
    effects.trajectory(daily, participants)
    effects.weekly_panel(daily, participants)   # participant-weeks with first_week, for staggered_did
    effects.its(series, "events", "month", "ban", offset="pop", seasonality=2)
    effects.e_value(0.8, (0.7, 0.9))

Inputs an estimator cannot interpret never become a number: the shared guard (``_guard``, also used
by ``costs`` and ``equity``) refuses infinite values, constant outcomes, codes other than 0/1 or the
documented category codes, duplicated unit-period rows, units both treated and control, all-treated
data and missing ids with an error naming the column and the first rows; rows or units it can set
aside (missing values, balancing, trimming) are counted by reason in ``diagnostics`` and warned once
as an :class:`EffectWarning`.
"""
from __future__ import annotations

from ._did import DiDResult, did_2x2
from ._its import ITSResult, its
from ._labels import UNITS, register as _register_labels
from ._kpi import RTM_CAUTION, KPIResult, behaviour_improved, kpis, risk_flags
from ._mixed import TrajectoryResult, trajectory, weekly_steps
from ._panel import pre_enrolment_steps, weekly_panel
from ._prepost import PrePostResult, prepost_steps
from ._propensity import MatchResult, balance_table, matched_att
from ._results import EffectResult
from ._results import DIAGNOSTIC_COLUMNS, EffectWarning, diagnostics_frame, diagnostics_view
from ._kpi import at_risk, share_test
from ._contrast import kpi_contrast, share_difference
from ._reported import ReportedKPIResult, ReportedRateResult, reported_kpis, reported_vs_national
from ._sensitivity import EValueResult, e_value, placebo_outcome, placebo_timing
from ._staggered import Aggregate, StaggeredResult, staggered_did
from ._wide import long_measures

_register_labels()  # Korean/English labels for the plots and notebooks

__all__ = [
    "UNITS",
    "Aggregate", "DiDResult", "EValueResult", "EffectResult", "ITSResult", "KPIResult", "MatchResult",
    "RTM_CAUTION", "StaggeredResult", "TrajectoryResult", "balance_table", "behaviour_improved",
    "did_2x2", "e_value", "its", "kpis", "long_measures", "matched_att", "placebo_outcome",
    "placebo_timing", "pre_enrolment_steps", "PrePostResult", "prepost_steps", "risk_flags", "staggered_did", "trajectory", "weekly_panel",
    "weekly_steps",
]
__all__ += ["DIAGNOSTIC_COLUMNS", "EffectWarning", "at_risk", "diagnostics_frame", "diagnostics_view"]
__all__ += ["ReportedKPIResult", "ReportedRateResult", "kpi_contrast", "reported_kpis", "reported_vs_national",
            "share_difference", "share_test"]

from ._staggered import StaggeredDiDWarning  # noqa: E402  (warning class for staggered_did diagnostics)

__all__ += ["StaggeredDiDWarning"]
