"""Cleaning configuration: every rule's threshold in one frozen dataclass, with its source."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

NonwearMethod = Literal["hr_steps", "hr", "steps", "choi", "troiano"]
DeviceKind = Literal["step", "count"]

RULE_DEVICE: dict[str, tuple[str, ...]] = {
    "hr_steps": ("step", "count"),  # no heart rate and no movement: zero is zero in either unit
    "hr": ("step", "count"),
    "steps": ("step",),  # thresholds in steps/min
    "choi": ("count",),  # ActiGraph counts/min, as published
    "troiano": ("count",),
}
"""Device kinds each non-wear rule's thresholds are stated for (``CleaningConfig.device``)."""


class DeviceRuleWarning(UserWarning):
    """A count-device non-wear rule was applied to step data on purpose (``allow_count_rule_on_steps``)."""

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
        With ``hr_absent_fallback`` (default on), a participant with no heart-rate
        value at all in the data is treated as wearing a step-only device and
        gets the ``"steps"`` rule below (without it, every 10-minute zero-step run
        of such a participant -- sitting, sleep -- would be non-wear). The choice
        is made per participant over the rows given to one call (for the
        partitioned dataset path: the three-day window of a task).
        ``"hr"``: HR absence alone (``nonwear_min_minutes`` = 1 gives the plain
        "minutes with HR" wear time).
        ``"steps"`` (step-only devices, no heart-rate sensor; ``device="step"``): a
        run of at least ``steps_frame`` (120) consecutive minutes of zero steps
        (Hutto et al. 2013, Int J Behav Nutr Phys Act 10:120: consecutive-zero
        frames of 60/90/120/150/180 min gave -84/-43/-24/-14/-8 min/day of wear
        against wear logs, and the count of non-wear bouts and of compliant days
        stabilised from 120 min; 60 and 90 min over-count non-wear). That study
        used activity counts; a worn band records zero *steps* for longer than
        zero *counts* (US adults spend ~4.8 h/day of waking wear time at zero
        cadence, Tudor-Locke et al. 2011, Prev Med 53:178), so 120 min is the
        shortest defensible frame for steps, and the 60-90 min count rules
        under-count wear on step data. Hutto's rule allows no non-zero minute;
        ``steps_spike_minutes`` > 0 (default 0) allows that many consecutive
        minutes of 1-``steps_spike_max`` (19) steps/min -- the "incidental
        movement" cadence band of Tudor-Locke et al. 2011, a band handled off the
        wrist -- when zero steps follow. On the Fitabase data (5 users with heart
        rate) the plain rule agrees with heart-rate-based wear on 89.1% of
        minutes, a 2-minute allowance on 85.8% (small movements in sleep chain
        zero runs together), Choi's count rule on 87.3%. Sleep cannot be told
        from an unworn band without heart rate: an overnight zero run of 120 min
        or more is non-wear under any steps-only rule.
    Count-device rules (``device="count"``: ActiGraph counts/min, thresholds as published)
        ``"choi"``: >= ``choi_frame`` (90) min of zero counts, allowing up to
        ``choi_spike_minutes`` (2) non-zero minutes when the ``choi_stream_frame``
        minutes up- and downstream are zero (Choi et al. 2011, Med Sci Sports
        Exerc 43:357; the paper uses 30, the authors' R code
        ``PhysicalActivity::wearingMarking`` defaults the stream frame to
        frame/2 = 45 -- set ``choi_stream_frame=45`` to match it).
        ``"troiano"``: >= ``troiano_frame`` (60) min of zeros, allowing up to 2
        consecutive minutes with 1-``troiano_spike_max`` (100) counts, stopping at
        the 3rd (Troiano et al. 2008, Med Sci Sports Exerc 40:181).
        On step data (``device="step"``, the default) these are refused: 100
        counts/min is a spike, but 100 steps/min is moderate walking, and 60-90
        min of zero steps is ordinary sitting. ``allow_count_rule_on_steps=True``
        runs them anyway with a :class:`DeviceRuleWarning` (to reproduce a
        published comparison, say).
    Device
        ``device`` says what the ``steps`` column counts: ``"step"`` (steps/min
        from a band, watch or pedometer; the default) or ``"count"`` (ActiGraph
        activity counts/min). The cadence outputs of the daily table
        (``moderate_cadence`` etc.) are in steps/min and mean nothing for counts.
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
    steps_frame: int = 120
    steps_spike_minutes: int = 0
    steps_spike_max: int = 19
    hr_absent_fallback: bool = True
    device: DeviceKind = "step"
    allow_count_rule_on_steps: bool = False
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
        if self.nonwear not in RULE_DEVICE:
            raise ValueError(f"nonwear must be one of {', '.join(map(repr, RULE_DEVICE))}; got {self.nonwear!r}")
        if self.device not in ("step", "count"):
            raise ValueError(f"device must be 'step' (steps/min) or 'count' (activity counts/min); got {self.device!r}")
        if not 0 < self.hr_min < self.hr_max:
            raise ValueError(f"need 0 < hr_min < hr_max; got {self.hr_min}, {self.hr_max}")
        for name in ("steps_max", "stuck_hr_minutes", "nonwear_min_minutes", "choi_frame", "troiano_frame", "steps_frame",
                     "rest_window_minutes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}")
        kinds = RULE_DEVICE[self.nonwear]
        if self.device not in kinds:
            if self.device == "count":
                raise ValueError(
                    "이 미착용 규칙은 걸음 수(steps/min) 기준이라 활동량(count) 자료에 쓸 수 없습니다 / "
                    f"nonwear={self.nonwear!r} has thresholds in steps/min and cannot be applied to activity counts "
                    "(device='count'); use 'choi' or 'troiano'")
            msg = ("활동량계(count) 기준 미착용 규칙을 걸음 수 자료에 적용하면 앉아 있는 시간이 미착용으로 잡혀 착용 시간이 "
                   f"과소 추정됩니다 / nonwear={self.nonwear!r} is a count-device rule (ActiGraph counts/min) and the data "
                   "are steps (device='step'): 60-90 min of zero steps is ordinary sitting and 100 steps/min is moderate "
                   "walking, so wear time is under-counted. Use 'hr_steps' (bands with heart rate) or 'steps' "
                   "(step-only devices)")
            if not self.allow_count_rule_on_steps:
                raise ValueError(msg + "; set allow_count_rule_on_steps=True to run it anyway (e.g. to reproduce a "
                                 "published comparison), or device='count' if the column holds activity counts")
            warnings.warn(msg, DeviceRuleWarning, stacklevel=3)

    def quiet_rule(self) -> tuple[int, int, int, int]:
        """(frame, spike_minutes, spike_max, stream) for the run kernel of the chosen method."""
        if self.nonwear == "choi":
            return self.choi_frame, self.choi_spike_minutes, 1 << 30, self.choi_stream_frame
        if self.nonwear == "troiano":
            return self.troiano_frame, self.troiano_spike_minutes, self.troiano_spike_max, 0
        if self.nonwear == "steps":
            return self.steps_frame, self.steps_spike_minutes, self.steps_spike_max, 0
        return self.nonwear_min_minutes, 0, 0, 0

    def quiet_mode(self) -> int:
        """What makes a minute "quiet" in the run kernel: 0 = no plausible HR and zero steps,
        1 = no plausible HR, 2 = zero steps."""
        return {"hr_steps": 0, "hr": 1, "steps": 2, "choi": 2, "troiano": 2}[self.nonwear]


DEFAULT = CleaningConfig()
