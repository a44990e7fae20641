"""Safe YAML loading that remembers where every value came from.

Only plain data is built (a `yaml.SafeLoader` subclass walks the composed node tree itself), so a
tag such as `!!python/object/apply` is refused with an InputError instead of being executed.
Every node's line is kept under its *YAML path* (`space.group_size`, `space.shape[1]`), so later
validation can report `file:line: path: message` on one line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.core.errors import InputError

_MAX_NODES = 200_000  # guards against alias bombs ("billion laughs")


# libyaml's parser when present (much faster); both build scalars with the safe constructor only
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# _Base is picked at runtime (a variable, not a class mypy can see): hence the ignore
class _Loader(_Base):  # type: ignore[misc,valid-type]
    """Safe loader: scalars are built by the safe constructor; collections by `_Builder`."""


def join(path: str, key: str | int) -> str:
    """YAML path of a child: join('space', 'shape') → 'space.shape'; join('space.shape', 1) →
    'space.shape[1]'."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


@dataclass(frozen=True)
class Document:
    """A loaded YAML mapping: plain values, the file name as given, and path → line."""

    data: dict[str, Any]
    file: str
    lines: Mapping[str, int]

    def line(self, path: str) -> int | None:
        """Line of `path`, or of its nearest ancestor that has one (a missing key → its parent)."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""

    def error(self, path: str, message: str | None = None, **kw: Any) -> InputError:
        """An InputError located at `path` in this document (see InputError for `kw`)."""
        return InputError(message, file=self.file, line=self.line(path), path=path or None, **kw)

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        """`value` (found at `path`) as a mapping with only `allowed` keys; {} when absent."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, expected="a mapping", value=value)
        self.refuse_unknown(value, path, allowed)
        return value

    def refuse_unknown(self, mapping: Mapping[str, Any], path: str,
                       allowed: tuple[str, ...]) -> None:
        """An InputError at the first key of `mapping` (found at `path`) not in `allowed`, for
        the loaders that validate by hand (graph and model suites; GEMM suites use the schema)."""
        for k in mapping:
            if k not in allowed:
                raise self.error(f"{path}.{k}" if path else k,
                                 f"unknown key {k!r}; expected one of {', '.join(allowed)}")


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Builder:
    def __init__(self, loader: _Loader, file: str) -> None:
        self.loader, self.file = loader, file
        self.lines: dict[str, int] = {}
        self.count = 0
        self.active: set[int] = set()  # nodes on the current branch: a recursive alias is an error

    def fail(self, node: yaml.Node, path: str, message: str) -> InputError:
        return InputError(message, file=self.file, line=_line(node), path=path or None)

    def build(self, node: yaml.Node, path: str) -> Any:
        self.count += 1
        if self.count > _MAX_NODES:
            raise self.fail(node, path, f"document too large (more than {_MAX_NODES} values)")
        self.lines.setdefault(path, _line(node))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.active:
            raise self.fail(node, path, "recursive alias")
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != "tag:yaml.org,2002:seq":
                    raise self.fail(node, path, f"tag {node.tag!r} is not allowed")
                return [self.build(item, join(path, i)) for i, item in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:  # unknown tag, bad int/float/timestamp, …
            raise self.fail(node, path, _problem(exc)) from None
        if isinstance(value, bytes | bytearray):
            raise self.fail(node, path, "binary values are not allowed")
        if isinstance(value, float) and not math.isfinite(value):
            # NaN compares false with every bound, so it would slip through schema checks
            raise self.fail(node, path, f"expected a finite number, got {value}")
        return value

    def mapping(self, node: yaml.MappingNode, path: str) -> dict[str, Any]:
        if node.tag not in ("tag:yaml.org,2002:map",):
            raise self.fail(node, path, f"tag {node.tag!r} is not allowed")
        try:
            self.loader.flatten_mapping(node)  # resolves `<<` merge keys
        except yaml.YAMLError as exc:
            raise self.fail(node, path, _problem(exc)) from None
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, path, "keys must be plain strings, got a collection")
            key = self.scalar(key_node, path)
            if not isinstance(key, str):
                raise self.fail(key_node, path, f"keys must be strings, got {key!r} (quote it)")
            child = join(path, key)
            if key in out:
                raise self.fail(key_node, child, f"duplicate key {key!r}")
            self.lines[child] = _line(key_node)
            out[key] = self.build(value_node, child)
        return out


def _problem(exc: yaml.YAMLError) -> str:
    text = getattr(exc, "problem", None) or str(exc)
    return " ".join(str(text).split())


def loads(text: str, file: str = "<string>") -> Document:
    """Parse YAML `text` (named `file` in errors) into a Document; the top level must be a mapping."""
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad:  # checked here so both parsers (libyaml, pure Python) report it alike, with a line
        raise InputError(f"invalid YAML: control character #x{ord(bad.group()):04x} is not "
                         "allowed", file=file, line=text.count("\n", 0, bad.start()) + 1)
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise InputError("invalid YAML: nesting too deep", file=file) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            raise InputError(f"invalid YAML: {_problem(exc)}", file=file, line=line) from None
        except yaml.YAMLError as exc:
            raise InputError(f"invalid YAML: {_problem(exc)}", file=file) from None
        if node is None:
            raise InputError("empty file; expected a mapping of keys", file=file, line=1)
        builder = _Builder(loader, file)
        try:
            data = builder.build(node, "")
        except RecursionError:
            raise InputError("nesting too deep", file=file, line=_line(node)) from None
        if not isinstance(data, dict):
            kind = type(data).__name__ if data is not None else "null"
            raise InputError(f"the top level must be a mapping of keys, got {kind}",
                             file=file, line=_line(node))
        return Document(data=data, file=file, lines=dict(builder.lines))
    finally:
        loader.dispose()


def read_capped(path: str | Path, limit: int | None = None) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes (default MAX_INPUT_BYTES).

    The file is opened non-blocking and checked with fstat before anything is read: a FIFO
    (which would block for ever), a device such as /dev/zero (endless) or a folder is refused
    at once, and a large file is refused by its size, not after parsing it. Errors name the
    file exactly as given."""
    import os
    import stat

    from harness.config.limits import MAX_INPUT_BYTES

    limit = MAX_INPUT_BYTES if limit is None else limit
    file = str(path)
    if "\x00" in file:
        raise InputError("expected a file path without NUL", file=repr(file))
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError("file not found", file=file) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a YAML file", file=file) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=file) from None
    st = os.fstat(fd)
    problem = None
    if stat.S_ISDIR(st.st_mode):
        problem = "is a directory, expected a YAML file"
    elif not stat.S_ISREG(st.st_mode):
        problem = "expected a regular file (not a pipe, device or socket)"
    elif st.st_size > limit:
        problem = f"file too large ({st.st_size} bytes); expected at most {limit} bytes"
    if problem:
        os.close(fd)
        raise InputError(problem, file=file)
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", file=file) from None
    if len(data) > limit:  # grew while being read
        raise InputError(f"file too large; expected at most {limit} bytes", file=file)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file) \
            from None


def load(path: str | Path) -> Document:
    """Read (see `read_capped`) and parse a YAML file; the file is named in errors exactly as
    `path` was given."""
    return loads(read_capped(path), str(path))
