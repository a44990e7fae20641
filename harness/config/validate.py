"""JSON-Schema validation of loaded YAML, with one-line errors that name file, line and path.

The shipped schemas (`schemas/*.schema.json`, Draft 2020-12) carry two private annotations that
jsonschema ignores and this module reads: `x-expected` (what a value should look like, in words)
and `x-kind` (what an enum's names are: format, pattern, …). Of all errors, jsonschema's
`best_match` picks the most specific one; it becomes `file:line: path: message`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from harness.config.yamlload import Document, join

SCHEMA_DIR = Path(__file__).with_name("schemas")


@cache
def schema(name: str) -> dict[str, Any]:
    """The shipped schema `name` ('suite' or 'tuner') as a dict."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


@cache
def _validator(name: str) -> Any:
    import jsonschema  # lazy: only validation needs it

    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema(name))
    return cls(schema(name))


@cache
def _property_validator(name: str, prop: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(schema(name)["properties"][prop])


def validate_property(doc: Document, name: str, prop: str, data: Any, base: str) -> None:
    """Validate `data` (at YAML path `base`) against property `prop` of schema `name`: the same
    rules where another file format embeds that section (a model suite's `train:`)."""
    from jsonschema.exceptions import best_match

    error = best_match(_property_validator(name, prop).iter_errors(data))
    if error is not None:
        path, message = describe(error)
        raise doc.error(_join_all(base, path), message)


def validate(doc: Document, name: str, data: Any = None, base: str = "") -> None:
    """Validate `data` (default: the whole document) located at YAML path `base` of `doc`
    against schema `name`; raise the most specific error as an InputError."""
    from jsonschema.exceptions import best_match

    value = doc.data if data is None else data
    error = best_match(_validator(name).iter_errors(value))
    if error is not None:
        path, message = describe(error)
        full = _join_all(base, path)
        raise doc.error(full, message)


def _join_all(base: str, parts: Iterable[str | int]) -> str:
    path = base
    for part in parts:
        path = join(path, part)
    return path


def names_list(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _got(value: Any) -> str:
    from harness.core.errors import _short

    return _short(value)


def describe(error: Any) -> tuple[list[str | int], str]:
    """(instance path, message) of one jsonschema error, in the user's words."""
    path: list[str | int] = list(error.absolute_path)
    v, inst, sch = error.validator, error.instance, error.schema
    if "propertyNames" in error.schema_path:
        # the instance is the offending key itself
        kind, valid = sch.get("x-kind", "key"), sch.get("enum", [])
        return [*path, str(inst)], f"unknown {kind} {inst!r}; valid: {names_list(valid)}"
    if v == "additionalProperties" and sch.get("additionalProperties") is False:
        valid = list(sch.get("properties", {}))
        extra = sorted(k for k in inst if k not in valid)
        return [*path, extra[0]], f"unknown key {extra[0]!r}; valid: {names_list(valid)}"
    if v == "required":
        missing = [k for k in error.validator_value if k not in inst]
        return [*path, missing[0]], f"missing required key {missing[0]!r}"
    if v == "enum":
        kind = sch.get("x-kind") or (path[-1] if path and isinstance(path[-1], str) else "value")
        return path, f"unknown {kind} {_got(inst)}; valid: {names_list(error.validator_value)}"
    expected = _expected(error)
    if expected:
        return path, f"expected {expected}, got {_got(inst)}"
    if v == "minProperties":
        return path, "expected a non-empty mapping"
    if v == "minItems":
        return path, f"expected at least {error.validator_value} item(s), got {_got(inst)}"
    if v == "maxItems":
        return path, f"expected at most {error.validator_value} item(s), got {_got(inst)}"
    if v == "minLength":
        return path, f"expected a non-empty string, got {_got(inst)}"
    if v == "type":
        want = error.validator_value
        types: list[str] = want if isinstance(want, list) else [want]
        words = [_TYPE_WORDS.get(w, w) for w in types]
        return path, f"expected {' or '.join(words)}, got {_got(inst)}"
    return path, error.message


_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string",
               "integer": "an integer", "number": "a number", "boolean": "true or false",
               "null": "null"}


def _expected(error: Any) -> str | None:
    """The outermost `x-expected` among this error and its parents at the same instance path
    (so `group_size: -4` reads 'a positive integer or a list of them', while an item of a list
    reads 'a positive integer')."""
    found, here, target = None, error, list(error.absolute_path)
    while here is not None and list(here.absolute_path) == target:
        if isinstance(here.schema, dict) and "x-expected" in here.schema:
            found = here.schema["x-expected"]
        here = here.parent
    return found
