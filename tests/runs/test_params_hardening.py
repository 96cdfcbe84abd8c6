"""Parameter files a scheduler runs unattended: bounded YAML, every error at once, no unknown keys, no path escapes."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from evaluation import cli
from evaluation.runs import params
from tiny_project import make_project, write_params


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")


def _raw(project: Path, text: str, name: str = "raw.yaml") -> Path:
    path = project / "params" / name
    path.write_text(text, encoding="utf-8")
    return path


def _lol_bomb(levels: int, fan: int) -> str:
    """The "billion laughs" shape: each level lists the previous one ``fan`` times."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    return "\n".join(lines) + "\nprogramme: bomb\nnotebooks: [{path: notebooks/one.ipynb}]\n"


def test_billion_laughs_of_515_bytes_is_refused(project):
    text = _lol_bomb(8, 9)  # 9**9 = 387M strings once expanded
    assert len(text.encode()) < 600
    with pytest.raises(params.ParamsError, match="refused: more than 64 YAML aliases"):
        params.load(_raw(project, text))


def test_alias_bomb_under_the_alias_count_is_refused_by_its_expanded_size(project):
    text = _lol_bomb(6, 10)  # 60 aliases only, but 9 * 10**6 values
    assert text.count("*") <= params.MAX_ALIASES
    with pytest.raises(params.ParamsError, match=r"refused: expands to more than 20,000 values"):
        params.load(_raw(project, text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("programme: x\nnested: " + "[" * 40 + "]" * 40 + "\n", "nesting deeper than 32 levels"),
        ("a: &a [*a]\n", "recursive alias"),
        ("programme: x\n" + "# padding\n" * 30_000, "a parameter file may hold at most 262,144 bytes"),
        ("programme: [unclosed\n", "not valid YAML"),
    ],
)
def test_limits_and_syntax(project, text, message):
    with pytest.raises(params.ParamsError, match=re.escape(message)):
        params.load(_raw(project, text))


def test_anchors_within_limits_are_fine(project):
    text = """
programme: tinyprog
notebooks:
  - path: notebooks/one.ipynb
    parameters: &shared {answer: 3, blob: 0}
  - path: notebooks/two.ipynb
    parameters: *shared
"""
    cfg = params.load(_raw(project, text))
    assert cfg.notebooks[1].parameters == {"answer": 3, "blob": 0}


def test_duplicate_keys_are_errors(project):
    text = "programme: tinyprog\nprogramme: other\nnotebooks: [{path: notebooks/one.ipynb}]\n"
    with pytest.raises(params.ParamsError, match=r"duplicate key 'programme' \(line 2\)"):
        params.load(_raw(project, text))


def test_every_error_is_reported_at_once(project):
    path = write_params(
        project, "many",
        lang="fr",                                               # wrong value
        progamme_title="typo",                                   # unknown top-level key
        inputs={"input": "data/missing.csv"},                    # missing file
        parameters={"answr": 1, "output_dir": "/tmp/x"},         # unknown shared key, runner-owned key
        notebooks=[
            {"path": "notebooks/one.ipynb", "parameters": {"name": "one", "answer": "forty-two", "fial": True}},
            {"path": "notebooks/none.ipynb"},                    # missing notebook
        ],
    )
    with pytest.raises(params.ParamsError) as err:
        params.load(path)
    text = str(err.value)
    expected = [
        "key 'lang'",
        "unknown key 'progamme_title'",
        "key 'inputs.input': file not found",
        "unknown key 'parameters.answr': no notebook of this run declares it; did you mean 'answer'?",
        "key 'parameters.output_dir': set by the runner",
        "parameter 'answer' expects int",
        "unknown parameter 'fial'; did you mean 'fail'?",
        "key 'notebooks.1.path': notebook not found",
    ]
    missing = [e for e in expected if e not in text]
    assert not missing, f"not reported: {missing}\n{text}"
    assert text.startswith(f"{path}: invalid parameters (8 errors)")


def test_unknown_key_in_shared_parameters_names_the_key(project):
    """The issue's case: `stp_goal` in the shared section used to be ignored silently."""
    path = write_params(project, parameters={"stp_goal": 8000})
    with pytest.raises(params.ParamsError, match=r"unknown key 'parameters\.stp_goal'"):
        params.load(path)
    ok = write_params(project, "ok", parameters={"answer": 5})  # declared by a notebook of the run
    assert params.load(ok).parameters == {"answer": 5}
    wrong_type = write_params(project, "typed", parameters={"answer": "five"})
    with pytest.raises(params.ParamsError, match=r"key 'parameters\.answer'.*expects int"):
        params.load(wrong_type)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"notebooks": [{"path": "../../outside.ipynb"}]}, "key 'notebooks.0.path': ../../outside.ipynb is outside"),
        ({"notebooks": [{"path": "notebooks/../../outside.ipynb"}]}, "is outside"),
        ({"notebooks": [{"path": "data/input.csv"}]}, "not a notebook (.ipynb)"),
        ({"output_root": "../../../tmp/evil"}, "key 'output_root': ../../../tmp/evil is outside"),
        ({"output_root": "/tmp"}, "key 'output_root': /tmp is outside"),
    ],
)
def test_path_escapes_are_refused(project, overrides, message):
    from tiny_project import notebook

    notebook(project.parent / "outside.ipynb")
    path = write_params(project, **overrides)
    with pytest.raises(params.ParamsError, match=re.escape(message)):
        params.load(path)


def test_symlink_out_of_notebooks_is_refused_and_the_flag_allows_it(project):
    from tiny_project import notebook

    target = notebook(project.parent / "elsewhere" / "nb.ipynb")
    (project / "notebooks" / "link.ipynb").symlink_to(target)
    path = write_params(project, notebooks=[{"path": "notebooks/link.ipynb"}], output_root="../shared-out")
    with pytest.raises(params.ParamsError, match="is outside") as err:
        params.load(path)
    assert "(2 errors)" in str(err.value)
    assert params.load(path, allow_outside=True).output_root == "../shared-out"
    assert cli.main(["validate", str(path)]) == 2
    assert cli.main(["validate", str(path), "--allow-outside-paths"]) == 0


def test_paths_resolve_against_the_project_root_from_anywhere(project, tmp_path, monkeypatch):
    """Documented semantics: relative paths are relative to the project root, not to the params file or cwd."""
    monkeypatch.chdir(tmp_path)  # not the project
    nested = write_params(project, "weekly", folder=project / "params" / "schedules")
    assert params.default_base_dir(nested) == project.resolve()
    assert params.load(nested).inputs == {"input": "data/input.csv"}


def test_params_file_outside_the_project_uses_cwd_or_project_root(project, tmp_path, monkeypatch):
    """A params file copied out of the checkout (e.g. /etc/evaluation/): cd into the project or pass --project-root."""
    outside = write_params(project, "copied", folder=tmp_path / "etc-evaluation")
    monkeypatch.chdir(tmp_path)  # neither the project nor above a notebooks/ folder
    with pytest.raises(params.ParamsError) as err:
        params.load(outside)
    text = str(err.value)
    assert "(2 errors)" in text  # the missing input does not hide the missing notebook
    assert "inputs.input" in text and "notebooks.0.path" in text
    assert cli.main(["validate", str(outside), "--project-root", str(project)]) == 0
    monkeypatch.chdir(project)
    assert params.default_base_dir(outside) == Path(os.getcwd())
    assert params.load(outside).programme == "tinyprog"


def test_runs_on_unknown_programme_says_so_and_exits_2(project, capsys):
    assert cli.main(["runs", "no_such_programme", "--output-root", str(project / "outputs")]) == 2
    err = capsys.readouterr().err
    assert "no programme 'no_such_programme'" in err
    (project / "outputs" / "tinyprog").mkdir()
    assert cli.main(["runs", "tinyprog", "--output-root", str(project / "outputs")]) == 0
    assert "no runs of tinyprog yet" in capsys.readouterr().out


def test_demo_params_stay_valid(repo_root):
    cfg = params.load(repo_root / "params" / "demo.yaml")
    assert cfg.programme == "smartband_9988"
    raw = yaml.safe_load((repo_root / "params" / "demo.yaml").read_text(encoding="utf-8"))
    assert set(raw) <= set(params.RunParams.model_fields)
