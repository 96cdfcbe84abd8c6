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

Paths. Every relative path in the file (``inputs``, ``notebooks[].path``,
``output_root``) resolves against the **project root**: the nearest folder at
or above the params file's folder that holds a ``notebooks/`` folder, else the
current working folder (so a params file kept outside the checkout, e.g.
``/etc/evaluation/weekly.yaml``, is run with ``cd /srv/evaluation`` first), or
the folder given as ``--project-root``. Notebooks must sit under
``<root>/notebooks/`` and ``output_root`` under ``<root>/outputs/``; inputs may
be anywhere (data often lives outside the checkout). ``--allow-outside-paths``
lifts the notebook and output restrictions; ``evaluation run --output-root DIR``
is the operator's own choice and is not restricted.

Limits. The file is read with a safe loader that refuses more than
:data:`MAX_BYTES` bytes, nesting deeper than :data:`MAX_DEPTH`, more than
:data:`MAX_ALIASES` aliases or a document that expands to more than
:data:`MAX_NODES` nodes (a YAML "billion laughs" bomb is a few hundred bytes),
and duplicate keys. Every error found in the file is reported at once.
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ParamsError(ValueError):
    """A parameter file or a notebook parameter is invalid; the message names the file and key."""


class NotebookSpec(BaseModel):
    """One notebook of a run and the parameters given only to it."""

    model_config = ConfigDict(extra="forbid")

    path: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    timeout_seconds: int = Field(default=900, gt=0)


class DataSpec(BaseModel):
    """What the run's participant data are: staff see this as the source of every number computed from them."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["programme", "synthetic"] = Field(description="'synthetic' for generated data (the demo); 'programme' for real participant data")
    period: str = Field(default="", description="date range of the data, e.g. '2023-01 ~ 2023-06'")
    description: str = Field(default="", description="one line, Korean / English")


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

        from ..signals import CleaningConfig

        known = {f.name for f in dataclasses.fields(CleaningConfig)}
        unknown = sorted(set(v) - known)
        if unknown:
            raise ValueError(f"unknown cleaning option(s) {unknown}; known: {sorted(known)}")
        return v


class SyntheticRecordsParams(BaseModel):
    """Demo only: a synthetic cohort written as the centre's records files (:mod:`evaluation.synth.records`)
    into ``folder``, its truth (every latent and counterfactual column) into ``truth``.

    ``generator`` picks the cohort: ``cohort`` (:func:`evaluation.synth.participants`, the smart-band
    programme: ``n`` people, joiners and comparison) or ``mobile_healthcare``
    (:func:`evaluation.synth.mobile_healthcare.participants`: ``n`` participants of whom ``chronic`` with
    hypertension / diabetes, plus a ``waiting_list``)."""

    model_config = ConfigDict(extra="forbid")

    generator: Literal["cohort", "mobile_healthcare"] = Field(default="cohort", description="which synthetic cohort")
    n: int = Field(default=1200, gt=0, le=1_000_000, description="people in the synthetic cohort (participants for mobile_healthcare)")
    chronic: int = Field(default=0, ge=0, description="mobile_healthcare: participants with hypertension / diabetes among n")
    waiting_list: int = Field(default=0, ge=0, le=1_000_000, description="mobile_healthcare: screened people on the waiting list")
    seed: int = 2023
    start: str = Field(default="2023-01-02", description="programme year start, YYYY-MM-DD")
    folder: str = Field(description="where the handed-over files are written (XLSX and CP949 CSV)")
    truth: str = Field(description="folder for participants_truth.parquet (outside the records folder)")
    plant_errors: bool = Field(default=False, description="damage a few rows on purpose (one per kind in "
                               "evaluation.synth.records.PLANTED), so the reader's quarantine is exercised")

    @model_validator(mode="after")
    def _generator_options(self) -> "SyntheticRecordsParams":
        if self.generator != "mobile_healthcare" and (self.chronic or self.waiting_list):
            raise ValueError("chronic and waiting_list apply to generator: mobile_healthcare only")
        if self.chronic > self.n:
            raise ValueError(f"chronic ({self.chronic}) cannot exceed n ({self.n})")
        return self


class RecordsParams(BaseModel):
    """The ``records:`` section: enrolment, screening and survey files -> the participants table
    (``evaluation records build``; :mod:`evaluation.records`)."""

    model_config = ConfigDict(extra="forbid")

    files: list[str] = Field(min_length=1, description="records files or folders (CSV in UTF-8/CP949, XLSX)")
    output: str = Field(description="participants table written (Parquet); quarantine and manifest beside it")
    columns: dict[str, str] = Field(default_factory=dict, description="file header label -> contract field ('-' ignores)")
    optional: list[str] = Field(default_factory=list, description="required contract fields these files do not carry "
                                "(e.g. district for a centre outside Seoul)")
    demo: bool = False
    pseudonymise_ids: bool = Field(default=True, description="False keeps ids as they are (demo, synthetic ids only)")
    before_run: bool = Field(default=True, description="`evaluation run` reads the records first")
    synthetic: SyntheticRecordsParams | None = None

    @field_validator("files", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict[str, str]) -> dict[str, str]:
        from ..records._contract import BY_NAME

        unknown = sorted({f for f in v.values() if f != "-" and f not in BY_NAME})
        if unknown:
            raise ValueError(f"unknown records field(s) {unknown}; known: {sorted(BY_NAME)} (or '-' to ignore a column)")
        return v

    @field_validator("optional")
    @classmethod
    def _optional_fields(cls, v: list[str]) -> list[str]:
        from ..records._contract import OPTIONAL_OK

        bad = sorted(set(v) - set(OPTIONAL_OK))
        if bad:
            raise ValueError(f"optional: {bad} cannot be left out; fields a programme may lack: {sorted(OPTIONAL_OK)}")
        return v

    @field_validator("pseudonymise_ids")
    @classmethod
    def _keep_only_in_demo(cls, v: bool, info: Any) -> bool:
        if not v and not info.data.get("demo", False):
            raise ValueError("pseudonymise_ids: false is allowed only with demo: true (synthetic ids)")
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
    data: DataSpec = Field(default_factory=lambda: DataSpec(kind="programme"),
                           description="kind and period of the participant data (provenance of computed numbers)")
    build: BuildParams | None = None
    records: RecordsParams | None = None

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"input name {name!r} must be a lowercase identifier")
        return v


MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_ALIASES = 64
MAX_NODES = 20_000
# names the runner sets itself: a params file may not override them
RUNNER_SET = ("output_dir", "programme")
TOP_LEVEL_TWINS = ("lang", "seed", "suppression_threshold")


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that bounds nesting depth and alias count while composing and rejects duplicate keys.

    PyYAML has no limits of its own (safe_load only forbids arbitrary objects),
    so these few hooks are hand-written; the expanded size is checked on the
    composed node graph before anything is constructed.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self.duplicates: list[str] = []

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _LimitError(f"more than {MAX_ALIASES} YAML aliases (line {mark.line + 1})")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _LimitError(f"nesting deeper than {MAX_DEPTH} levels (line {mark.line + 1})")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = key_node.value
                if key in seen:
                    self.duplicates.append(f"duplicate key '{key}' (line {key_node.start_mark.line + 1})")
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _LimitError(Exception):
    pass


def _expanded_nodes(node: yaml.Node) -> int:
    """Number of nodes the document has once every alias is expanded (memoised: linear in the graph)."""
    memo: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        if id(n) in memo:
            if memo[id(n)] < 0:
                raise _LimitError(f"recursive alias (line {n.start_mark.line + 1}); parameters cannot refer to themselves")
            return memo[id(n)]
        memo[id(n)] = -1  # in progress
        if isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in n.value)
        else:
            total = 1
        memo[id(n)] = min(total, MAX_NODES + 1)
        return memo[id(n)]

    return size(node)


def read_yaml(path: Path) -> tuple[Any, list[str]]:
    """Parse a params file within the limits; returns (data, duplicate-key errors).

    Raises :class:`ParamsError` for a missing, oversized or malformed file, or
    one over a limit (these stop the reading, so they come alone).
    """
    if not path.is_file():
        raise ParamsError(f"{path}: parameter file not found")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ParamsError(f"{path}: {size:,} bytes; a parameter file may hold at most {MAX_BYTES:,} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    loader = _LimitedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        nodes = _expanded_nodes(node)
        if nodes > MAX_NODES:
            raise _LimitError(f"expands to more than {MAX_NODES:,} values (YAML alias bomb?)")
        data = loader.construct_document(node)
    except _LimitError as exc:
        raise ParamsError(f"{path}: refused: {exc}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return data, loader.duplicates


def _suggest(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _schema_errors(err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            sections = {"records": RecordsParams, "build": BuildParams, "notebooks": NotebookSpec}
            if len(e["loc"]) == 1:
                known = RunParams.model_fields
            elif e["loc"][:2] == ("records", "synthetic"):
                known = SyntheticRecordsParams.model_fields
            else:
                known = sections.get(str(e["loc"][0]), NotebookSpec).model_fields
            lines.append(f"unknown key '{key}' (not in the schema; check spelling{_suggest(str(e['loc'][-1]), known)})")
        elif e["type"] == "missing":
            lines.append(f"missing required key '{key}'")
        else:
            lines.append(f"key '{key}': {e['msg']} (found {e.get('input')!r})")
    return lines


def _describe(err: ValidationError, source: Path) -> str:
    return "\n".join([f"{source}: invalid parameters", *(f"  - {line}" for line in _schema_errors(err))])


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _path_errors(raw: dict[str, Any], base: Path, allow_outside: bool) -> list[str]:
    """Missing files and paths escaping the project (on the raw mapping, so it runs even when the schema fails)."""
    errors = []
    inputs = raw.get("inputs")
    if isinstance(inputs, dict):
        for name, rel in inputs.items():
            if isinstance(rel, str) and not (base / rel).exists() and not _made_by_build(raw, base, rel):
                errors.append(f"key 'inputs.{name}': file not found: {base / rel}")
    notebooks_dir = (base / "notebooks").resolve()
    notebooks = raw.get("notebooks")
    for i, nb in enumerate(notebooks if isinstance(notebooks, list) else []):
        rel = nb.get("path") if isinstance(nb, dict) else None
        if not isinstance(rel, str):
            continue
        full = (base / rel).resolve()
        if not rel.endswith(".ipynb"):
            errors.append(f"key 'notebooks.{i}.path': not a notebook (.ipynb): {rel}")
        elif not allow_outside and not _inside(full, notebooks_dir):
            errors.append(f"key 'notebooks.{i}.path': {rel} is outside {notebooks_dir} "
                          "(notebooks must sit under notebooks/; --allow-outside-paths lifts this)")
        elif not full.is_file():
            errors.append(f"key 'notebooks.{i}.path': notebook not found: {base / rel}")
    out = raw.get("output_root", "outputs")
    if isinstance(out, str) and not allow_outside:
        outputs_dir = (base / "outputs").resolve()
        if not _inside((base / out).resolve(), outputs_dir):
            errors.append(f"key 'output_root': {out} is outside {outputs_dir} "
                          "(use `evaluation run --output-root DIR` or --allow-outside-paths)")
    return errors


def _made_by_build(raw: dict[str, Any], base: Path, rel: str) -> bool:
    """An input inside the ``build:`` section's store or synthetic truth folder, or the ``records:`` section's
    output or synthetic folders, is made before the notebooks run."""
    made: list[Any] = []
    for section, keys in (("build", ("store",)), ("records", ("output",))):
        sec = raw.get(section)
        if not isinstance(sec, dict):
            continue
        synthetic = sec.get("synthetic")
        made += [sec.get(k) for k in keys]
        if isinstance(synthetic, dict):
            made += [synthetic.get("truth"), synthetic.get("folder")]
    target = (base / rel).resolve()
    return any(isinstance(m, str) and target.is_relative_to((base / m).resolve()) for m in made)


def _parameter_errors(raw: dict[str, Any], base: Path) -> list[str]:
    """Notebook parameters and the shared ``parameters:`` section checked against the notebooks' parameters cells."""
    errors: list[str] = []
    schemas: dict[str, dict[str, dict[str, Any]]] = {}
    notebooks = raw.get("notebooks")
    for i, nb in enumerate(notebooks if isinstance(notebooks, list) else []):
        rel = nb.get("path") if isinstance(nb, dict) else None
        if not isinstance(rel, str) or not rel.endswith(".ipynb") or not (base / rel).is_file():
            continue
        try:
            schemas[rel] = schema = notebook_schema(base / rel)
        except Exception as exc:  # an unreadable notebook is one error among the others
            errors.append(f"key 'notebooks.{i}.path': cannot read the notebook's parameters ({type(exc).__name__}: {exc})")
            continue
        values = nb.get("parameters")
        if isinstance(values, dict):
            for key in values:
                if key in RUNNER_SET:
                    errors.append(f"key 'notebooks.{i}.parameters.{key}': set by the runner, not by the params file")
            errors += [f"key 'notebooks.{i}.parameters': {m}" for m in
                       notebook_parameter_errors(schema, {k: v for k, v in values.items() if k not in RUNNER_SET},
                                                 Path(rel).name)]
    shared = raw.get("parameters")
    if isinstance(shared, dict) and schemas:
        declared = {name for schema in schemas.values() for name in schema}
        for key, value in shared.items():
            if key in RUNNER_SET:
                errors.append(f"key 'parameters.{key}': set by the runner, not by the params file")
            elif key in TOP_LEVEL_TWINS:
                errors.append(f"key 'parameters.{key}': use the top-level key '{key}'")
            elif key not in declared:
                errors.append(f"unknown key 'parameters.{key}': no notebook of this run declares it"
                              f"{_suggest(key, declared)}")
            else:
                for rel, schema in schemas.items():
                    if key in schema:
                        errors += [f"key 'parameters.{key}': {m}" for m in
                                   notebook_parameter_errors(schema, {key: value}, Path(rel).name)]
    return errors


def load(path: str | Path, *, base_dir: str | Path | None = None, check_files: bool = True,
         allow_outside: bool = False) -> RunParams:
    """Read and validate a params YAML; relative paths resolve against ``base_dir`` (default: :func:`default_base_dir`).

    Raises :class:`ParamsError` naming the file and listing every error found:
    unknown keys (top level, per notebook and in the shared ``parameters:``),
    wrong types, missing notebooks or input files, paths outside the project,
    notebook parameters the notebooks do not declare.
    """
    path = Path(path)
    raw, errors = read_yaml(path)
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping at the top level, found {type(raw).__name__}")
    params: RunParams | None = None
    try:
        params = RunParams.model_validate(raw)
    except ValidationError as exc:
        errors += _schema_errors(exc)
    if check_files:
        base = Path(base_dir) if base_dir else default_base_dir(path)
        errors += _path_errors(raw, base, allow_outside)
        errors += _parameter_errors(raw, base)
    if errors or params is None:
        n = len(errors)
        head = f"{path}: invalid parameters ({n} error{'s' if n != 1 else ''})"
        raise ParamsError("\n".join([head, *(f"  - {e}" for e in errors)]))
    return params


def default_base_dir(params_path: Path) -> Path:
    """The project root relative paths in a params file refer to (see the module docstring).

    The nearest folder at or above the params file's folder that holds a
    ``notebooks/`` folder; else the current working folder.
    """
    params_path = Path(params_path).resolve()
    for folder in params_path.parents:
        if (folder / "notebooks").is_dir():
            return folder
    return Path(os.getcwd())


def load_section(params_path: "str | Path | RunParams", section: str,
                 base_dir: str | Path | None = None) -> "tuple[RunParams, Path, Any]":
    """``(params, base folder, params.<section>)`` from a params file (files not checked yet: the section
    may write them) or from params already loaded; refuses params without that section."""
    if isinstance(params_path, (str, Path)):
        base = Path(base_dir) if base_dir else default_base_dir(Path(params_path))
        cfg = load(params_path, base_dir=base, check_files=False)
    else:
        cfg, base = params_path, Path(base_dir or ".")
    value = getattr(cfg, section)
    if value is None:
        raise ParamsError(f"{params_path}: no {section!r} section")
    return cfg, base, value


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


def notebook_parameter_errors(schema: dict[str, dict[str, Any]], values: dict[str, Any], notebook: str) -> list[str]:
    """Every key of ``values`` the notebook does not declare or whose type does not match (one message each)."""
    errors = []
    for key, value in values.items():
        if key not in schema:
            known = ", ".join(sorted(schema)) or "(none)"
            errors.append(f"notebook {notebook}: unknown parameter '{key}'{_suggest(key, schema)} "
                          f"(it declares: {known})")
            continue
        declared = schema[key]["type"]
        allowed = _TYPE_OK.get(declared)
        if allowed is None or value is None:
            continue  # None-defaulted or untyped parameters accept anything
        if isinstance(value, bool) and declared in ("int", "float"):
            ok = False
        else:
            ok = isinstance(value, allowed)
        if not ok:
            errors.append(f"notebook {notebook}: parameter '{key}' expects {declared} "
                          f"(default {schema[key]['default']}), found {type(value).__name__} {value!r}")
    return errors


def check_notebook_parameters(notebook: str | Path, values: dict[str, Any], *, source: str = "") -> None:
    """Raise :class:`ParamsError` if ``values`` has keys the notebook does not declare or of the wrong type."""
    errors = notebook_parameter_errors(notebook_schema(notebook), values, Path(notebook).name)
    if errors:
        where = f"{source}: " if source else ""
        raise ParamsError(where + "\n  ".join(errors))


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
