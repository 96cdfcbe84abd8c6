"""The programme menu lists both programmes; switching to the one without wearable data says so and shows
its records, reported rates and costs (Voila served for real, headless Chromium via Playwright)."""
from __future__ import annotations

import shutil

import pytest

from test_dashboards_browser import TOKEN, _free_port, _open, _start, browser, artifacts  # noqa: F401  (fixtures)

from evaluation.dashboards import _serve

pytestmark = [pytest.mark.browser, pytest.mark.notebook]


@pytest.fixture(scope="module")
def two_programmes(tmp_path_factory, demo_run, repo_root, kernel_name):
    """An output root with the demo's smart-band run (copied) and a real mobile-healthcare run."""
    from evaluation import runs

    root = tmp_path_factory.mktemp("two-programmes")
    src = demo_run.run_dir.parent
    shutil.copytree(src, root / src.name, symlinks=True)
    result = runs.run(repo_root / "params" / "mobile_healthcare.yaml", output_root=root, quiet=True)
    assert result.status == "ok"
    return root


@pytest.fixture(scope="module")
def server2(two_programmes):
    port = _free_port()
    proc = _start(two_programmes, port)
    yield f"http://127.0.0.1:{port}"
    assert _serve.stop(proc) == 0


@pytest.mark.parametrize("name", ["overview", "cost", "districts"])
def test_switching_to_the_programme_without_wearables(server2, browser, artifacts, name):  # noqa: F811
    page, errors = _open(browser, f"{server2}/voila/render/{name}.ipynb?token={TOKEN}")
    menu = page.locator("select").first
    options = menu.locator("option").all_inner_texts()
    assert len(options) == 2 and options[0].startswith("손목닥터") and options[1].startswith("일산동구보건소"), options
    menu.select_option(index=1)
    page.wait_for_function("() => document.body.innerText.includes('웨어러블') || document.body.innerText.includes('1인당')",
                           timeout=60_000)
    page.wait_for_timeout(1000)
    text = page.inner_text("body")
    assert "Traceback" not in text and "Warning" not in text
    if name == "overview":
        assert "웨어러블 걸음 수·심박수 자료가 없습니다" in text
        assert "57.4%" in text and "65.1%" in text and "근거 문서" in text
    elif name == "cost":
        assert "202,020원" in text and "495,556원" in text
    else:
        assert "자치구 지도를 그리지 않습니다" in text
    page.screenshot(path=str(artifacts / f"{name}_mobile_healthcare.png"), full_page=True)
    assert not [e for e in errors if "favicon" not in e]
    page.close()
