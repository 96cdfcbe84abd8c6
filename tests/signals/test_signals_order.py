"""Input shaped like real exports (string ids, re-synced blocks out of order, duplicate minutes) gives
the same answers as the same minutes sorted with categorical ids: the one-sort path of issue 13."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import signals
from evaluation.signals import _clean as C
from evaluation.signals import _reference as R
from evaluation.synth import minutes as sm


def resynced(df: pd.DataFrame, seed: int, block: int = 45, moved: float = 0.05, copied: float = 0.01) -> pd.DataFrame:
    """Move ``moved`` of the rows (in blocks) to the end and append copies of ``copied`` of them,
    as after concatenating re-synced export files; ids become plain strings."""
    rng = np.random.default_rng(seed)
    nb = len(df) // block
    pick = rng.permutation(nb)
    k1, k2 = max(1, int(moved * nb)), max(1, int(copied * nb))
    rows = lambda b: (np.sort(b)[:, None] * block + np.arange(block)).ravel()  # noqa: E731
    out_rows, dup_rows = rows(pick[:k1]), rows(pick[k1:k1 + k2])
    keep = np.setdiff1d(np.arange(len(df)), out_rows)
    tail = np.concatenate([out_rows.reshape(-1, block), dup_rows.reshape(-1, block)])
    order = np.concatenate([keep, tail[rng.permutation(len(tail))].ravel()])
    out = df.iloc[order].reset_index(drop=True)
    return out.assign(participant_id=out["participant_id"].astype(object))


@pytest.fixture(scope="module")
def minutes():
    people = pd.read_parquet("data_samples/participants.parquet").iloc[:20]
    return sm.minutes(people, "2023-04-30", 3, seed=21)[["participant_id", "ts", "steps", "heart_rate"]]


def test_resynced_input_matches_reference_and_sorted_input(minutes):
    real = resynced(minutes, seed=1)
    assert not real["ts"].is_monotonic_increasing and real.duplicated(["participant_id", "ts"]).sum() > 100
    cleaned, daily = signals.process(real)
    # row order and input columns are kept
    pd.testing.assert_frame_equal(cleaned[real.columns], real)
    # every added column equals the plain pandas implementation row by row
    ref = R.clean_minutes_pandas(real)
    for c in signals.ADDED_COLUMNS:
        np.testing.assert_array_equal(cleaned[c].to_numpy(float), ref[c].to_numpy(float), err_msg=c)
    # the daily table equals that of the sorted categorical input, apart from the copies' own counts
    _, d0 = signals.process(minutes)
    cols = [c for c in d0.columns if c not in ("n_duplicate", "n_conflict")]
    pd.testing.assert_frame_equal(daily[cols], d0[cols])
    assert daily["n_duplicate"].sum() - d0["n_duplicate"].sum() == len(real) - len(minutes)
    # and the two public calls agree with process
    pd.testing.assert_frame_equal(signals.daily_summary(cleaned), daily)
    pd.testing.assert_frame_equal(signals.clean_minutes(real), cleaned)


@pytest.mark.parametrize("kind", ["shared objects", "one object per row", "strided", "arrow strings"])
def test_participant_codes_any_string_layout(kind):
    rng = np.random.default_rng(3)
    labels = np.array([f"P{i:03d}" for i in range(40)], dtype=object)
    idx = np.repeat(rng.permutation(40), rng.integers(1, 300, size=40))
    idx = np.concatenate([idx, rng.integers(0, 40, size=200)])  # a short-run tail
    values = labels[idx]
    if kind == "one object per row":
        values = np.array([v[:1] + v[1:] for v in values], dtype=object)  # equal strings, distinct objects
        assert values[0] is not values[1] and values[0] == values[1]
    s = pd.Series(values)
    if kind == "strided":
        s = pd.Series(np.repeat(values, 2)[::2])
    if kind == "arrow strings":
        s = s.astype("string[pyarrow]")
    codes, uniques = C.participant_codes(s)
    np.testing.assert_array_equal(np.asarray(uniques, dtype=object)[codes], labels[idx])
    assert codes.dtype == np.int32 and len(set(uniques)) == len(uniques)


def test_participant_codes_missing_id_names_the_row():
    s = pd.Series(["A"] * 50 + [None] + ["B"] * 50, dtype=object)
    with pytest.raises(ValueError, match=r"participant_id.*row 50"):
        C.participant_codes(s)


def test_sort_order_is_stable_and_falls_back_for_huge_codes():
    rng = np.random.default_rng(5)
    n = 5_000
    codes = rng.integers(0, 7, size=n).astype(np.int32)
    tns = (rng.integers(0, 300, size=n) * 60 + rng.integers(0, 60, size=n)) * 1_000_000_000
    perm = C.sort_order(codes, tns, 0)
    expect = np.lexsort((np.arange(n), tns // 60_000_000_000, codes))  # ties in input order
    np.testing.assert_array_equal(perm, expect)
    big = codes.astype(np.int64) + (1 << 23)  # too many participants for the one-key sort
    np.testing.assert_array_equal(C.sort_order(big, tns, 0), expect)
    assert C.sort_order(np.sort(codes), np.zeros(n, np.int64), 0) is None


def test_shuffled_input_takes_the_gather_path_and_agrees(minutes):
    """Mostly-ordered input is visited through the permutation; shuffled input is gathered into
    order once (``_clean.SCATTERED``). Both give the same cleaned rows and daily table."""
    real = resynced(minutes, seed=2)
    shuffled = real.sample(frac=1.0, random_state=3)
    args = lambda d: C.minutes_arrays(d)[:1] + C.minutes_arrays(d)[2:]  # noqa: E731
    assert C.clean_sorted(*args(real)).by_time is None
    assert C.clean_sorted(*args(shuffled)).by_time is not None
    c1, d1 = signals.process(real)
    c2, d2 = signals.process(shuffled)
    # identical copies of a minute: which one is kept follows input order, so compare the other rows
    single = ~real.duplicated(["participant_id", "ts"], keep=False)
    pd.testing.assert_frame_equal(c2.loc[real.index[single]], c1[single])
    assert c2["flag_duplicate"].sum() == c1["flag_duplicate"].sum()
    # daily rows come in order of first appearance of each string id, which shuffling changes
    by_key = lambda d: d.sort_values(["participant_id", "date"]).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(by_key(d2), by_key(d1))
    pd.testing.assert_frame_equal(signals.daily_summary(c2), d2)
