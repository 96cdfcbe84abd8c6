"""Non-wear rules for step devices (issue 13, item 4): the config says which device kind a rule's
thresholds are stated for, refuses count-device rules on step data, and the step rules work on
hand-made streams. Scoring against synthetic truth and the Fitabase data is in test_signals_truth.py
and test_signals_fitabase.py."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation import signals


def stream(steps, hr=None, pid="A"):
    steps = np.asarray(steps)
    hr = np.full(len(steps), np.nan) if hr is None else np.asarray(hr, float)
    return pd.DataFrame({"participant_id": pid, "ts": pd.date_range("2023-03-06 08:00", periods=len(steps), freq="min", tz="Asia/Seoul"),
                         "steps": steps, "heart_rate": hr})


def nonwear(df, **kw):
    return signals.clean_minutes(df, signals.CleaningConfig(detect_clock_offset=False, **kw))["flag_nonwear"].to_numpy()


def test_every_rule_names_its_device_kind():
    assert set(signals.RULE_DEVICE) == {"hr_steps", "hr", "steps", "choi", "troiano"}
    assert signals.RULE_DEVICE["choi"] == ("count",) and signals.RULE_DEVICE["troiano"] == ("count",)
    assert signals.RULE_DEVICE["steps"] == ("step",)
    assert signals.DEFAULT.device == "step" and signals.DEFAULT.nonwear == "hr_steps"


@pytest.mark.parametrize("rule", ["choi", "troiano"])
def test_count_rules_refused_on_step_data(rule):
    with pytest.raises(ValueError, match=r"count-device rule.*steps.*allow_count_rule_on_steps"):
        signals.CleaningConfig(nonwear=rule)
    with pytest.warns(signals.DeviceRuleWarning, match="under-counted"):
        signals.CleaningConfig(nonwear=rule, allow_count_rule_on_steps=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        signals.CleaningConfig(nonwear=rule, device="count")  # counts: the published thresholds, no warning


def test_step_rule_refused_on_count_data_and_bad_device():
    with pytest.raises(ValueError, match="steps/min"):
        signals.CleaningConfig(nonwear="steps", device="count")
    with pytest.raises(ValueError, match="device must be"):
        signals.CleaningConfig(device="pedometer")
    signals.CleaningConfig(nonwear="hr_steps", device="count")  # zero and absent HR mean the same in counts


def test_troiano_on_steps_swallows_moderate_walking_and_the_step_rule_does_not():
    # the example: a minute at 100 steps/min (moderate walking) between two sitting hours
    walk = stream([0] * 70 + [100] + [0] * 70)
    with pytest.warns(signals.DeviceRuleWarning):
        assert nonwear(walk, nonwear="troiano", allow_count_rule_on_steps=True).all()
    assert not nonwear(walk, nonwear="steps").any()


def test_steps_rule_frame_and_optional_incidental_allowance():
    # Hutto et al. 2013: consecutive zero minutes, 120-minute frame
    assert nonwear(stream([30] + [0] * 120 + [30]), nonwear="steps")[1:121].all()
    assert not nonwear(stream([30] + [0] * 119 + [30]), nonwear="steps").any()
    broken = [30] + [0] * 70 + [4, 6] + [0] * 70 + [30]
    assert not nonwear(stream(broken), nonwear="steps").any()  # no allowance by default
    # opt-in allowance: up to 2 minutes of 1-19 steps/min (incidental movement band) inside the run
    assert nonwear(stream(broken), nonwear="steps", steps_spike_minutes=2)[1:143].all()
    sporadic = [30] + [0] * 70 + [25] + [0] * 70 + [30]  # 20+ steps/min: stepping, the band is worn
    assert not nonwear(stream(sporadic), nonwear="steps", steps_spike_minutes=2).any()
    three = [30] + [0] * 70 + [4, 6, 5] + [0] * 70 + [30]
    assert not nonwear(stream(three), nonwear="steps", steps_spike_minutes=2).any()


def test_participants_without_heart_rate_fall_back_to_the_step_rule():
    sitting = [30] + [0] * 90 + [30]  # 90 zero-step minutes: sitting, not non-wear on a step device
    both = pd.concat([stream(sitting, pid="no_hr"),
                      stream(sitting, hr=[70.0] + [np.nan] * 90 + [70.0], pid="hr_off")], ignore_index=True)
    nw = nonwear(both)
    assert not nw[:92].any()  # step-only participant: 90 < 120 minutes
    assert nw[93:183].all()  # band with HR sensor: no HR and no steps for 90 minutes is non-wear
    # without the fallback the step-only participant's sitting hour is non-wear (the old behaviour)
    assert nonwear(both, hr_absent_fallback=False)[1:91].all()
    # and a 120-minute zero run of a step-only participant is non-wear under the default config
    assert nonwear(stream([30] + [0] * 120 + [30]))[1:121].all()
