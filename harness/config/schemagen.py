"""Builds the shipped JSON Schemas from `names` (the one source of the valid names).

    python -m harness.config.schemagen      # rewrites schemas/*.schema.json

A test checks that the shipped files equal what this module builds, so the names in the schemas,
in `names.py` and in the error messages cannot drift apart.
"""

from __future__ import annotations

import json
from typing import Any

from harness.config import limits
from harness.config import names as N
from harness.config.validate import SCHEMA_DIR

D = "https://json-schema.org/draft/2020-12/schema"


Schema = dict[str, Any]


def enum(kind: str, values: Any) -> Schema:
    return {"type": "string", "enum": list(values), "x-kind": kind}


def one_or_list(item: Schema, expected: str, nested: bool = False) -> Schema:
    """A value or a list of them. if/then/else (not anyOf) so that errors come from the one
    branch the value's shape selects; `nested`: the item itself is a list (pairs, shapes)."""
    test = ({"type": "array", "items": {"type": "array"}} if nested else {"type": "array"})
    return {"if": test,
            "then": {"type": "array", "items": item, "minItems": 1},
            "else": {**item, "x-expected": expected}}


posint = {"type": "integer", "minimum": 1, "x-expected": "a positive integer"}
nonneg = {"type": "integer", "minimum": 0, "x-expected": "an integer ≥ 0"}
posnum = {"type": "number", "exclusiveMinimum": 0, "x-expected": "a positive number"}
nonnegnum = {"type": "number", "minimum": 0, "x-expected": "a number ≥ 0"}
def capped(base: Schema, high: int) -> Schema:
    """`base` (an integer schema) with an upper bound, named in its expectation."""
    return {**base, "maximum": high, "x-expected": f"{base['x-expected']}, at most {high}"}


point_time = {"type": "number", "exclusiveMinimum": 0, "maximum": limits.MAX_POINT_TIME_S,
              "x-expected": f"a positive number of seconds ≤ {limits.MAX_POINT_TIME_S:g}"}
point_time0 = {"type": "number", "minimum": 0, "maximum": limits.MAX_POINT_TIME_S,
               "x-expected": f"a number of seconds in [0, {limits.MAX_POINT_TIME_S:g}]"}
study_time = {"anyOf": [{"type": "number", "exclusiveMinimum": 0,
                         "maximum": limits.MAX_STUDY_TIME_S}, {"type": "null"}],
              "x-expected": f"a positive number of seconds ≤ {limits.MAX_STUDY_TIME_S:g} or null"}
seed = {"type": "integer", "minimum": 0, "maximum": limits.MAX_SEED,
        "x-expected": f"an integer in [0, {limits.MAX_SEED}]"}
rate = {"type": "number", "minimum": 0, "exclusiveMaximum": 1,
        "x-expected": "a pruning rate in [0, 1)"}
pair = {"type": "array", "items": posint, "minItems": 2, "maxItems": 2,
        "x-expected": "a pair of positive integers [a, b]"}
shape3 = {"type": "array", "items": posint, "minItems": 3, "maxItems": 3,
          "x-expected": "[M, K, N] (three positive integers)"}
scalar = {"type": ["string", "number", "boolean", "null"],
          "x-expected": "a scalar (string, number, true/false or null)"}
scalar_or_list = {"if": {"type": "array"}, "then": {"type": "array", "items": scalar},
                  "else": {**scalar, "x-expected": "a scalar or a list of scalars"}}
dtype = enum("dtype", N.DTYPES + N.DTYPE_ALIASES)
device = {"type": "string", "pattern": "^(auto|cpu|cuda(:[0-9]+)?)$",
          "x-expected": "a device: auto, cpu, cuda or cuda:N"}


def obj(props: Schema, required: tuple[str, ...] = (), **extra: Any) -> Schema:
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    out.update(extra)
    return out


rate_range = obj({
    "low": rate, "high": rate,
    "step": {**posnum, "exclusiveMaximum": 1, "x-expected": "a step in (0, 1)"},
    "log": {"type": "boolean"},
}, required=("low", "high"))

space = obj({
    "shape": one_or_list(shape3, "[M, K, N] or a list of them", nested=True),
    "pruning_rate": {"if": {"type": "object"}, "then": rate_range, "else": one_or_list(
        rate, "a rate in [0, 1), a list of them, or {low, high, step}")},
    "group_size": one_or_list(posint, "a positive integer or a list of them"),
    "pattern": one_or_list(enum("pattern", N.PATTERNS), "a pattern name or a list of them"),
    "block": one_or_list(pair, "[rows, cols] or a list of them", nested=True),
    "nm": one_or_list(pair, "[N, M] or a list of them", nested=True),
    "aggregation": one_or_list(enum("aggregation", N.AGGREGATIONS),
                               "an aggregation name or a list of them"),
    "format": one_or_list(enum("format", N.FORMATS), "a format name or a list of them"),
    "backend": one_or_list(enum("backend", N.BACKENDS), "a backend name or a list of them"),
}, required=("shape", "pruning_rate", "format"))

param = enum("parameter", N.PARAMETERS)
cond_value = {
    "if": {"type": "object"},
    "then": obj({"min": {"type": "number"}, "max": {"type": "number"}}, minProperties=1),
    "else": {"if": {"type": "array"},
             "then": {"type": "array", "items": {"if": {"type": "array"},
                                                 "then": {"type": "array", "items": scalar},
                                                 "else": scalar}},
             "else": {**scalar, "x-expected": "a value, a list of values, or {min, max}"}}}
condition = {"type": "object", "propertyNames": param, "additionalProperties": cond_value,
             "minProperties": 1, "x-expected": "a mapping of parameter: value"}
constraint = obj({"when": condition, "require": condition, "exclude": condition,
                  "reason": {"type": "string"}}, minProperties=1)

objective = {
    "if": {"type": "object"},
    "then": obj({"name": enum("objective", N.OBJECTIVES),
                 "direction": enum("direction", N.DIRECTIONS)}, required=("name",)),
    "else": enum("objective", N.OBJECTIVES)}
objectives = {"type": "array", "items": objective, "minItems": 1}

measure = obj({
    "warmup": capped(nonneg, limits.MAX_WARMUP),
    "min_samples": capped(posint, limits.MAX_SAMPLES), "min_time_s": point_time0,
    "max_time_s": point_time,
    "target_rel_noise": {"anyOf": [{**posnum, "exclusiveMaximum": 1}, {"type": "null"}],
                         "x-expected": "a relative noise in (0, 1) or null (device default)"},
    "rounds": capped(posint, limits.MAX_ROUNDS), "mode": enum("mode", N.MODES), "verify": {"type": "boolean"},
    "counters": {"type": "array", "items": {"type": "string", "minLength": 1}},
})

train = obj({
    "model": enum("model", N.MODELS), "dataset": enum("dataset", N.DATASETS),
    "data_path": {"type": ["string", "null"]}, "schedule": enum("schedule", N.SCHEDULES),
    "pretrain_epochs": capped(nonneg, limits.MAX_EPOCHS),
    "finetune_epochs": capped(nonneg, limits.MAX_EPOCHS), "batch_size": posint, "lr": posnum,
    "optimizer": enum("optimizer", N.OPTIMIZERS),
    "candidates": capped(posint, limits.MAX_CANDIDATES),
    "budget_s": study_time,
    "max_accuracy_drop": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                          "x-expected": "a fraction of accuracy between 0 and 1 (0.01 = one "
                                        "point), or null"},
    "min_accuracy": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                     "x-expected": "an accuracy between 0 and 1, or null"},
    "options": {"type": "object", "additionalProperties": scalar,
                "x-expected": "a mapping of option: scalar"},
})


def build() -> dict[str, dict[str, Any]]:
    """{'suite': schema, 'tuner': schema}."""
    suite = {
        "$schema": D, "$id": "harness/suite.schema.json", "title": "harness suite",
        **obj({
            "name": {"type": "string", "minLength": 1}, "description": {"type": "string"},
            "device": device,
            "dtype": one_or_list(dtype, "a dtype name or a list of them"),
            "seed": seed,
            "threads": {"anyOf": [posint, {"type": "null"}],
                        "x-expected": "a positive integer or null"},
            "space": space, "constraints": {"type": "array", "items": constraint},
            "objectives": objectives, "measure": measure,
            "tuner": {"type": ["string", "object"],
                      "x-expected": "a tuner profile path or an inline profile mapping"},
            "train": train,
        }, required=("space",)),
    }

    tuner = {
        "$schema": D, "$id": "harness/tuner.schema.json", "title": "harness tuner profile",
        **obj({
            "name": {"type": "string", "minLength": 1}, "description": {"type": "string"},
            "sampler": enum("sampler", N.SAMPLERS),
            "options": {"type": "object", "additionalProperties": scalar_or_list,
                        "x-expected": "a mapping of option: value"},
            "trials": {"anyOf": [posint, {"type": "null"}],
                       "x-expected": "a positive integer or null (grid: the whole grid)"},
            "timeout_s": study_time,
            "objectives": {"anyOf": [objectives, {"type": "null"}],
                           "x-expected": "a list of objectives or null (the suite's)"},
            "storage": {"type": ["string", "null"]},
        }, required=("sampler",)),
    }
    return {"suite": suite, "tuner": tuner}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    for name, schema in build().items():
        (SCHEMA_DIR / f"{name}.schema.json").write_text(render(schema), encoding="utf-8")


if __name__ == "__main__":
    main()
