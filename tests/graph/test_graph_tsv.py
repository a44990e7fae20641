"""Official TSV files: round trip of 1-based triples and one-line errors naming the file."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.errors import InputError
from harness.graph import tsv


def _write_layer(root, neurons, k, rows):
    path = tsv.layer_path(root, neurons, k)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{r}\t{c}\t{v}\n" for r, c, v in rows))
    return path


def test_layers_images_and_categories_are_read_one_based(tmp_path):
    _write_layer(tmp_path, 4, 1, [(1, 2, 0.0625), (4, 4, 0.0625)])
    _write_layer(tmp_path, 4, 2, [(2, 1, 0.5)])
    tsv.images_path(tmp_path, 4).write_text("1\t1\t1\n3\t4\t1\n")
    tsv.categories_path(tmp_path, 4, 2).write_text("3\n1\n")
    w1, w2 = tsv.load_layers(tmp_path, 4, 2)
    assert w1.toarray()[0, 1] == np.float32(0.0625) and w1.toarray()[3, 3] == np.float32(0.0625)
    assert w1.nnz == 2 and w2.toarray()[1, 0] == 0.5
    images = tsv.load_images(tsv.images_path(tmp_path, 4), 4)
    assert images.shape == (3, 4) and images.toarray()[2, 3] == 1 and images.nnz == 2
    assert tsv.load_categories(tsv.categories_path(tmp_path, 4, 2)).tolist() == [0, 2]


def test_missing_file_names_it(tmp_path):
    _write_layer(tmp_path, 4, 1, [(1, 1, 1.0)])
    with pytest.raises(InputError) as err:
        tsv.load_layers(tmp_path, 4, 2)
    assert str(err.value) == f"{tsv.layer_path(tmp_path, 4, 2)}: file not found"


@pytest.mark.parametrize(("text", "message"), [
    ("1\t2\t0.5\n1\t2\n", ":2: expected 3 tab-separated numbers per line"),
    ("1\t2\t0.5\n1\tx\t1\n", ":2: expected 3 tab-separated numbers per line, got 'x'"),
    ("1\t5\t0.5\n", ":1: column index 5 out of range; expected an integer 1…4 (1-based)"),
    ("0\t1\t0.5\n", ":1: row index 0 out of range; expected an integer 1…4 (1-based)"),
    ("", ": empty file"),
])
def test_malformed_layer_is_one_line_naming_file_and_line(tmp_path, text, message):
    path = tsv.layer_path(tmp_path, 4, 1)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(InputError) as err:
        tsv.load_layers(tmp_path, 4, 1)
    assert str(err.value).startswith(str(path) + message)
    assert "\n" not in str(err.value)


def test_bad_category_index(tmp_path):
    path = tmp_path / "cats.tsv"
    path.write_text("1\n0\n")
    with pytest.raises(InputError, match=r"cats.tsv:2: expected a positive integer"):
        tsv.load_categories(path)
