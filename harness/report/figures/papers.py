"""The papers whose figures the report reproduces, cited in captions by title and authors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    title: str
    authors: tuple[str, ...]

    def cite(self, figure: str = "") -> str:
        """'Hartenstein, Maier, Cosenza, Juurlink, “Weight Pruning …”, Fig. 3'."""
        where = f", {figure}" if figure else ""
        return f"{', '.join(self.authors)}, “{self.title}”{where}"


HARTENSTEIN = Paper(
    "Weight Pruning for Deep Neural Networks on GPUs",
    ("T. Hartenstein", "D. Maier", "B. Cosenza", "B. Juurlink"),
)

OUYANG = Paper("Pruning in Deep Neural Network", ("Z. T. Ou Yang",))
