"""Types and ranges of each Optuna sampler's options, checked before anything runs.

Optuna checks some of these only when the sampler is built, and others never (a string
`n_startup_trials` fails deep inside the first trial), so a profile's `options:` is checked here,
without importing Optuna, by `harness check` and at the start of `harness tune`. The keys mirror
the constructors' signatures (a test compares them with Optuna's); callables and search spaces
are not options a YAML file can give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.config.limits import MAX_SEED


@dataclass(frozen=True)
class Rule:
    """One option's expected type (bool, int, float or one of `choices`), range and nullability."""

    kind: str  # 'bool' | 'int' | 'float' | 'choice'
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False

    def expected(self) -> str:
        if self.kind == "bool":
            text = "true or false"
        elif self.kind == "choice":
            text = "one of " + ", ".join(self.choices)
        else:
            noun = "an integer" if self.kind == "int" else "a number"
            if self.low is not None and self.high is not None:
                text = f"{noun} in [{self.low:g}, {self.high:g}]"
            elif self.low is not None:
                text = f"{noun} ≥ {self.low:g}"
            else:
                text = noun
        return text + (" or null" if self.nullable else "")

    def ok(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        check = _KINDS[self.kind]
        if not check(value, self):
            return False
        if self.kind in ("int", "float"):
            return (self.low is None or value >= self.low) and \
                (self.high is None or value <= self.high)
        return True


def _is_bool(v: Any, r: Rule) -> bool:
    return isinstance(v, bool)


def _is_int(v: Any, r: Rule) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_float(v: Any, r: Rule) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_choice(v: Any, r: Rule) -> bool:
    return isinstance(v, str) and v in r.choices


_KINDS: dict[str, Callable[[Any, Rule], bool]] = {
    "bool": _is_bool, "int": _is_int, "float": _is_float, "choice": _is_choice}

BOOL = Rule("bool")
NULLABLE_BOOL = Rule("bool", nullable=True)
SEED = Rule("int", 0, MAX_SEED, nullable=True)
PROB = Rule("float", 0.0, 1.0)

RULES: Mapping[str, Mapping[str, Rule]] = {
    "tpe": {"consider_prior": NULLABLE_BOOL, "prior_weight": Rule("float", 1e-12, nullable=True),
            "consider_magic_clip": NULLABLE_BOOL, "consider_endpoints": NULLABLE_BOOL,
            "n_startup_trials": Rule("int", 0), "n_ei_candidates": Rule("int", 1),
            "multivariate": NULLABLE_BOOL, "group": BOOL, "constant_liar": BOOL, "seed": SEED,
            "warn_independent_sampling": NULLABLE_BOOL},
    "nsga2": {"population_size": Rule("int", 2), "mutation_prob": Rule("float", 0.0, 1.0,
                                                                        nullable=True),
              "crossover_prob": PROB, "swapping_prob": PROB, "seed": SEED},
    "gp": {"n_startup_trials": Rule("int", 0), "deterministic_objective": BOOL, "seed": SEED,
           "warn_independent_sampling": BOOL},
    "random": {"seed": SEED},
    "grid": {"seed": SEED},
    "qmc": {"qmc_type": Rule("choice", choices=("sobol", "halton")), "scramble": BOOL,
            "seed": SEED, "warn_asynchronous_seeding": BOOL, "warn_independent_sampling": BOOL},
}


def problems(sampler: str, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(option, message) for every option of `options` that `sampler` would refuse or
    misuse; unknown names are reported by the caller (it lists the valid ones)."""
    rules = RULES.get(sampler, {})
    out = []
    for key, value in options.items():
        rule = rules.get(key)
        if rule is not None and not rule.ok(value):
            out.append((key, f"expected {rule.expected()}, got {value!r}"))
    if sampler == "tpe" and options.get("group") and not options.get("multivariate"):
        out.append(("group", "expected false unless multivariate is true, got true"))
    return out
