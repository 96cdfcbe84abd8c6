"""Run parameters: a YAML file validated against a declared schema before anything runs.

papermill only *warns* about a parameter the notebook does not declare; a
scheduled run must instead fail before it starts, naming the key. Two layers:

1. the file itself (:class:`RunParams`, pydantic, unknown keys forbidden);
2. each notebook's ``parameters`` cell is its schema: every parameter passed to
   a notebook must be declared there, and its YAML type must match the type of
   the declared default (an int is accepted where a float is declared).

Example (``params/demo.yaml``)::

    programme: smartband_9988
    title: 손목닥터 9988 데모 평가
    lang: ko
    inputs:
      participants: data_samples/participants.parquet
      daily: data_samples/daily.parquet
    notebooks:
      - path: notebooks/10_cohort_overview.ipynb
        parameters: {step_goal: 8000}
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ParamsError(ValueError):
    """A parameter file or a notebook parameter is invalid; the message names the file and key."""


class NotebookSpec(BaseModel):
    """One notebook of a run and the parameters given only to it."""

    model_config = ConfigDict(extra="forbid")

    path: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    timeout_seconds: int = Field(default=900, gt=0)


class SyntheticExportsParams(BaseModel):
    """Demo only: synthetic raw exports that ``evaluation build`` writes into the first exports folder
    (once; :mod:`evaluation.synth.exports`), with their truth kept apart in ``truth``."""

    model_config = ConfigDict(extra="forbid")

    participants: str = Field(description="participants table the minutes are generated for")
    start: str = Field(description="first local date, YYYY-MM-DD")
    days: int = Field(gt=0, le=400)
    waves: list[int] | None = Field(default=None, description="enrolment waves drawn (default all)")
    per_wave: int = Field(default=0, ge=0, description="participants drawn per enrolment wave (0 = all)")
    comparison: int = Field(default=0, ge=0, description="comparison-arm participants drawn (0 = all)")
    formats: list[str] = Field(default_factory=lambda: ["band_csv"])
    truth: str = Field(description="folder for the truth files (outside the exports folder)")
    truth_participants: int = Field(default=20, ge=0, description="participants whose minutes keep their truth columns")
    seed: int = 2023


class BuildParams(BaseModel):
    """The ``build:`` section: exports -> minutes store -> daily store (``evaluation build``)."""

    model_config = ConfigDict(extra="forbid")

    exports: list[str] = Field(min_length=1, description="folders (or files) of raw exports")
    store: str = Field(description="store folder; the daily store is <store>/daily")
    n_buckets: int = Field(default=16, ge=1, le=4096)
    enrolled: str | None = Field(default=None, description="participants table; other ids are quarantined")
    columns: dict[str, str] = Field(default_factory=dict, description="export column -> contract column")
    source_tz: str = "Asia/Seoul"
    period: tuple[str, str] | None = None
    demo: bool = False
    pseudonymise_ids: bool = True
    read_options: dict[str, Any] = Field(default_factory=dict, description="more keyword arguments for ingest.read_exports")
    cleaning: dict[str, Any] = Field(default_factory=dict, description="signals.CleaningConfig fields")
    scheduler: str | None = Field(default=None, description="tcp://host:8786 (Dask), 'local' (LocalCluster) or none")
    before_run: bool = Field(default=True, description="`evaluation run` brings the stores up to date first")
    synthetic: SyntheticExportsParams | None = None

    @field_validator("exports", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("cleaning")
    @classmethod
    def _cleaning_fields(cls, v: dict[str, Any]) -> dict[str, Any]:
        import dataclasses

        from .signals import CleaningConfig

        known = {f.name for f in dataclasses.fields(CleaningConfig)}
        unknown = sorted(set(v) - known)
        if unknown:
            raise ValueError(f"unknown cleaning option(s) {unknown}; known: {sorted(known)}")
        return v


class RunParams(BaseModel):
    """The top level of a ``params/*.yaml`` file."""

    model_config = ConfigDict(extra="forbid")

    programme: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="folder-safe programme key")
    title: str = ""
    lang: Literal["ko", "en"] = "ko"
    kernel: str = "evaluation"
    output_root: str = "outputs"
    suppression_threshold: int = Field(default=10, ge=1)
    seed: int = 2023
    inputs: dict[str, str] = Field(default_factory=dict, description="named input files, passed as <name>_path")
    parameters: dict[str, Any] = Field(default_factory=dict, description="passed to every notebook that declares them")
    notebooks: list[NotebookSpec] = Field(min_length=1)
    build: BuildParams | None = None

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"input name {name!r} must be a lowercase identifier")
        return v


def _describe(err: ValidationError, source: Path) -> str:
    lines = [f"{source}: invalid parameters"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"  - unknown key '{key}' (not in the schema; check spelling)")
        elif e["type"] == "missing":
            lines.append(f"  - missing required key '{key}'")
        else:
            lines.append(f"  - key '{key}': {e['msg']} (found {e.get('input')!r})")
    return "\n".join(lines)


def load(path: str | Path, *, base_dir: str | Path | None = None, check_files: bool = True) -> RunParams:
    """Read and validate a params YAML; relative paths resolve against ``base_dir`` (default: the repo root).

    Raises :class:`ParamsError` naming the file and key for unknown keys, wrong
    types, missing notebooks or input files.
    """
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: parameter file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping at the top level, found {type(raw).__name__}")
    try:
        params = RunParams.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(_describe(exc, path)) from None
    if check_files:
        base = Path(base_dir) if base_dir else default_base_dir(path)
        for name, rel in params.inputs.items():
            if not (base / rel).exists() and not _built(params, base, rel):
                raise ParamsError(f"{path}: key 'inputs.{name}': file not found: {base / rel}")
        for i, nb in enumerate(params.notebooks):
            if not (base / nb.path).exists():
                raise ParamsError(f"{path}: key 'notebooks.{i}.path': notebook not found: {base / nb.path}")
    return params


def _built(params: RunParams, base: Path, rel: str) -> bool:
    """An input the ``build:`` section produces (inside its store or synthetic truth folder) need not exist yet."""
    if params.build is None:
        return False
    target = (base / rel).resolve()
    made = [params.build.store] + ([params.build.synthetic.truth] if params.build.synthetic else [])
    return any(target.is_relative_to((base / m).resolve()) for m in made)


def default_base_dir(params_path: Path) -> Path:
    """Folder that relative paths in a params file refer to: the repo root above ``params/``."""
    params_path = params_path.resolve()
    if params_path.parent.name == "params":
        return params_path.parent.parent
    return Path.cwd()


_TYPE_OK = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


def notebook_schema(notebook: str | Path) -> dict[str, dict[str, Any]]:
    """The declared parameters of a notebook: name -> {'type': python type name, 'default': source text}.

    papermill infers a type only from an annotation; without one we take the
    type of the literal default (``answer = 1`` declares an int).
    """
    import ast

    import papermill as pm

    declared = pm.inspect_notebook(str(notebook))
    out = {}
    for name, info in declared.items():
        typ = info.get("inferred_type_name") or "None"
        if typ == "None":
            try:
                value = ast.literal_eval(info.get("default") or "None")
            except (ValueError, SyntaxError):
                value = None
            typ = type(value).__name__ if value is not None else "None"
        out[name] = {"type": typ, "default": info.get("default")}
    return out


def check_notebook_parameters(notebook: str | Path, values: dict[str, Any], *, source: str = "") -> None:
    """Raise :class:`ParamsError` if ``values`` has a key the notebook does not declare or of the wrong type."""
    schema = notebook_schema(notebook)
    where = f"{source}: " if source else ""
    for key, value in values.items():
        if key not in schema:
            known = ", ".join(sorted(schema)) or "(none)"
            raise ParamsError(
                f"{where}notebook {Path(notebook).name}: unknown parameter '{key}'; it declares: {known}"
            )
        declared = schema[key]["type"]
        allowed = _TYPE_OK.get(declared)
        if allowed is None or value is None:
            continue  # None-defaulted or untyped parameters accept anything
        if isinstance(value, bool) and declared in ("int", "float"):
            ok = False
        else:
            ok = isinstance(value, allowed)
        if not ok:
            raise ParamsError(
                f"{where}notebook {Path(notebook).name}: parameter '{key}' expects {declared} "
                f"(default {schema[key]['default']}), found {type(value).__name__} {value!r}"
            )


def notebook_parameters(params: RunParams, spec: NotebookSpec, *, base_dir: Path, output_dir: Path) -> dict[str, Any]:
    """The parameters papermill injects into one notebook (shared ones only where declared).

    Input files become absolute ``<name>_path`` parameters; ``output_dir``,
    ``lang``, ``suppression_threshold`` and ``seed`` are passed when declared.
    Notebook-specific parameters must all be declared (checked here).
    """
    nb_path = base_dir / spec.path
    schema = notebook_schema(nb_path)
    check_notebook_parameters(nb_path, spec.parameters, source=f"notebooks[{spec.path}].parameters")
    shared: dict[str, Any] = {
        "output_dir": str(output_dir),
        "lang": params.lang,
        "suppression_threshold": params.suppression_threshold,
        "seed": params.seed,
        "programme": params.programme,
    }
    shared.update({f"{k}_path": str((base_dir / v).resolve()) for k, v in params.inputs.items()})
    shared.update(params.parameters)
    values = {k: v for k, v in shared.items() if k in schema}
    check_notebook_parameters(nb_path, {k: v for k, v in params.parameters.items() if k in schema}, source="parameters")
    values.update(spec.parameters)
    return values
