"""Static snapshot of a dashboard's default view, served at once when no preheated kernel is free.

A kernel per viewer costs ~2-4 s of CPU to start and render; on the 2-core server a burst of 10-30 staff
opening the same dashboard queues behind kernel starts (bench_dashboards.py). Every viewer's first
screen is the same default view of the same run, so it is rendered once per run (in a subprocess, off
Voila's event loop) by walking the very widget tree the dashboard builds, and served as plain HTML. The
page loads the live dashboard in a hidden frame and swaps it in when its widgets are drawn; controls
are shown disabled until then.

Run as ``python -m evaluation.dashboards._static NAME [LANG]``: prints the snapshot's inner HTML.
"""
from __future__ import annotations

import base64
import html
import sys
import time
from typing import Any, Callable, Mapping

DASHBOARDS = ("overview", "districts", "cost")


def _style(layout: Any) -> str:
    out = []
    for trait, css in (("flex_flow", "flex-flow"), ("align_items", "align-items"), ("width", "width"),
                       ("justify_content", "justify-content"), ("margin", "margin"), ("padding", "padding")):
        value = getattr(layout, trait, None) if layout is not None else None
        if value:
            out.append(f"{css}:{value}")
    return ";".join(out)


Controls = Mapping[int, str]
"""id(widget) -> query parameter it sets, for controls that work on a kernel-free view."""
SERVER_FILLED = ("programme", "run")
"""Controls whose options the server fills in when it serves a view (runs published later appear too)."""


def _control(w: Any, param: str) -> str:
    """A working control of a kernel-free view: part of the page's GET form (see :func:`view_page`)."""
    import ipywidgets as W

    label = html.escape(w.description or "")
    if param in SERVER_FILLED:
        return f"<label class='ev-control'>{label} <!--ev:{param}--></label>"
    if isinstance(w, W.ToggleButtons):  # submit buttons: a plain link-free form works without script
        return "<span class='ev-toggle'>" + "".join(
            f"<button type='submit' name='{param}' value='{html.escape(str(value))}'"
            f"{' class=selected aria-pressed=true' if value == w.value else ''}>{html.escape(str(label))}</button>"
            for label, value in zip(w._options_labels, w._options_values)) + "</span>"
    options = "".join(
        f"<option value='{html.escape(str(value if value is not None else ''))}'"
        f"{' selected' if value == w.value else ''}>{html.escape(str(label))}</option>"
        for label, value in zip(w._options_labels, w._options_values))
    return (f"<label class='ev-control'>{label} <select name='{param}' "
            f"onchange='this.form.requestSubmit ? this.form.requestSubmit() : this.form.submit()'>{options}</select></label>")


def widget_html(w: Any, controls: Controls | None = None, image_src: Callable[[bytes, str], str] | None = None) -> str:
    """HTML for an ipywidgets tree (the kinds the dashboards use); unknown widgets are left out.

    Without ``controls`` the menus are drawn disabled (the snapshot); widgets named in ``controls`` become
    working form controls. ``image_src(png, format)`` gives an image's address (default: inline data URI).
    """
    import ipywidgets as W

    controls = controls or {}
    if id(w) in controls:
        return _control(w, controls[id(w)])
    if isinstance(w, W.Box):
        direction = "row" if isinstance(w, W.HBox) else "column"
        style = _style(w.layout)
        flow = "" if "flex-flow" in style else f"flex-direction:{direction};"
        inner = "".join(widget_html(c, controls, image_src) for c in w.children)
        return f"<div class='ev-static-box' style='display:flex;gap:4px;{flow}{style}'>{inner}</div>"
    if isinstance(w, W.HTML):  # built by the dashboards with every data value escaped
        return f"<div class='ev-static-html'>{w.value}</div>"
    if isinstance(w, W.Image):
        raw = bytes(w.value)
        src = image_src(raw, w.format) if image_src else f"data:image/{w.format};base64,{base64.b64encode(raw).decode()}"
        size = "".join(f"{k}='{html.escape(str(v))}' " for k, v in (("width", w.width), ("height", w.height)) if v)
        layout = w.layout
        width = f"width:{layout.width};" if layout is not None and layout.width else ""
        # decoded off the main thread, and fetched only when scrolled near: ten tabs opening at once on the
        # same two cores then spend their CPU on the first screen's text, not on charts below it
        return (f"<img {size}style='{width}max-width:100%;height:auto' alt='' loading='lazy' decoding='async' "
                f"src='{html.escape(src)}'>")
    if isinstance(w, W.ToggleButtons):
        buttons = "".join(
            f"<button disabled{' class=selected' if value == w.value else ''}>{html.escape(str(label))}</button>"
            for label, value in zip(w._options_labels, w._options_values))
        return f"<span class='ev-static-toggle'>{buttons}</span>"
    if isinstance(w, (W.Dropdown, W.Select)):
        label = w.label if w.label is not None else ""
        return (f"<label class='ev-static-select'>{html.escape(w.description or '')} "
                f"<select disabled><option selected>{html.escape(str(label))}</option></select></label>")
    return ""


def snapshot(name: str, lang: str = "ko", root: str | None = None) -> str:
    """Inner HTML of dashboard ``name``'s default view (overview, districts or cost)."""
    from . import views

    if name not in DASHBOARDS:
        raise ValueError(f"unknown dashboard {name!r}: one of {DASHBOARDS}")
    build = {"overview": views.overview_app, "districts": views.districts_app, "cost": views.cost_app}[name]
    return widget_html(build(lang=lang, root=root))


def page(inner: str, *, live_url: str, lang: str = "ko") -> str:
    """The whole snapshot page: the default view at once, the live dashboard swapped in when drawn."""
    note = ("실시간 화면을 준비하고 있습니다. 잠시 후 선택 메뉴를 사용할 수 있습니다."
            " / Preparing the live view; the menus work in a moment.")
    return f"""<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>
<title>대시보드 / Dashboard</title><link rel='icon' href='data:,'>
<style>
 body {{ font-family: "NanumGothic", "Malgun Gothic", "Apple SD Gothic Neo", "Noto Sans CJK KR", sans-serif;
        margin: 0; padding: 8px 16px; color: #1f2328; }}
 #ev-note {{ background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; font-size: 13px; margin-bottom: 8px; }}
 .ev-static-toggle button {{ margin-right: 2px; }} .ev-static-toggle button.selected {{ font-weight: bold; }}
 .ev-static-select {{ margin-right: 12px; font-size: 13px; }}
 #ev-live {{ position: fixed; inset: 0; width: 100%; height: 100%; border: 0; visibility: hidden; background: #fff; }}
</style></head><body data-ev-static='1'>
<div id='ev-note'>{html.escape(note)}</div>
<div id='ev-static'>{inner}</div>
<iframe id='ev-live' src='{html.escape(live_url)}' title='live'></iframe>
<script>
(function () {{
  const frame = document.getElementById('ev-live');
  // the live page shuts its kernel down on its own "beforeunload"; pass ours on to it
  window.addEventListener('beforeunload', function () {{
    try {{ frame.contentWindow.dispatchEvent(new Event('beforeunload')); }} catch (e) {{}}
  }});
  const timer = setInterval(function () {{
    let doc = null;
    try {{ doc = frame.contentDocument; }} catch (e) {{ return; }}
    if (doc && doc.querySelector('[data-render-ms]')) {{
      clearInterval(timer);
      frame.style.visibility = 'visible';
      document.getElementById('ev-static').remove();
      document.getElementById('ev-note').remove();
      document.body.style.overflow = 'hidden';
    }}
  }}, 250);
}})();
</script></body></html>"""


VIEW_MARK = "data-ev-view"


def view_page(inner: str, *, lang: str, title: str) -> str:
    """A kernel-free view: the dashboard as drawn for one state of its controls, inside a GET form.

    Choosing a district, indicator, programme or run submits the form (one line of script); the language
    buttons are submit buttons. The server answers with the pre-rendered page of the new state, so every
    control works without a kernel. ``data-ev-ready`` marks the page as answering (the benchmark waits for it).
    """
    return f"""<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>
<meta name='viewport' content='width=device-width, initial-scale=1'>
<title>{html.escape(title)}</title><link rel='icon' href='data:,'>
<style>
 body {{ font-family: "NanumGothic", "Malgun Gothic", "Apple SD Gothic Neo", "Noto Sans CJK KR", sans-serif;
        margin: 0; padding: 8px 16px; color: #1f2328; }}
 .ev-control {{ margin-right: 12px; font-size: 13px; }} .ev-control select {{ font: inherit; max-width: 320px; }}
 .ev-toggle button {{ font: inherit; font-size: 13px; padding: 3px 10px; border: 1px solid #8c959f; background: #f6f8fa;
                      cursor: pointer; }}
 .ev-toggle button.selected {{ background: #0969da; color: #fff; border-color: #0969da; font-weight: 600; }}
 form.ev-busy {{ opacity: .6; cursor: progress; }}
</style></head><body {VIEW_MARK}='1'>
<form method='get' id='ev-form' action=''>
<input type='hidden' name='lang' value='{lang}'>
{inner}
</form>
<script>
(function () {{
  const form = document.getElementById('ev-form');
  // the run list belongs to the programme: a new programme starts at its latest run
  const prog = form.querySelector('select[name=programme]'), run = form.querySelector('select[name=run]');
  if (prog && run) prog.addEventListener('change', function () {{ run.disabled = true; }});
  form.addEventListener('submit', function () {{ form.classList.add('ev-busy'); }});
  window.addEventListener('pageshow', function () {{ form.classList.remove('ev-busy'); if (run) run.disabled = false; }});
  document.body.setAttribute('data-ev-ready', '1');
}})();
</script></body></html>"""


def main(argv: list[str]) -> None:
    name, lang = argv[0], (argv[1] if len(argv) > 1 else "ko")
    start = time.perf_counter()
    inner = snapshot(name, lang)
    sys.stdout.write(inner)
    sys.stderr.write(f"snapshot {name} {lang}: {time.perf_counter() - start:.1f} s\n")


if __name__ == "__main__":
    main(sys.argv[1:])
