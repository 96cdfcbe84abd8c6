"""Maps: GeoJSON choropleth and the package-carried tile grid."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Polygon, Rectangle  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from evaluation.reference import districts
from evaluation import equity
from evaluation.publish import plots  # noqa: E402


@pytest.fixture
def geojson(data_dir):
    return data_dir / "seoul_districts" / "seoul_districts_2015.geojson"


@pytest.fixture
def values() -> pd.DataFrame:
    codes = districts.codes()
    df = pd.DataFrame({"district": codes, "value": np.linspace(10, 34, 25), "suppressed": False})
    df.loc[df["district"] == "11140", "suppressed"] = True  # Jung-gu: a small cell
    return df


def _texts(ax):
    return " ".join(t.get_text() for t in ax.texts)


def test_tilegrid_is_complete_and_follows_geography(geojson):
    grid = equity.tilegrid()
    assert sorted(grid["district"]) == sorted(districts.codes())
    assert not grid.duplicated(["row", "col"]).any()
    cent = equity.geojson_centroids(geojson).merge(grid, on="district")
    assert len(cent) == 25
    assert spearmanr(cent["col"], cent["lon"]).statistic > 0.9  # west -> east
    assert spearmanr(cent["row"], -cent["lat"]).statistic > 0.9  # north -> south


def test_choropleth_draws_every_district_with_korean_names(geojson, values):
    plots.setup("ko")
    fig = equity.choropleth(values, "value", geojson=geojson, lang="ko")
    ax = fig.axes[0]
    polys = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(polys) >= 25
    text = _texts(ax)
    assert "강남구" in text and "종로구" in text
    # the suppressed district is grey and hatched, and the legend says so
    hatched = [p for p in polys if p.get_hatch() == "///"]
    assert hatched and all(np.allclose(p.get_facecolor()[:3], matplotlib.colors.to_rgb("#bdbdbd")) for p in hatched)
    legend = ax.get_legend()
    assert legend is not None and any("비공개" in t.get_text() for t in legend.get_texts())
    # the suppressed district's value is not printed: its label is the bare name
    assert "중구" in [t.get_text() for t in ax.texts]
    plt.close(fig)


def test_choropleth_colours_follow_values_and_english_labels(geojson, values):
    fig = equity.choropleth(values.assign(suppressed=False), "value", geojson=geojson, lang="en", cmap="viridis")
    ax = fig.axes[0]
    assert "Gangnam" in _texts(ax)
    lo_code, hi_code = values["district"].iloc[0], values["district"].iloc[-1]
    cmap = plt.get_cmap("viridis")
    faces = {tuple(np.round(p.get_facecolor()[:3], 4)) for p in ax.patches if isinstance(p, Polygon)}
    assert tuple(np.round(cmap(0.0)[:3], 4)) in faces and tuple(np.round(cmap(1.0)[:3], 4)) in faces
    assert lo_code != hi_code
    plt.close(fig)


def test_tile_map_without_geometry_shows_all_tiles_and_suppression(values):
    fig = equity.district_map(values, "value", geojson="", lang="ko")
    ax = fig.axes[0]
    tiles = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() < 1]
    assert len(tiles) == 25
    assert sum(p.get_hatch() == "///" for p in tiles) == 1
    assert "중구" in _texts(ax)
    plt.close(fig)


def test_missing_districts_shown_as_no_data(values):
    fig = equity.tile_map(values.iloc[:20], "value", lang="en")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "No data" in labels
    plt.close(fig)


def test_map_errors_are_clear(values, tmp_path):
    with pytest.raises(ValueError, match="column 'district'"):
        equity.tile_map(values.assign(district="1"), "value")
    with pytest.raises(FileNotFoundError):
        equity.choropleth(values, "value", geojson=tmp_path / "none.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"properties": {}, "geometry": null}]}')
    with pytest.raises(ValueError, match="lacks property 'SIG_CD'"):
        equity.choropleth(values, "value", geojson=bad)
