"""The Voila dashboards, served for real and driven in headless Debian Chromium by Playwright.

The demo run is published with its kernel-free views (issue 23), so staff get pre-rendered pages: each
dashboard must load with no console errors and no kernel, show Korean text in a Hangul font, switch
district, indicator and language in the browser, refuse requests without the token with the Korean "no
access" page, and leave screenshots of the three dashboards in Korean and English under
``test-artifacts/dashboards/`` for review. The live (kernel) dashboard, ``?live=1``, must still redraw
when a widget changes. The service guards themselves are in ``test_dashboards_service.py``.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from evaluation.dashboards import _serve
from evaluation.publish.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "test-token-4f9c"
DASHBOARDS = ("overview", "districts", "cost")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except urllib.error.HTTPError:
            return  # the server answers (e.g. 403/302 without token)
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"Voila did not answer at {url}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: D401
        return None


def _start(root: Path, port: int) -> subprocess.Popen:
    """The dashboards as `evaluation dashboard` serves them (token in the environment, voila.json)."""
    proc = _serve.start(host="127.0.0.1", port=port, output_root=root, token=TOKEN,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{port}/voila/health")
    except Exception:
        _serve.stop(proc)
        raise
    return proc


@pytest.fixture(scope="module")
def server(demo_outputs):
    port = _free_port()
    proc = _start(demo_outputs, port)
    yield f"http://127.0.0.1:{port}"
    assert _serve.stop(proc) == 0


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ])
        yield b
        b.close()


@pytest.fixture(scope="module")
def artifacts(repo_root) -> Path:
    folder = repo_root / "test-artifacts" / "dashboards"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 1600}, locale="ko-KR")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    page.wait_for_selector("[data-render-ms]", state="attached", timeout=120_000)
    page.wait_for_timeout(500)
    return page, errors


def _hangul_fonts(page, selector: str) -> list[str]:
    """Platform fonts Chromium actually used to draw the element's text (via the DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    doc = cdp.send("DOM.getDocument", {"depth": -1})
    node = cdp.send("DOM.querySelector", {"nodeId": doc["root"]["nodeId"], "selector": selector})
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    return [f["familyName"] for f in fonts if f["glyphCount"] > 0]


def test_request_without_token_is_refused(server):
    opener = urllib.request.build_opener(_NoRedirect)
    for path in ("/", "/voila/render/overview.ipynb", "/voila/files/notebooks/dashboards/overview.ipynb"):
        with pytest.raises(urllib.error.HTTPError) as err:
            opener.open(server + path, timeout=20)
        assert err.value.code == 403, path  # no redirect to Jupyter's login form


def test_without_token_the_browser_shows_the_korean_no_access_page(server, browser, artifacts):
    page = browser.new_page(locale="ko-KR")
    response = page.goto(f"{server}/voila/render/overview.ipynb?token=wrong", wait_until="domcontentloaded")
    assert response.status == 403
    text = page.inner_text("body")
    assert "접근 권한이 없습니다" in text and "link expired" in text and "Password" not in text
    page.screenshot(path=str(artifacts / "no_access.png"), full_page=True)
    page.close()


def _health(server: str) -> dict:
    import json

    with urllib.request.urlopen(f"{server}/voila/health", timeout=20) as r:
        return json.load(r)


def _images_loaded(page) -> None:
    broken = page.eval_on_selector_all("img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).map(e => e.src)")
    assert not broken, broken


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_loads_in_korean_and_english_without_a_kernel(server, browser, artifacts, name):
    page, errors = _open(browser, f"{server}/voila/render/{name}.ipynb?token={TOKEN}")
    assert "token" not in page.url  # the login redirect dropped it from the address
    assert page.locator("body[data-ev-view]").count() == 1, "not the kernel-free view"
    text = page.inner_text("body")
    assert "대시보드" in text, text[:500]
    assert "Traceback" not in text and "Warning" not in text
    assert " ".join(t("perturbation_notice", "ko").split()) in " ".join(text.split())  # issue 20: counts are perturbed
    fonts = _hangul_fonts(page, "h2")
    assert any("Nanum" in f or "CJK" in f for f in fonts), f"Hangul drawn with {fonts}"
    page.wait_for_load_state("load")
    _images_loaded(page)
    page.screenshot(path=str(artifacts / f"{name}_ko.png"), full_page=True)
    page.click("button[name=lang][value=en]")
    page.wait_for_url("**lang=en**", wait_until="load")
    assert page.evaluate("document.documentElement.lang") == "en"
    text = page.inner_text("body")
    assert {"overview": "Programme overview", "districts": "Districts and equity", "cost": "Budget and cost"}[name] in text
    assert " ".join(t("perturbation_notice", "en").split()) in " ".join(text.split())
    _images_loaded(page)
    page.screenshot(path=str(artifacts / f"{name}_en.png"), full_page=True)
    assert _health(server)["kernels"]["visitors"] == 0  # no kernel was handed to this visitor
    relevant = [e for e in errors if "favicon" not in e]
    assert not relevant, relevant
    page.close()


def test_district_and_language_switch_on_the_views(server, browser, artifacts, demo_outputs):
    from evaluation.dashboards import _data, views

    page, errors = _open(browser, f"{server}/voila/render/overview.ipynb?token={TOKEN}")
    assert page.locator("select[name=district]").input_value() == ""
    page.select_option("select[name=district]", label="강남구")
    page.wait_for_url("**district=11680**", wait_until="load")
    assert page.locator("select[name=district]").input_value() == "11680"
    text = page.inner_text("body")
    assert "등록 후 1-24주 평균" in text and "자치구별 값 없음" in text  # the district's cards, not Seoul's
    # the card shows the district's own number, as the live dashboard computes it
    run = _data.load_run(_data.programmes(demo_outputs)[0], root=demo_outputs)
    entry = views._district_metric(run, "11680", "mean_steps", "steps/day")
    if entry and entry.get("value") is not None:
        assert views.card("x", entry, lang="ko").value.split("<div class='v'>")[1].split("</div>")[0] in text
    page.click("button[name=lang][value=en]")
    page.wait_for_url("**lang=en**", wait_until="load")
    assert page.locator("select[name=district]").input_value() == "11680"  # the district stays chosen
    assert "Gangnam-gu" in page.locator("select[name=district] option:checked").inner_text()
    assert "Average over weeks 1-24 after enrolment" in page.inner_text("body")
    _images_loaded(page)
    page.screenshot(path=str(artifacts / "overview_en_gangnam.png"), full_page=True)
    page.select_option("select[name=district]", value="")
    page.wait_for_url(lambda url: "district=&" in url or url.endswith("district="), wait_until="load")
    assert "Programme overview" in page.inner_text("body") and "Average over weeks 1-24 after enrolment" not in page.inner_text("body")
    assert _health(server)["kernels"]["visitors"] == 0
    assert not [e for e in errors if "favicon" not in e]
    page.close()


def _image_sources(page) -> list[str]:
    return page.eval_on_selector_all("img", "els => els.map(e => e.src)")


def _wait_redraw(page, before: list[str]) -> list[str]:
    page.wait_for_function(
        "before => { const now = Array.from(document.images).map(e => e.src);"
        " return now.length > 0 && now.every(s => !before.includes(s)); }",
        arg=before, timeout=60_000)
    return _image_sources(page)


def test_live_dashboard_widgets_change_the_figures(server, browser, artifacts):
    page, errors = _open(browser, f"{server}/voila/render/overview.ipynb?live=1&token={TOKEN}")
    before = _image_sources(page)
    assert before, "the overview shows no figure"
    page.get_by_role("button", name="English").click()
    page.wait_for_function("() => document.body.innerText.includes('Programme overview')", timeout=30_000)
    english = _wait_redraw(page, before)
    assert "Programme overview" in page.inner_text("body") and "Enrolled" in page.inner_text("body")
    page.screenshot(path=str(artifacts / "live_overview_en.png"), full_page=True)
    # choosing a district swaps the city-wide trend for that district's trajectory
    page.locator("select").nth(2).select_option(label="Gangnam-gu")
    # the cards switch to the district (a figure that exists only for Seoul says so); the weekly series is
    # drawn, or said to be withheld (without saying how many people a withheld week holds)
    page.wait_for_function("() => document.body.innerText.includes('Average over weeks 1-24 after enrolment')"
                           " && document.body.innerText.includes('value for all of Seoul')", timeout=60_000)
    page.wait_for_function(
        "before => document.body.innerText.includes('weekly values are withheld to protect individuals') || "
        "Array.from(document.images).some(e => !before.includes(e.src))", arg=english, timeout=60_000)
    page.screenshot(path=str(artifacts / "live_overview_en_gangnam.png"), full_page=True)
    ms = page.locator("[data-render-ms]").last.get_attribute("data-render-ms")
    assert ms is not None and float(ms) >= 0
    assert not [e for e in errors if "favicon" not in e]
    page.close()


def test_district_dashboard_indicator_choice_switches_the_view(server, browser, artifacts):
    page, errors = _open(browser, f"{server}/voila/render/districts.ipynb?token={TOKEN}")
    before = _image_sources(page)
    assert before, "the districts dashboard shows no map"
    indicator = page.locator("select[name=indicator]")
    labels = indicator.locator("option").all_inner_texts()
    assert len(labels) > 1 and all(lab.strip() for lab in labels)
    chosen = indicator.select_option(label=labels[-1])
    page.wait_for_url("**indicator=**", wait_until="load")
    assert page.locator("select[name=indicator]").input_value() == chosen[0] != ""
    assert _image_sources(page) != before  # the new indicator's map and ranking
    _images_loaded(page)
    # a district on top of the indicator: the indicator stays, the district's row is shown
    page.select_option("select[name=district]", label="강북구")
    page.wait_for_url("**district=11305**", wait_until="load")
    assert page.locator("select[name=indicator]").input_value() == chosen[0]
    assert "강북구" in page.inner_text("body")
    page.screenshot(path=str(artifacts / "districts_indicator.png"), full_page=True)
    assert not [e for e in errors if "favicon" not in e]
    page.close()


def test_dashboard_without_runs_shows_a_message(tmp_path, browser, artifacts):
    port = _free_port()
    proc = _start(tmp_path, port)
    try:
        page, errors = _open(browser, f"http://127.0.0.1:{port}/voila/render/cost.ipynb?token={TOKEN}")
        text = page.inner_text("body")
        assert "아직 완료된 평가 실행이 없습니다" in text and "Traceback" not in text
        page.screenshot(path=str(artifacts / "cost_no_run.png"), full_page=True)
        page.close()
    finally:
        _serve.stop(proc)
