"""Cleaning configuration: every rule's threshold in one frozen dataclass, with its source."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NonwearMethod = Literal["hr_steps", "hr", "choi", "troiano"]

CADENCE_BANDS = (0, 1, 20, 40, 60, 80, 100, 120)
"""Lower edges of the NHANES cadence bands (steps/min): 0, 1-19, 20-39, ..., 100-119, 120+
(Tudor-Locke et al. 2011, Prev Med 53:178, NHANES 2005-2006 adult stepping cadence)."""


@dataclass(frozen=True)
class CleaningConfig:
    """Thresholds for :func:`clean_minutes` and :func:`daily_summary` (units in the names / comments).

    Plausibility
        ``hr_min``/``hr_max`` = 30/220 bpm: outside adult physiological range for
        wrist PPG (Fitbit reports 30-220; the 220-age maximum caps exercise HR).
        ``steps_max`` = 250 steps/min: above the fastest sustained running cadence
        (~200-220 steps/min; Tudor-Locke et al. 2018, Br J Sports Med 52:776).
        Real Fitbit data peaks at 220 (Furberg et al. 2016, Zenodo 53894).
    Stuck sensor
        ``stuck_hr_minutes`` = 10: a heart rate identical over >= 10 consecutive
        minutes is flagged (quality screens for wrist HR use runs of 10 awake
        epochs of unchanged values, as set out in issue #3; we know of no single
        canonical source, hence a parameter).
    Non-wear (``nonwear``)
        ``"hr_steps"`` (default, bands with a HR sensor): a run of at least
        ``nonwear_min_minutes`` (10) minutes with no plausible heart rate *and*
        zero steps. Sleep (HR present, 0 steps) is wear; a short HR dropout while
        worn is wear. Counting minutes with a HR record as wear is the common
        Fitbit practice (large Fitbit cohorts such as All of Us -- Master et al.
        2022, Nat Med 28:2301 -- keep days with >= 10 h of wear); zero steps are
        required as well because steps without HR mean the band is on the wrist.
        ``"hr"``: HR absence alone (``nonwear_min_minutes`` = 1 gives the plain
        "minutes with HR" wear time).
        ``"choi"`` (step-only devices): >= ``choi_frame`` (90) min of zero steps,
        allowing up to ``choi_spike_minutes`` (2) non-zero minutes when the
        ``choi_stream_frame`` minutes up- and downstream are zero (Choi et al.
        2011, Med Sci Sports Exerc 43:357; the paper uses 30, the authors' R code
        ``PhysicalActivity::wearingMarking`` defaults the stream frame to
        frame/2 = 45 -- set ``choi_stream_frame=45`` to match it).
        ``"troiano"``: >= ``troiano_frame`` (60) min of zeros, allowing up to 2
        consecutive minutes with 1-``troiano_spike_max`` (100) counts, stopping at
        the 3rd (Troiano et al. 2008, Med Sci Sports Exerc 40:181).
    Clock offset
        A whole export written in UTC but labelled local shifts activity by
        ``clock_offset_minutes`` (540 = KST-UTC). A participant whose step-weighted
        mean time of day (circular mean) lies more than ``clock_offset_threshold_h``
        from ``expected_activity_phase_h`` (14.5 = 14:30, the centre of waking
        activity) with at least ``clock_offset_min_steps`` steps is flagged and
        their minutes are moved by +540 min when days are formed. Night-shift
        workers look the same: the flag says "possible", the rule can be turned off.
    Daily
        ``valid_day_minutes`` = 600 (10 h wear; Troiano 2008).
        Moderate >= 100 and vigorous >= 130 steps/min (Tudor-Locke et al. 2018,
        Br J Sports Med 52:776; 100 steps/min ~ 3 METs, 130 ~ 6 METs). Peak
        30-minute cadence = mean of the day's 30 highest minutes, not
        necessarily consecutive (Tudor-Locke et al. 2011, Prev Med 53:178). Resting HR = mean heart rate
        over worn minutes whose own and preceding ``rest_window_minutes`` - 1
        minutes had zero steps (sleep included, as in consumer-band RHR), NaN
        when fewer than ``rest_min_minutes`` such minutes exist. This is our
        documented method, not a published standard.
    """

    hr_min: float = 30.0
    hr_max: float = 220.0
    steps_max: int = 250
    stuck_hr_minutes: int = 10
    nonwear: NonwearMethod = "hr_steps"
    nonwear_min_minutes: int = 10
    choi_frame: int = 90
    choi_spike_minutes: int = 2
    choi_stream_frame: int = 30
    troiano_frame: int = 60
    troiano_spike_minutes: int = 2
    troiano_spike_max: int = 100
    detect_clock_offset: bool = True
    clock_offset_minutes: int = 540
    expected_activity_phase_h: float = 14.5
    clock_offset_threshold_h: float = 5.0
    clock_offset_min_steps: int = 2000
    valid_day_minutes: int = 600
    moderate_cadence: int = 100
    vigorous_cadence: int = 130
    rest_window_minutes: int = 10
    rest_min_minutes: int = 10
    tz: str = "Asia/Seoul"

    def __post_init__(self) -> None:
        if self.nonwear not in ("hr_steps", "hr", "choi", "troiano"):
            raise ValueError(f"nonwear must be one of 'hr_steps', 'hr', 'choi', 'troiano'; got {self.nonwear!r}")
        if not 0 < self.hr_min < self.hr_max:
            raise ValueError(f"need 0 < hr_min < hr_max; got {self.hr_min}, {self.hr_max}")
        for name in ("steps_max", "stuck_hr_minutes", "nonwear_min_minutes", "choi_frame", "troiano_frame", "rest_window_minutes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}")

    def quiet_rule(self) -> tuple[int, int, int, int]:
        """(frame, spike_minutes, spike_max, stream) for the run kernel of the chosen method."""
        if self.nonwear == "choi":
            return self.choi_frame, self.choi_spike_minutes, 1 << 30, self.choi_stream_frame
        if self.nonwear == "troiano":
            return self.troiano_frame, self.troiano_spike_minutes, self.troiano_spike_max, 0
        return self.nonwear_min_minutes, 0, 0, 0

    def quiet_mode(self) -> int:
        """What makes a minute "quiet" in the run kernel: 0 = no plausible HR and zero steps,
        1 = no plausible HR, 2 = zero steps."""
        return {"hr_steps": 0, "hr": 1, "choi": 2, "troiano": 2}[self.nonwear]


DEFAULT = CleaningConfig()
