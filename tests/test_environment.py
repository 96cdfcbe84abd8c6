"""pyproject.toml is the single source of dependency truth; environment.yml must not drift from it."""
from __future__ import annotations

import re
import tomllib

import yaml

CONDA_NAMES = {"duckdb": "python-duckdb"}


def _split(req: str) -> tuple[str, str]:
    name = re.match(r"[A-Za-z0-9_.\-]+", req).group(0)
    spec = re.sub(r"^\[[^\]]*\]", "", req[len(name):]).replace(" ", "")
    return name.lower(), spec


def test_environment_yml_mirrors_pyproject(repo_root):
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    wanted = dict(_split(r) for r in project["dependencies"])
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    found: dict[str, str] = {}
    pip_section: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section = dep["pip"]
            continue
        if dep.startswith(("python=", "pip")) and dep in ("pip",) or dep.startswith("python="):
            continue
        name, spec = _split(dep)
        found[name] = spec
    for dep in pip_section:
        if dep.startswith("-e"):
            continue
        name, spec = _split(dep)
        found[name] = spec
    expected = {CONDA_NAMES.get(n, n): s for n, s in wanted.items()}
    assert found == expected, "environment.yml drifted from pyproject.toml"
    assert "-e .[test]" in pip_section, "environment.yml must install the project itself with its test extras"
    assert project["requires-python"].startswith(">=3.11")
    assert "python=3.11" in env["dependencies"]


def test_uv_lock_is_in_step_with_pyproject(repo_root):
    """`make demo` / `make test` install uv.lock with `uv sync --locked`, which refuses a stale lock: catch it here first."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    wanted = set()
    for extra, reqs in [(None, project["dependencies"]), *project.get("optional-dependencies", {}).items()]:
        for text in reqs:
            r = Requirement(text)
            wanted.add((canonicalize_name(r.name), str(r.specifier), extra))
    lock = tomllib.loads((repo_root / "uv.lock").read_text())
    (me,) = [p for p in lock["package"] if p["name"] == canonicalize_name(project["name"])]
    locked = set()
    for r in me["metadata"]["requires-dist"]:
        extra = re.search(r"extra == '([^']+)'", r.get("marker", ""))
        locked.add((canonicalize_name(r["name"]), str(Requirement(f"x{r.get('specifier', '')}").specifier),
                    extra.group(1) if extra else None))
    assert locked == wanted, f"uv.lock is stale: run `make lock` (differs in {sorted(locked ^ wanted)})"
    pinned = {p["name"]: p["version"] for p in lock["package"]}
    assert all(canonicalize_name(name) in pinned for name, _, _ in wanted), "a dependency is not pinned in uv.lock"


def test_xdist_groups_reach_the_scheduler(request):
    """`make test` relies on --dist loadgroup to run every demo-run test on one worker (the demo is built
    once, ~3 minutes). pytest 9.2 silently broke the grouping (pytest-xdist#1386) and the demo was then built
    on both workers; this fails if grouping is lost again. Only meaningful under xdist's loadgroup."""
    import pytest

    if not (request.config.pluginmanager.hasplugin("xdist") and request.config.getoption("loadgroup", False)):
        pytest.skip("not running under pytest-xdist --dist loadgroup")
    assert request.node.nodeid.endswith("@tests/test_environment.py"), request.node.nodeid
