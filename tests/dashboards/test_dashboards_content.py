"""What the dashboards say, checked without a browser: chart legibility, reasons for missing numbers,
the language switch, district flags, and seed titles (issue 23)."""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from evaluation import equity  # noqa: E402
from evaluation.dashboards import _app, _data, views  # noqa: E402
from evaluation.reference import districts  # noqa: E402


@pytest.fixture()
def drawn(monkeypatch):
    """Every matplotlib figure a view renders, drawn, in order (with the dashboards' Hangul font)."""
    from evaluation.publish import plots

    plots.setup("ko", seaborn=False)
    figs = []
    real = views.figure

    def keep(fig):
        fig.canvas.draw()
        figs.append(fig)
        return real(fig)

    monkeypatch.setattr(views, "figure", keep)
    monkeypatch.setattr(views.plt, "close", lambda *a, **k: None)  # keep the figure for inspection
    return figs


def _weekly(start: str = "2023-01-23", weeks: int = 18, as_dates: bool = True) -> pd.DataFrame:
    days = pd.date_range(start, periods=weeks, freq="W-MON")
    return pd.concat([pd.DataFrame({"week": days.date if as_dates else days, "arm": arm,
                                    "estimate": 6000.0 + 250 * np.arange(weeks) + 400 * k, "ci_low": 5500.0,
                                    "ci_high": 7500.0, "suppressed": False})
                      for k, arm in enumerate(["band_issued", "own_device", "comparison"])], ignore_index=True)


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("weeks", [8, 18, 44, 104])
def test_weekly_chart_date_ticks_do_not_overlap(drawn, lang, weeks):
    views._lines(_weekly(weeks=weeks), "week", "arm", lang, ylabel="steps", title="weekly")
    fig = drawn[-1]
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    assert 3 <= len(labels) <= 9, [t.get_text() for t in labels]
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:])), [t.get_text() for t in labels]
    # the full date is not repeated under every tick (that is what made them collide)
    assert all(len(t.get_text()) <= 6 for t in labels), [t.get_text() for t in labels]
    # a bare day number ("06") reads as nothing: each tick names its month
    assert all(not t.get_text().isdigit() or len(t.get_text()) == 4 for t in labels), [t.get_text() for t in labels]


def _profile(flags: dict[str, str] | None = None, method: str = "se") -> pd.DataFrame:
    codes = districts.codes()
    names = districts.table().set_index("district")
    values = np.linspace(200, 300, len(codes))
    flag = [(flags or {}).get(c, "similar" if method == "se" else "not_far") for c in codes]
    return pd.DataFrame({"indicator": "all_cause_mortality", "year": 2020, "district": codes,
                         "name_ko": names.loc[codes, "name_ko"].to_numpy(), "name_en": names.loc[codes, "name_en"].to_numpy(),
                         "value": values, "seoul_average": 257.0, "difference": values - 257.0,
                         "rank": np.arange(1, len(codes) + 1), "flag": flag, "flag_method": method})


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_districts_legend_sits_outside_the_bars(drawn, lang):
    codes = districts.codes()
    prof = _profile({codes[0]: "better", codes[-1]: "worse"})
    views._ranking(prof, lang, None, "mortality")
    fig = drawn[-1]
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    assert bars and not any(legend.overlaps(b) for b in bars)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[:3] == [equity.flag_label(f, lang) for f in ("better", "worse", "similar")]
    assert texts[3] == views.t("seoul_average", lang)  # the dashed line says what it is


def test_district_view_never_calls_an_outlier_rule_significant():
    """Runs published before the flags were named apart (flag_method zscore, flags better/similar) are
    read as the outlier rule they are."""
    old = _profile({districts.codes()[0]: "better"}, method="zscore").assign(
        flag=lambda d: d["flag"].replace({"not_far": "similar"}))
    named = views._named_flags(old)
    assert set(named["flag"]) == {"far_better", "not_far"}
    for lang in ("ko", "en"):
        labels = {views._flag_label(f, lang) for f in named["flag"]}
        assert not any("유의" in x or "ignificant" in x for x in labels), labels
    tested = _profile({districts.codes()[0]: "worse"})
    assert views._named_flags(tested)["flag"].tolist() == tested["flag"].tolist()


def _run(tmp_path, *, retention=None, weeks_observed=17, title="손목닥터 9988 데모 평가 (합성 자료)"):
    run = tmp_path / "smartband_9988" / "20230601T000000"
    (run / "tables").mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({"30_cohort_engagement": {"retention_24w": {
        "value": retention, "unit": "share", "label": "24주 프로그램 유지율",
        "provenance": {"kind": "synthetic", "detail": "합성 / synthetic"}}}}), encoding="utf-8")
    (run / "manifest.json").write_text(json.dumps({"status": "ok", "run_id": run.name, "programme": "smartband_9988",
                                                   "title": title}), encoding="utf-8")
    pd.DataFrame({"dimension": "district", "level": "11680", "metric": "mean_steps",
                  "week_since_enrolment": np.arange(-4, weeks_observed + 1), "estimate": 7000.0, "n_days": 70,
                  "suppressed": False}).to_parquet(run / "tables" / "steps_by_week_since_enrolment.parquet")
    (tmp_path / "smartband_9988" / "latest").symlink_to(run.name)
    return _data.load_run("smartband_9988", root=tmp_path)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_missing_24_week_retention_says_the_period_is_too_short(tmp_path, lang):
    run = _run(tmp_path, retention=None, weeks_observed=17)
    entry = views._retention(run, lang)
    assert entry["value"] is None and "17" in entry["reason"] and "24" in entry["reason"]
    html = _app.card(views.t("retention_24w", lang), entry, unit="share", lang=lang).value
    assert "ev-reason" in html and ("등록 후 17주까지만" in html if lang == "ko" else "only 17 weeks" in html)


def test_retention_with_a_value_or_withheld_is_shown_as_such(tmp_path):
    run = _run(tmp_path, retention=0.8123, weeks_observed=30)
    assert views._retention(run, "ko")["value"] == pytest.approx(0.8123)
    assert "81.2%" in _app.card("r", views._retention(run, "ko"), unit="share").value
    other = _run(tmp_path / "b", retention=None, weeks_observed=30)
    assert "개인정보 보호" in views._retention(other, "ko")["reason"]  # long enough: withheld, not "too short"


def test_programme_dropdown_follows_the_language(tmp_path):
    _run(tmp_path)
    assert _data.programme_title("smartband_9988", tmp_path, "ko") == "손목닥터 9988 데모 평가 (합성 자료)"
    assert _data.programme_title("smartband_9988", tmp_path, "en") == "Smart band 9988"
    app = _app.DashboardApp({"ko": "시험", "en": "Test"}, views.render_cost, root=str(tmp_path))
    assert app.programme.options[0][0] == "손목닥터 9988 데모 평가 (합성 자료)"
    app.language.value = "en"
    assert app.programme.options[0][0] == "Smart band 9988" and app.programme.value == "smartband_9988"
    assert app.programme.description == "Programme"
    app.language.value = "ko"
    assert app.programme.options[0][0].startswith("손목닥터")


def test_bilingual_title_in_the_manifest_is_split(tmp_path):
    _run(tmp_path, title="손목닥터 9988 평가 / Smart band 9988 evaluation")
    assert _data.programme_title("smartband_9988", tmp_path, "ko") == "손목닥터 9988 평가"
    assert _data.programme_title("smartband_9988", tmp_path, "en") == "Smart band 9988 evaluation"
