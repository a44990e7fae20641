"""Safe YAML loading, line tracking, and random documents that must load or fail cleanly."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.config import load_suite, load_tuner, loads_suite
from harness.config.yamlload import load, loads
from harness.core.errors import InputError


def test_lines_of_every_path():
    doc = loads("a: 1\nspace:\n  shape:\n    - [1, 2, 3]\n    - [4, 5, 6]\n  g: 4\n", "f.yaml")
    assert doc.data == {"a": 1, "space": {"shape": [[1, 2, 3], [4, 5, 6]], "g": 4}}
    assert doc.line("space.shape[1]") == 5
    assert doc.line("space.shape[1][2]") == 5
    assert doc.line("space.g") == 6
    assert doc.line("space.missing") == 2  # falls back to the parent
    assert str(doc.error("space.g", "bad")) == "f.yaml:6: space.g: bad"


def test_python_tags_are_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    f = tmp_path / "s.yaml"
    f.write_text(f"space: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(InputError, match=r"s\.yaml:1: space: tag .*python/object/apply"):
        load_suite(f)
    assert not marker.exists()
    with pytest.raises(InputError, match="python/name"):
        loads("a: !!python/name:os.system\n")


@pytest.mark.parametrize(("text", "message"), [
    ("a: 1\nb: 2\na: 3\n", "f.yaml:3: a: duplicate key 'a'"),
    ("a:\n  b: 1\n  b: 2\n", "f.yaml:3: a.b: duplicate key 'b'"),
    ("", "f.yaml:1: empty file; expected a mapping of keys"),
    ("# only a comment\n", "f.yaml:1: empty file; expected a mapping of keys"),
    ("42\n", "f.yaml:1: the top level must be a mapping of keys, got int"),
    ("a: &x [*x]\n", "f.yaml:1: a[0]: recursive alias"),
    ("? [1]\n: 2\n", "f.yaml:1: keys must be plain strings, got a collection"),
    ("on: 1\n", "f.yaml:1: keys must be strings, got True (quote it)"),
    ("a: !!binary aGk=\n", "f.yaml:1: a: binary values are not allowed"),
    ("a: !custom 1\n", "f.yaml:1: a: could not determine a constructor for the tag '!custom'"),
])
def test_loader_errors(text, message):
    with pytest.raises(InputError) as exc:
        loads(text, "f.yaml")
    assert str(exc.value) == message


def test_control_characters_are_refused_with_their_line():
    with pytest.raises(InputError, match=r"^f\.yaml:2: invalid YAML: control character #x000c"):
        loads("a: 1\nb: \x0c\n", "f.yaml")


def test_syntax_error_has_line():
    with pytest.raises(InputError, match=r"^f\.yaml:3: invalid YAML: "):
        loads("a: 1\nb: [1,\nc: }\n", "f.yaml")


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match=r"nope\.yaml: file not found"):
        load(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="is a directory"):
        load(tmp_path)
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load(bad)


def test_merge_keys_work():
    doc = loads("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert doc.data["other"] == {"x": 1, "y": 2}


# ---- random documents: load or InputError, never another exception ----

VALID_KEYS = ["name", "description", "device", "dtype", "seed", "threads", "space", "constraints",
              "objectives", "measure", "tuner", "train", "shape", "pruning_rate", "group_size",
              "pattern", "block", "nm", "aggregation", "format", "backend", "when", "require",
              "exclude", "min", "max", "low", "high", "step", "log", "sampler", "options",
              "trials", "direction", "mode", "model", "schedule", "candidates"]
keys = st.one_of(st.sampled_from(VALID_KEYS), st.text(string.ascii_lowercase + "_", max_size=8))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 5000),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1),
    st.sampled_from(["csr", "bsr", "row_group", "rms", "nm", "auto", "cpu", "cuda:0", "fp16",
                     "speedup", "tpe", "grid", "tuners/nsga2.yaml", "", "x"]),
    st.text(max_size=6),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=15)
space_like = st.fixed_dictionaries(
    {"shape": st.one_of(st.just([8, 8, 2]), values), "pruning_rate": values,
     "format": st.one_of(st.just("csr"), values)},
    optional={k: values for k in ("group_size", "pattern", "block", "nm", "aggregation",
                                  "backend")})
documents = st.one_of(
    st.dictionaries(keys, values, max_size=6),
    st.fixed_dictionaries({"space": space_like}, optional={k: values for k in VALID_KEYS[:12] if k != "space"}),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_load_or_raise_input_error(doc):
    text = yaml.safe_dump(doc, allow_unicode=True)
    try:
        suite = loads_suite(text, "random.yaml")
    except InputError as exc:
        error = str(exc)
    else:
        if suite.space.enumerable():
            for _ in zip(range(50), suite.space.grid(device="cpu", dtypes=suite.dtypes),
                         strict=False):
                pass
        return
    assert "\n" not in error
    assert error.startswith("random.yaml")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=string.printable, max_size=80))
def test_random_text_loads_or_raises_input_error(text):
    try:
        loads_suite(text, "t.yaml")
    except InputError as exc:
        error = str(exc)
    else:
        return
    assert "\n" not in error


def test_tuner_profile_from_text_is_validated(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("sampler: grid\n")
    profile = load_tuner(f)
    assert profile.trials is None and profile.name == "p" and profile.path == str(f)
