"""Markov cohort model (discrete time, cohort trace), in the shape of R's heemod.

Structure borrowed from heemod (states with values, a transition matrix that
may depend on the cycle, strategies that differ by a few modifiers, cycle
counting methods) but written from scratch in numpy: no maintained Python
package offers a cohort model with these options.

Conventions (all documented so a run can be checked by hand):

* The trace has rows ``t = 0..n_cycles``; row 0 is the starting distribution
  and row ``k`` is the cohort after the ``k``-th transition. A transition given
  as a callable is called with ``k`` (1-based: the first transition is ``k=1``);
  a 3-D array ``P[k-1]`` holds the matrix of transition ``k``.
* State values (cost per cycle in KRW, utility per cycle) may be constants or
  callables of the row index ``t`` returning one value per state.
* Cycle counting (``method``) turns the per-row values (rows ``t = 0..n_cycles``)
  into one value per cycle ``i = 1..n``: ``"start"`` takes row ``i-1`` (membership
  at the start of each cycle; heemod ``method = "beginning"``), ``"end"`` row ``i``
  (membership at the end: the Briggs et al. spreadsheets; heemod ``"end"``),
  ``"half_cycle"`` (alias ``"life_table"``; heemod's default ``"life-table"``) the
  mean of rows ``i-1`` and ``i``; ``"simpson"`` integrates the rows by Simpson's 1/3 rule.
* Discount timing (``discount_timing``), as heemod's ``discount(x, r, first=)``:
  ``"cycle_start"`` (default; heemod's default ``first = FALSE``) discounts cycle
  ``i`` by ``1 / (1 + r) ** ((i - 1) * cycle_length)``, so the first cycle is not
  discounted; ``"cycle_end"`` (heemod ``first = TRUE``; the Briggs spreadsheets)
  by ``(1 + r) ** -(i * cycle_length)``; ``"row"`` discounts each trace row ``t``
  by ``(1 + r) ** -(t * cycle_length)`` before counting (the only choice for
  ``"simpson"``). With ``"end"`` counting, ``"row"`` equals ``"cycle_end"``; with
  ``"start"`` it equals ``"cycle_start"``. heemod reference: R/utils.R ``discount``
  and R/correct_counts.R (github.com/pierucci/heemod). With cycles shorter than a year
  heemod's ``period`` argument steps the exponent once a year (``trunc``); here the
  exponent is continuous, ``(i - 1) * cycle_length``.
* Discount rates default to 4.5% a year for costs and effects: the Korean
  pharmacoeconomic guideline, 3rd version (HIRA, January 2021) lowered the rate
  from 5% to 4.5% (Bae et al., Appl Health Econ Health Policy 2022;20:467-477).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import integrate

from ._cea import icer as _icer

KOREA_DISCOUNT_RATE = 0.045
Method = Literal["start", "end", "half_cycle", "life_table", "simpson"]
METHODS = ("start", "end", "half_cycle", "life_table", "simpson")
DiscountTiming = Literal["cycle_start", "cycle_end", "row"]
TIMINGS = ("cycle_start", "cycle_end", "row")
TransitionSpec = Any  # (S,S) array | (N,S,S) array | Callable[[int], (S,S)]
ValueSpec = Any  # scalar | mapping state -> value | (S,) array | Callable[[int], (S,) or mapping]


@dataclass
class Strategy:
    """How one strategy differs from the model's base definition.

    Every field left ``None`` falls back to the model's. ``rr`` multiplies all
    off-diagonal transition probabilities (optionally only those *into*
    ``rr_to``), the diagonal taking the complement, as heemod's ``C``; it may be
    a callable of the transition number ``k``. ``extra_costs`` are added to the
    state costs (e.g. the programme's running cost per participant and cycle);
    ``one_off_cost`` is paid once per person at time 0 (undiscounted).
    """

    transition: TransitionSpec | None = None
    state_costs: ValueSpec | None = None
    state_utilities: ValueSpec | None = None
    rr: float | Callable[[int], float] | None = None
    rr_to: Sequence[str] | None = None
    extra_costs: ValueSpec | None = None
    one_off_cost: float = 0.0
    init: Sequence[float] | None = None


class MarkovModel:
    """Discrete-time Markov cohort model with strategies, discounting and cycle counting.

    Parameters
    ----------
    states : state names; the ``dead_states`` contribute no life years.
    transition : base transition (see module docstring).
    state_costs, state_utilities : base per-cycle cost (KRW) and utility per state.
    strategies : name -> :class:`Strategy` (or a dict of its fields). Default one "base" strategy.
    n_cycles : number of cycles (transitions).
    init : starting distribution (proportions or counts); default everybody in the first state.
    cohort_size : the trace is scaled to this many people; results are per person.
    discount_costs, discount_effects : annual rates (default 4.5%, HIRA 2021).
    method : cycle counting, one of ``"start"``, ``"end"``, ``"half_cycle"``/``"life_table"``, ``"simpson"``.
    discount_timing : ``"cycle_start"`` (heemod default: first cycle undiscounted), ``"cycle_end"``
        (heemod ``first = TRUE``, Briggs spreadsheets) or ``"row"`` (see the module docstring).
    cycle_length : cycle length in years (discounting and life years).
    dead_states : states without life years (default: states named like "dead"/"death").
    effect : which outcome the ICER table uses, ``"qalys"`` or ``"life_years"``.

    Attributes (after :meth:`run`)
    ------------------------------
    results_ : per strategy: cost (KRW per person), life_years, qalys, and the same undiscounted.
    icer_table_ : :class:`IcerTable` on ``effect``.
    trace_ : strategy -> DataFrame (rows t = 0..n_cycles, columns states), people per state.
    values_ : strategy -> DataFrame per row t of cost, life years, qalys before and after discounting.
    """

    def __init__(
        self,
        states: Sequence[str],
        transition: TransitionSpec | None = None,
        state_costs: ValueSpec = 0.0,
        state_utilities: ValueSpec = 1.0,
        strategies: Mapping[str, Strategy | Mapping[str, Any]] | None = None,
        *,
        n_cycles: int = 20,
        init: Sequence[float] | None = None,
        cohort_size: float = 1.0,
        discount_costs: float = KOREA_DISCOUNT_RATE,
        discount_effects: float = KOREA_DISCOUNT_RATE,
        method: Method = "half_cycle",
        cycle_length: float = 1.0,
        dead_states: Sequence[str] | None = None,
        effect: Literal["qalys", "life_years"] = "qalys",
        discount_timing: DiscountTiming = "cycle_start",
    ) -> None:
        self.states = list(states)
        self.transition = transition
        self.state_costs = state_costs
        self.state_utilities = state_utilities
        self.strategies = dict(strategies) if strategies is not None else {"base": Strategy()}
        self.n_cycles = n_cycles
        self.init = init
        self.cohort_size = cohort_size
        self.discount_costs = discount_costs
        self.discount_effects = discount_effects
        self.method = method
        self.cycle_length = cycle_length
        self.dead_states = dead_states
        self.effect = effect
        self.discount_timing = discount_timing

    # -- parameters -------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        keys = ("states", "transition", "state_costs", "state_utilities", "strategies", "n_cycles", "init",
                "cohort_size", "discount_costs", "discount_effects", "method", "cycle_length", "dead_states",
                "effect", "discount_timing")
        return {k: getattr(self, k) for k in keys}

    def set_params(self, **params: Any) -> "MarkovModel":
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"MarkovModel has no parameter {k!r}")
            setattr(self, k, v)
        return self

    def _check(self) -> None:
        if len(self.states) < 2 or len(set(self.states)) != len(self.states):
            raise ValueError(f"states must be >= 2 unique names, got {self.states}")
        if not isinstance(self.n_cycles, (int, np.integer)) or self.n_cycles < 1:
            raise ValueError(f"n_cycles must be a positive integer, got {self.n_cycles!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.discount_timing not in TIMINGS:
            raise ValueError(f"discount_timing must be one of {TIMINGS}, got {self.discount_timing!r}")
        discounting = self.discount_costs > 0 or self.discount_effects > 0
        if self.method == "simpson" and self.discount_timing != "row" and discounting:
            raise ValueError("Simpson's rule integrates trace rows: use discount_timing='row' with method='simpson'")
        if self.method == "simpson" and self.n_cycles % 2:
            raise ValueError("Simpson's 1/3 rule needs an even n_cycles")
        for name in ("discount_costs", "discount_effects"):
            r = getattr(self, name)
            if not 0 <= r < 1:
                raise ValueError(f"{name} is an annual rate in [0, 1), got {r}")
        if self.effect not in ("qalys", "life_years"):
            raise ValueError(f"effect must be 'qalys' or 'life_years', got {self.effect!r}")
        if self.cohort_size <= 0 or self.cycle_length <= 0:
            raise ValueError("cohort_size and cycle_length must be positive")

    # -- building blocks ---------------------------------------------------------------------
    def _values(self, spec: ValueSpec, t: int, what: str) -> np.ndarray:
        s = len(self.states)
        v = spec(t) if callable(spec) else spec
        if isinstance(v, Mapping):
            unknown = set(v) - set(self.states)
            if unknown:
                raise ValueError(f"{what}: unknown state(s) {sorted(unknown)}; states are {self.states}")
            return np.array([float(v.get(st, 0.0)) for st in self.states])
        arr = np.asarray(v, dtype=float)
        if arr.ndim == 0:
            return np.full(s, float(arr))
        if arr.shape != (s,):
            raise ValueError(f"{what}: expected {s} values (one per state), got shape {arr.shape}")
        return arr

    def _value_matrix(self, spec: ValueSpec, t: np.ndarray, what: str) -> np.ndarray:
        """Values per row t and state, shape (n_cycles + 1, S); constants are evaluated once."""
        if callable(spec):
            return np.vstack([self._values(spec, int(i), what) for i in t])
        return np.broadcast_to(self._values(spec, 0, what), (len(t), len(self.states)))

    def _matrix(self, spec: TransitionSpec, k: int, strategy: str, st: Strategy) -> np.ndarray:
        s = len(self.states)
        if spec is None:
            raise ValueError(f"strategy {strategy!r}: no transition given (model or strategy)")
        if callable(spec):
            p = np.asarray(spec(k), dtype=float)
        else:
            arr = np.asarray(spec, dtype=float)
            if arr.ndim == 3:
                if arr.shape[0] < self.n_cycles:
                    raise ValueError(f"strategy {strategy!r}: 3-D transition has {arr.shape[0]} matrices, "
                                     f"need n_cycles={self.n_cycles}")
                p = arr[k - 1]
            else:
                p = arr
        if p.shape != (s, s):
            raise ValueError(f"strategy {strategy!r}, transition {k}: expected a {s}x{s} matrix, got {p.shape}")
        if st.rr is not None:
            rr = st.rr(k) if callable(st.rr) else st.rr
            if rr < 0:
                raise ValueError(f"strategy {strategy!r}: rr must be >= 0, got {rr}")
            mask = ~np.eye(s, dtype=bool)
            if st.rr_to is not None:
                cols = np.isin(self.states, list(st.rr_to))
                mask &= cols[None, :]
            p = np.where(mask, p * rr, p)
            off = np.where(np.eye(s, dtype=bool), 0.0, p).sum(axis=1)
            p = np.where(np.eye(s, dtype=bool), 1.0 - off, p)
        if (p < -1e-12).any():
            i, j = np.argwhere(p < -1e-12)[0]
            raise ValueError(f"strategy {strategy!r}, transition {k}: negative probability {p[i, j]:.4g} "
                             f"from {self.states[i]!r} to {self.states[j]!r}")
        rows = p.sum(axis=1)
        if not np.allclose(rows, 1.0, atol=1e-9):
            i = int(np.argmax(np.abs(rows - 1)))
            raise ValueError(f"strategy {strategy!r}, transition {k}: row {self.states[i]!r} sums to {rows[i]:.10g}, not 1")
        return np.clip(p, 0.0, 1.0)

    def _strategy(self, name: str) -> Strategy:
        st = self.strategies[name]
        if isinstance(st, Mapping):
            unknown = set(st) - set(Strategy.__dataclass_fields__)
            if unknown:
                raise ValueError(f"strategy {name!r}: unknown field(s) {sorted(unknown)}")
            st = Strategy(**st)
        if not isinstance(st, Strategy):
            raise TypeError(f"strategy {name!r} must be a Strategy or a dict of its fields")
        return st

    def _dead_mask(self) -> np.ndarray:
        if self.dead_states is not None:
            unknown = set(self.dead_states) - set(self.states)
            if unknown:
                raise ValueError(f"dead_states {sorted(unknown)} not in states {self.states}")
            return np.isin(self.states, list(self.dead_states))
        return np.array([("dead" in s.lower()) or ("death" in s.lower()) or (s in ("사망",)) for s in self.states])

    def _per_cycle(self, per_row: np.ndarray) -> np.ndarray:
        """Values of cycles 1..n from the per-row values, by the counting method (heemod correct_counts)."""
        if self.method == "start":
            return per_row[:-1]
        if self.method == "end":
            return per_row[1:]
        return (per_row[:-1] + per_row[1:]) / 2

    def _discounted(self, per_row: np.ndarray, rate: float) -> float:
        """Total of the per-row values after counting and discounting (``discount_timing``)."""
        n = self.n_cycles
        if self.discount_timing == "row" or self.method == "simpson":  # simpson: undiscounted or "row"
            return self._integrate(per_row / (1.0 + rate) ** (np.arange(n + 1) * self.cycle_length))
        first = 0 if self.discount_timing == "cycle_start" else 1
        d = 1.0 / (1.0 + rate) ** ((np.arange(1, n + 1) - 1 + first) * self.cycle_length)
        return float(np.sum(self._per_cycle(per_row) * d))

    def row_discount(self, rate: float) -> np.ndarray:
        """Discount factor shown for each trace row in ``values_``: the factor of the cycle that counts
        the row (``"start"``: row t in cycle t+1; otherwise the cycle ending at row t). Totals in
        ``results_`` come from the per-cycle values, not from these columns."""
        t = np.arange(self.n_cycles + 1)
        if self.discount_timing == "row" or self.method == "simpson":
            return 1.0 / (1.0 + rate) ** (t * self.cycle_length)
        cycle = t + 1 if self.method == "start" else np.maximum(t, 1)
        first = 0 if self.discount_timing == "cycle_start" else 1
        return 1.0 / (1.0 + rate) ** ((cycle - 1 + first) * self.cycle_length)

    def _integrate(self, per_row: np.ndarray) -> float:
        n = self.n_cycles
        if self.method == "start":
            return float(per_row[:n].sum())
        if self.method == "end":
            return float(per_row[1:n + 1].sum())
        t = np.arange(n + 1, dtype=float)
        if self.method in ("half_cycle", "life_table"):
            return float(integrate.trapezoid(per_row, t))
        return float(integrate.simpson(per_row, x=t))

    # -- run --------------------------------------------------------------------------------
    def run(self) -> "MarkovModel":
        """Compute traces, values and the ICER table; returns ``self``."""
        self._check()
        s, n = len(self.states), self.n_cycles
        alive = (~self._dead_mask()).astype(float)
        t = np.arange(n + 1)
        dc = self.row_discount(self.discount_costs)
        de = self.row_discount(self.discount_effects)
        self.trace_, self.values_, rows = {}, {}, []
        for name in self.strategies:
            st = self._strategy(name)
            init = np.asarray(st.init if st.init is not None else
                              (self.init if self.init is not None else np.eye(s)[0]), dtype=float)
            if init.shape != (s,) or (init < 0).any() or init.sum() <= 0:
                raise ValueError(f"strategy {name!r}: init must be {s} non-negative numbers with a positive sum")
            trace = np.empty((n + 1, s))
            trace[0] = init / init.sum() * self.cohort_size
            spec = st.transition if st.transition is not None else self.transition
            for k in range(1, n + 1):
                trace[k] = trace[k - 1] @ self._matrix(spec, k, name, st)
            cost_spec = st.state_costs if st.state_costs is not None else self.state_costs
            util_spec = st.state_utilities if st.state_utilities is not None else self.state_utilities
            cost_mat = self._value_matrix(cost_spec, t, f"{name} state_costs")
            if st.extra_costs is not None:
                cost_mat = cost_mat + self._value_matrix(st.extra_costs, t, f"{name} extra_costs")
            cost_row = np.einsum("ts,ts->t", trace, cost_mat)
            qaly_row = np.einsum("ts,ts->t", trace, self._value_matrix(util_spec, t, f"{name} state_utilities"))
            qaly_row = qaly_row * self.cycle_length
            ly_row = trace @ alive * self.cycle_length
            per = self.cohort_size
            one_off = st.one_off_cost * self.cohort_size
            res = {
                "strategy": name,
                "cost": (self._discounted(cost_row, self.discount_costs) + one_off) / per,
                "life_years": self._discounted(ly_row, self.discount_effects) / per,
                "qalys": self._discounted(qaly_row, self.discount_effects) / per,
                "cost_undiscounted": (self._integrate(cost_row) + one_off) / per,
                "life_years_undiscounted": self._integrate(ly_row) / per,
                "qalys_undiscounted": self._integrate(qaly_row) / per,
            }
            rows.append(res)
            self.trace_[name] = pd.DataFrame(trace, columns=self.states).rename_axis("cycle")
            self.values_[name] = pd.DataFrame({
                "cycle": t, "cost": cost_row, "life_years": ly_row, "qalys": qaly_row,
                "cost_discounted": cost_row * dc, "life_years_discounted": ly_row * de, "qalys_discounted": qaly_row * de,
            })
        self.results_ = pd.DataFrame(rows)
        self.icer_table_ = _icer(self.results_["cost"].to_numpy(), self.results_[self.effect].to_numpy(),
                                 list(self.results_["strategy"]))
        return self

    fit = run  # lifelines / scikit-learn habit

    def _require_run(self) -> None:
        if not hasattr(self, "results_"):
            raise RuntimeError("call run() first")

    def summary(self) -> pd.DataFrame:
        """Per-strategy results joined with the ICER table columns."""
        self._require_run()
        ic = self.icer_table_.table_[["strategy", "inc_cost", "inc_effect", "icer", "status", "dominated_by"]]
        return self.results_.merge(ic, on="strategy", how="left")

    def trace(self, long: bool = False) -> pd.DataFrame:
        """Cohort trace; ``long=True`` gives strategy, cycle, state, count."""
        self._require_run()
        frames = []
        for name, tr in self.trace_.items():
            if long:
                m = tr.reset_index().melt(id_vars="cycle", var_name="state", value_name="count")
                frames.append(m.assign(strategy=name))
            else:
                frames.append(tr.reset_index().assign(strategy=name))
        return pd.concat(frames, ignore_index=True)

    def plot(self, lang: str = "ko", ax=None):
        """Cohort trace by strategy (one line per state and strategy)."""
        from ._plots import plot_trace

        self._require_run()
        return plot_trace(self.trace(long=True), lang=lang, ax=ax)

    def copy(self, **params: Any) -> "MarkovModel":
        """An unrun copy with some parameters changed."""
        new = MarkovModel(**self.get_params())
        return new.set_params(**params)
