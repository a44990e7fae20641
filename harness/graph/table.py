"""Tables in the layout of the seed's Tables IV–IX (time and rate per neurons × layers × variant),
with the paper's published GPU figures beside ours, labelled as the paper's.

Published figures: "Performance of Training Sparse Deep Neural Networks on GPUs", Tables IV–VI
(time, s) and VII–IX (rate, edges/s), 60 000 inputs, cuSPARSE on a GeForce GTX 1080 and a Tesla
V100. The seed titles Tables VIII and IX "with buffer" like VII; their values are the rates of
Tables V (without buffer) and VI (with filter) — e.g. 60 000 · 32·1024·120 / 7.2919 s = 3.2355e10
— and are labelled by that method here. None: not enough memory on that GPU.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.graph.bench import Result

_SIZES = [(1024, 120), (1024, 480), (1024, 1920), (4096, 120), (4096, 480), (4096, 1920),
          (16384, 120), (16384, 480), (16384, 1920)]


def _table(times: Sequence[float | None]) -> dict[tuple[int, int], float | None]:
    return dict(zip(_SIZES, times, strict=True))


# (method, gpu) → (neurons, layers) → seconds, Tables IV–VI
PAPER_TIME_S = {
    ("with buffer", "GTX 1080"): _table([9.81046, 35.1718, 135.981, 55.9797, 208.488, 815.878,
                                         None, None, None]),
    ("with buffer", "V100"): _table([2.78748, 9.78644, 39.3201, 14.5041, 56.5171, 228.183,
                                     99.4049, 403.006, 1610.5]),
    ("without buffer", "GTX 1080"): _table([7.2919, 26.1885, 101.04, 90.2148, 345.722, 1372.07,
                                            None, None, None]),
    ("without buffer", "V100"): _table([3.90375, 14.6403, 57.7488, 49.9786, 197.274, 788.416,
                                        601.705, 2420.39, 9737.52]),
    ("with filter", "GTX 1080"): _table([9.70645, 36.2174, 139.968, 51.5869, 200.405, 810.675,
                                         3253.21, 4781.61, None]),
    ("with filter", "V100"): _table([2.75839, 9.7138, 38.2703, 13.9857, 54.1294, 223.583,
                                     98.1582, 399.274, 1588.71]),
}
# Tables VII–IX, edges per second
PAPER_RATE = {
    ("with buffer", "GTX 1080"): _table([2.40488e10, 2.68317e10, 2.77603e10, 1.68582e10,
                                         1.81059e10, 1.85071e10, None, None, None]),
    ("with buffer", "V100"): _table([8.43365e10, 9.64312e10, 9.60037e10, 6.50565e10, 6.67917e10,
                                     6.61727e10, 3.79747e10, 3.74672e10, 3.75027e10]),
    ("without buffer", "GTX 1080"): _table([3.2355e10, 3.60356e10, 3.73602e10, 1.04608e10,
                                            1.09188e10, 1.10049e10, None, None, None]),
    ("without buffer", "V100"): _table([6.04366e10, 6.44601e10, 6.53671e10, 1.88824e10,
                                        1.91352e10, 1.91517e10, 6.27363e9, 6.22304e9, 6.20261e9]),
    ("with filter", "GTX 1080"): _table([2.43065e10, 2.6057e10, 2.69695e10, 4.70905e9, 4.65646e9,
                                         4.64142e9, 7.89457e8, None, None]),
    ("with filter", "V100"): _table([8.56385e10, 8.92383e10, 9.06312e10, 6.71254e10, 6.69231e10,
                                     6.60102e10, 3.92834e10, 3.83412e10, 3.82711e10]),
}
PAPER_INPUTS = 60_000


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def _grid(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def results_table(results: Iterable[Result]) -> str:
    """Time (s) and rate (edges/s) per neurons × layers (rows) and variant (columns)."""
    results = list(results)
    variants = list(dict.fromkeys(r.variant for r in results))
    sizes = list(dict.fromkeys((r.neurons, r.layers) for r in results))
    by = {(r.neurons, r.layers, r.variant): r for r in results}
    out = []
    for title, cell in (("Time (s)", lambda r: _num(r.time_s, ".4g")),
                        ("Rate (edges/s, inputs × connections / time)",
                         lambda r: _num(r.rate, ".4e"))):
        rows = []
        for n, layers in sizes:
            row = [str(n), str(layers)]
            for v in variants:
                r = by.get((n, layers, v))
                row.append("" if r is None else cell(r) if r.status == "ok" else r.status)
            rows.append(row)
        out.append(f"{title}, {results[0].inputs if results else 0} inputs\n"
                   + _grid(rows, ["neurons", "layers", *variants]))
    growth = layer_growth(results)
    if growth:
        out.append("Time against layers (ratio of times; 4.0 is linear in layers)\n" + growth)
    notes = [f"{r.variant} {r.neurons}x{r.layers}: {r.status}: {r.reason}"
             for r in results if r.status != "ok"]
    if notes:
        out.append("Not rated:\n  " + "\n  ".join(notes))
    return "\n\n".join(out)


def layer_growth(results: Sequence[Result]) -> str:
    """time(4L)/time(L) per variant and neurons, where both were measured (the seed: near 4
    from 480 to 1920 layers, less from 120 to 480)."""
    by = {(r.neurons, r.layers, r.variant): r.time_s for r in results if r.time_s}
    rows = []
    for (n, layers, v), t in sorted(by.items()):
        t4 = by.get((n, 4 * layers, v))
        if t4:
            rows.append([v, str(n), f"{layers}→{4 * layers}", f"{t4 / t:.2f}"])
    return _grid(rows, ["variant", "neurons", "layers", "time ratio"]) if rows else ""


def paper_table(sizes: Iterable[tuple[int, int]] | None = None) -> str:
    """The paper's published times and rates (60 000 inputs, cuSPARSE) for `sizes`."""
    sizes = list(sizes) if sizes is not None else _SIZES
    keys = list(PAPER_TIME_S)
    rows = []
    for size in sizes:
        if size not in _SIZES:
            continue
        row = [str(size[0]), str(size[1])]
        for k in keys:
            t, r = PAPER_TIME_S[k][size], PAPER_RATE[k][size]
            row.append("n/a (memory)" if t is None and r is None
                       else f"{_num(t, '.4g')} s / {_num(r, '.3e')}")
        rows.append(row)
    if not rows:
        return ""
    header = ["neurons", "layers", *[f"paper {gpu} {m}" for m, gpu in keys]]
    return (f"Published (the paper's, {PAPER_INPUTS} inputs, cuSPARSE; time / rate in edges/s)\n"
            + _grid(rows, header))
