"""Cell-key perturbation (ONS ``cell-key-perturbation``): the ptable, record keys, consistency, no small counts."""
from __future__ import annotations

import hashlib
import hmac
import subprocess

import numpy as np
import pandas as pd
import pytest

from evaluation.publish import perturbation as pt

KEY = b"test-perturbation-key-0123456789"


def _people(n: int, seed: int, districts: int = 25) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "participant_id": [f"p{seed}_{i:06d}" for i in range(n)],
        "district": rng.choice([f"d{k:02d}" for k in range(districts)], n),
        "arm": rng.choice(["band_issued", "own_device", "comparison"], n, p=[0.55, 0.43, 0.02]),
        "sex": rng.choice(["F", "M"], n),
    })


def test_ptable_small_counts_go_to_zero_or_threshold_unbiased():
    table = pt.ptable(10)
    assert set(table.columns) == {"pcv", "ckey", "pvalue"}
    assert table["ckey"].min() == 0 and table["ckey"].max() == pt.KEY_RANGE
    out = table["pcv"] + table["pvalue"]
    assert not out.between(1, 9).any(), "the ptable publishes a count between 1 and 9"
    small = table[table["pcv"] < 10]
    assert set(out[small.index]) == {0, 10}
    # unbiased up to the key resolution (1/256 of the threshold)
    means = (small["pcv"] + small["pvalue"]).groupby(small["pcv"]).mean()
    assert np.allclose(means.to_numpy(), means.index.to_numpy(), atol=10 / 256)
    big = table[table["pcv"] >= 12]
    assert big["pvalue"].abs().max() == pt.MAX_NOISE
    assert np.allclose(big.groupby("pcv")["pvalue"].mean(), 0.0)
    assert np.allclose(big.groupby("pcv")["pvalue"].var(ddof=0), 2 * (13 * 4 + 51) / 256)
    # 10 and 11 never drop below the threshold
    assert (out[table["pcv"].isin([10, 11])] >= 10).all()


def test_counts_match_the_method_computed_by_hand():
    """Parity: count + ptable[count, sum(record keys) mod 256], record key = first byte of HMAC-SHA256."""
    people = _people(3000, seed=1)
    got = pt.perturbed_counts(people, ["district", "arm"], key=KEY)
    table = pt.ptable(10).set_index(["pcv", "ckey"])["pvalue"]
    rk = {p: hmac.new(KEY, b"record-key:" + p.encode(), hashlib.sha256).digest()[0] for p in people["participant_id"]}
    for (d, a), g in people.groupby(["district", "arm"]):
        c = len(g)
        ckey = sum(rk[p] for p in g["participant_id"]) % 256
        pcv = c if c <= 750 else (c - 1) % 250 + 501
        expected = c + table[(pcv, ckey)]
        assert got.set_index(["district", "arm"]).loc[(d, a), "count"] == expected


def test_same_cell_same_value_in_every_table_and_rerun():
    people = _people(4000, seed=2)
    a = pt.perturbed_with_margins(people, ["district", "arm"], key=KEY)
    b = pt.perturbed_with_margins(people, ["arm", "district"], key=KEY)
    c = pt.perturbed_counts(people, ["district", "arm"], key=KEY)
    cells_a = a[~a["margin"]].set_index(["district", "arm"])["count"].sort_index()
    cells_b = b[~b["margin"]].set_index(["district", "arm"])["count"].sort_index()
    pd.testing.assert_series_equal(cells_a, cells_b, check_names=False)
    pd.testing.assert_series_equal(cells_a, c.set_index(["district", "arm"])["count"].sort_index(), check_names=False)
    # rerun, and rows in another order: same values
    again = pt.perturbed_with_margins(people.sample(frac=1, random_state=3), ["district", "arm"], key=KEY)
    pd.testing.assert_frame_equal(a.sort_values(["district", "arm"]).reset_index(drop=True),
                                  again.sort_values(["district", "arm"]).reset_index(drop=True))
    # another key perturbs differently (the key is what an outsider lacks)
    other = pt.perturbed_with_margins(people, ["district", "arm"], key=b"another-key-0123456789abcdef")
    assert (other["count"].to_numpy() != a["count"].to_numpy()).any()


def test_margins_add_up_so_a_small_cell_is_not_their_difference():
    # a district of 120: 117 band-issued and 3 own-device. With the margin perturbed on its own key (119) the
    # own-device cell, printed 0 or 10, was 119 - 117 +- 4: 0..6, narrower than the threshold
    people = pd.DataFrame({"participant_id": [f"p{i}" for i in range(120)], "district": "11110",
                           "arm": ["band_issued"] * 117 + ["own_device"] * 3})
    for k in range(40):
        key = f"key-{k}-0123456789abcdef".encode()
        out = pt.perturbed_with_margins(people, ["district", "arm"], key=key)
        cells = out[~out["margin"]].set_index("arm")["count"]
        assert cells["own_device"] in (0, 10)
        district = out[out["margin"] & out["district"].notna()]["count"].item()
        assert district == cells.sum() == out[out["district"].isna() & out["arm"].isna()]["count"].item()
        assert out[out["margin"] & out["arm"].notna()].set_index("arm")["count"].to_dict() == cells.to_dict()
    with pytest.raises(ValueError, match="more than one cell"):
        pt.perturbed_with_margins(pd.concat([people, people.assign(arm="own_device")]), ["district", "arm"], key=KEY)


@pytest.mark.parametrize("seed", range(6))
def test_no_count_between_1_and_9_and_noise_bounded_over_random_designs(seed):
    rng = np.random.default_rng(seed)
    people = _people(int(rng.integers(50, 3000)), seed=seed, districts=int(rng.integers(2, 26)))
    by = list(rng.choice(["district", "arm", "sex"], size=int(rng.integers(1, 4)), replace=False))
    out = pt.perturbed_with_margins(people, by, key=KEY)
    assert not out["count"].between(1, 9).any()
    true = people.groupby(by).size()
    cells = out[~out["margin"]].set_index(by)["count"]
    joined = pd.concat([true.rename("true"), cells.rename("pub")], axis=1).fillna(0)
    big = joined[joined["true"] >= 10]
    assert (big["pub"] - big["true"]).abs().max() <= pt.MAX_NOISE
    small = joined[joined["true"] < 10]
    assert small["pub"].isin([0, 10]).all()
    assert (joined.loc[joined["true"] == 0, "pub"] == 0).all()  # structural zeros stay zeros


def test_unbiased_over_many_cells():
    people = _people(60_000, seed=7, districts=25)
    people["age"] = np.random.default_rng(7).integers(20, 80, len(people))
    out = pt.perturbed_counts(people, ["district", "arm", "sex", "age"], key=KEY)
    true = people.groupby(["district", "arm", "sex", "age"]).size().rename("true")
    j = out.set_index(["district", "arm", "sex", "age"]).join(true).fillna(0)
    diff = (j["count"] - j["true"]).astype(float)
    assert len(j) > 5000
    assert abs(diff.mean()) < 4 * diff.std() / np.sqrt(len(diff))  # mean change indistinguishable from 0


def test_full_grid_lists_structural_zeros():
    people = _people(500, seed=3, districts=3)
    out = pt.perturbed_counts(people, ["district"], key=KEY, levels={"district": ["d00", "d01", "d02", "d99"]})
    assert out["district"].tolist() == ["d00", "d01", "d02", "d99"]
    assert out.set_index("district").loc["d99", "count"] == 0


def test_key_from_environment_file_and_refusals(tmp_path, monkeypatch):
    monkeypatch.delenv(pt.KEY_ENV, raising=False)
    monkeypatch.delenv(pt.KEY_FILE_ENV, raising=False)
    with pytest.raises(pt.MissingKeyError, match="EVALUATION_PERTURBATION_KEY"):
        pt.load_key()
    assert pt.load_key(demo=True) == pt.DEMO_KEY
    monkeypatch.setenv(pt.KEY_ENV, "short")
    with pytest.raises(pt.MissingKeyError, match="at least 16"):
        pt.load_key()
    monkeypatch.setenv(pt.KEY_ENV, "a-secret-of-sufficient-length")
    assert pt.load_key(demo=True) == b"a-secret-of-sufficient-length"  # a real key wins over the demo key
    monkeypatch.delenv(pt.KEY_ENV)
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "key").write_text("a-secret-of-sufficient-length")
    monkeypatch.setenv(pt.KEY_FILE_ENV, str(repo / "key"))
    with pytest.raises(pt.MissingKeyError, match="inside the git repository"):
        pt.load_key()
    (tmp_path / "key").write_text("another-secret-of-enough-bytes\n")
    monkeypatch.setenv(pt.KEY_FILE_ENV, str(tmp_path / "key"))
    assert pt.load_key() == b"another-secret-of-enough-bytes"


def test_statistics_only_for_cells_with_enough_people_and_rounded_by_n():
    assert pt.stat_min_n(10) == 13
    assert pt.round_stat(0.123456, 12, "share") is None
    assert pt.round_stat(0.123456, 13, "share") == 0.12
    assert pt.round_stat(0.123456, 150, "share") == 0.123
    assert pt.round_stat(7345.678, 50, "mean") == 7300
    assert pt.round_stat(7345.678, 500, "mean") == 7350
    assert pt.round_stat(7100.4, 500, "mean", scale=7345.6) == 7100  # a CI end keeps the estimate's digits
    assert pt.round_stat(0.04567, 40, "smd") == 0.0
    assert pt.round_stat(0.04567, 400, "smd") == 0.05
    assert pt.round_stat(float("nan"), 400, "mean") is None
    with pytest.raises(ValueError, match="kind"):
        pt.round_stat(1.0, 100, "median")
