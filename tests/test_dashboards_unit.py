"""Dashboard logic without a browser: run discovery, privacy guard, formatting, every panel on a real run."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from evaluation.dashboards import _app, _data, views


def test_formatting_follows_language_and_units():
    assert _app.fmt(1234567.4, "KRW", "ko") == "1,234,567원"
    assert _app.fmt(1234567.4, "KRW/person", "en") == "KRW 1,234,567"
    assert _app.fmt(0.9151, "share") == "91.5%"
    assert _app.fmt(None) == "–"
    assert _app.fmt("<b>", "") == "&lt;b&gt;"


def test_no_runs_gives_a_message_not_an_error(tmp_path):
    app = _app.DashboardApp({"ko": "시험", "en": "Test"}, views.render_cost, root=str(tmp_path))
    text = " ".join(getattr(w, "value", "") for w in app.body.children)
    assert "아직 완료된 평가 실행이 없습니다" in text


def test_failed_runs_are_not_offered(tmp_path):
    for run_id, status in (("20240101T000000", "ok"), ("20240102T000000-failed", "failed")):
        d = tmp_path / "prog" / run_id
        d.mkdir(parents=True)
        (d / "manifest.json").write_text(json.dumps({"status": status}))
        (d / "results.json").write_text("{}")
    (tmp_path / "prog" / "latest").symlink_to("20240101T000000")
    assert _data.programmes(tmp_path) == ["prog"]
    assert _data.successful_runs("prog", tmp_path) == ["20240101T000000"]


def test_participant_level_tables_are_refused(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "results.json").write_text("{}")
    (tmp_path / "manifest.json").write_text(json.dumps({"status": "ok"}))
    pd.DataFrame({"participant_id": ["a"], "steps": [1]}).to_parquet(tmp_path / "tables" / "leak.parquet")
    with pytest.raises(ValueError, match="participant-level"):
        _data.RunData(tmp_path).table("leak")


def _texts(widget) -> list[str]:
    out = [widget.value] if isinstance(getattr(widget, "value", None), str) else []
    for child in getattr(widget, "children", ()):
        out += _texts(child)
    return out


@pytest.mark.notebook
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_dashboard_renders_the_demo_run(demo_run, lang):
    root = str(demo_run.run_dir.parent.parent)
    for build in (views.overview_app, views.districts_app, views.cost_app):
        app = build(lang=lang, root=root)
        texts = " ".join(_texts(app))
        assert "class='ev-msg'" not in texts, texts[:500]  # every panel found its table
    run = _data.load_run(demo_run.run_dir.parent.name, root=demo_run.run_dir.parent.parent)
    for render, kwargs in ((views.render_overview, {}), (views.render_cost, {}),
                           (views.render_districts, {"choice": "walking_practice"})):
        widgets = render(run, lang, "11680", **kwargs)
        assert widgets
        missing = [x for w in widgets for x in _texts(w) if "class='ev-msg'" in x]
        assert not missing, missing


def test_dashboard_command_is_loopback_with_token_by_default():
    from evaluation.cli import build_parser
    from evaluation.dashboards import voila_command

    args = build_parser().parse_args(["dashboard"])
    assert args.host == "127.0.0.1" and args.base_url == "/"
    cmd = voila_command(token="abc", base_url="/evaluation/")
    assert "--Voila.ip=127.0.0.1" in cmd and "--Voila.token=abc" in cmd and "--Voila.base_url=/evaluation/" in cmd
    assert cmd[1].endswith("notebooks/dashboards")
