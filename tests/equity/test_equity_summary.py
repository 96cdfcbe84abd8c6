"""Indicator-table summaries: district ordering, measures per indicator and year, staff text."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.reference import districts
from evaluation import equity
from evaluation.equity._sample import lower_is_better


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return equity.synthetic_indicators()


def test_district_order_ranks_most_disadvantaged_first(sample):
    o = equity.district_order(sample, "basic_livelihood_recipients", year=2023)
    vals = sample[(sample.indicator == "basic_livelihood_recipients") & (sample.year == 2023)].set_index("district")["value"]
    assert sorted(o["district"]) == sorted(districts.codes())
    first, last = o.iloc[0]["district"], o.iloc[-1]["district"]
    assert vals[first] == vals.max() and vals[last] == vals.min()
    with pytest.raises(ValueError, match="not in the table"):
        equity.district_order(sample, "income")


def test_indicator_inequality_covers_every_indicator_year_and_direction(sample):
    direction = {k: "lower" for k in lower_is_better()}
    o = equity.district_order(sample, "basic_livelihood_recipients")
    t = equity.indicator_inequality(sample, direction=direction, order=o)
    assert set(t["indicator"]) == set(sample["indicator"]) and set(t["year"]) == {2021, 2022, 2023}
    per = t.groupby(["indicator", "year"]).size()
    assert (per == 12).all()  # 8 non-ordered + 4 ordered measures
    # adverse indicators: PAR never positive; favourable: never negative
    par = t[t.measure == "par"].set_index(["indicator", "year"])["estimate"]
    assert (par.loc[["current_smoking", "obesity"]] <= 0).all()
    assert (par.loc["walking_practice"] >= 0).all()
    # the sample is built with a deprivation gradient: walking rises and smoking falls with advantage
    sii = t[(t.measure == "sii") & (t.year == 2023)].set_index("indicator")
    assert sii.at["walking_practice", "ci_low"] > 0 and sii.at["current_smoking", "ci_high"] < 0
    # an indicator without SEs gets no SE-based interval, but HEAT's regression interval for SII
    adm = t[(t.indicator == "basic_livelihood_recipients") & (t.year == 2023)].set_index("measure")
    assert np.isnan(adm.at["bgv", "ci_low"]) and np.isfinite(adm.at["sii", "ci_low"])


@pytest.mark.parametrize("lang, needle", [("ko", "유의하게 나쁜"), ("en", "significantly worse")])
def test_staff_summary_names_flagged_districts(sample, lang, needle):
    direction = {k: "lower" for k in lower_is_better()}
    prof = equity.district_profile(sample, direction=direction)
    meas = equity.indicator_inequality(sample, direction=direction)
    text = equity.staff_summary(prof, meas, None, indicator="walking_practice", year=2023, lang=lang)
    assert needle in text
    worst = prof[(prof.indicator == "walking_practice") & (prof.year == 2023) & (prof.flag == "worse")]
    for code in worst["district"]:
        assert districts.names(lang)[code] in text
    with pytest.raises(ValueError, match="no profile rows"):
        equity.staff_summary(prof, meas, None, indicator="walking_practice", year=1999, lang=lang)
