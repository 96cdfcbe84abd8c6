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


def test_the_headline_effect_shows_the_digits_the_gate_published():
    # the gate rounds an ATT of 1,231.8 steps to 1,200 (CI 700 to 1,700): printing "1,200.0" claimed a precision
    # the published number does not have
    entry = {"value": 1200.0, "ci": [700.0, 1700.0], "label": "ATT", "unit": "steps/day"}
    text = views._verdict(entry, "ko").value
    assert "1,200 (95% CI 700 – 1,700)" in text and ".0" not in text
    assert "12.69 (95% CI -9 – 34.5)" in views._verdict({**entry, "value": 12.69, "ci": [-9.0, 34.5]}, "en").value


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


def test_dashboard_command_is_loopback_and_never_carries_the_token(monkeypatch):
    from evaluation.cli import build_parser
    from evaluation.dashboards import _serve, voila_command

    args = build_parser().parse_args(["dashboard"])
    assert args.host == "127.0.0.1" and args.base_url == "/"
    # no --token option: argv is readable by every local user (`ps`); a file or the environment instead
    options = {o for a in build_parser()._subparsers._group_actions[0].choices["dashboard"]._actions
               for o in a.option_strings}
    assert "--token-file" in options and "--token" not in options
    cmd = voila_command(base_url="/evaluation/", extra=["--MappingKernelManager.cull_idle_timeout=5"])
    assert cmd[1:3] == ["-m", "evaluation.dashboards"] and cmd[3].endswith("notebooks/dashboards")
    assert "--Voila.ip=127.0.0.1" in cmd and "--Voila.base_url=/evaluation/" in cmd
    assert cmd[-1] == "--MappingKernelManager.cull_idle_timeout=5"
    assert not [a for a in cmd if "token" in a.lower()]
    with pytest.raises(TypeError):
        voila_command(token="abc")  # old callers fail loudly instead of silently losing the token
    with pytest.raises(ValueError):
        _serve.start(token="")  # never without a token
    assert _serve.default_max_kernels(16 * 2**30) == 27 and _serve.default_max_kernels(2**30) == 4


def test_service_pages_and_log_redaction():
    import logging

    from evaluation.dashboards import _service

    for kind, ko in (("denied", "접근 권한이 없습니다"), ("busy", "잠시 후 다시 시도해 주세요")):
        text = _service.page(kind, refresh=10 if kind == "busy" else None)
        assert text.index(ko) < text.index(_service.PAGES[kind][1])  # Korean first, then English
    assert _service.redact("302 GET /x?a=1&token=abc&b=2 Referer: /y?TOKEN=def") == \
        "302 GET /x?a=1&token=[redacted]&b=2 Referer: /y?TOKEN=[redacted]"
    assert _service._without_token("/voila/render/a.ipynb?lang=ko&token=abc") == "/voila/render/a.ipynb?lang=ko"
    record = logging.LogRecord("Voila", logging.WARNING, __file__, 1, "404 GET %s", ("/x?token=abc",), None)
    assert _service.RedactTokens().filter(record) and record.getMessage() == "404 GET /x?token=[redacted]"
