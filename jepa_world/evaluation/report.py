"""The report of a suite run: ``report.json`` (the source of truth), ``report.md`` (one table of
the model against its baselines) and PNG plots, and the same metrics and plots sent to the run's
Lightning loggers.

:class:`Report` is a ``dict`` (``report["metrics"]`` is the flat metric dict); each suite kind
subclasses it to say what its table rows, summary lines and plots are, and the writing, the
markdown layout and the logging are the same for every kind. matplotlib is imported only when a
plot is drawn (Agg backend).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "Log",
    "Report",
    "format_number",
    "print_to_stderr",
    "pyplot",
    "save_figure",
    "quiet",
]

Log = Callable[[str], None]
"""Receives one progress line of a run (``print``, :func:`print_to_stderr`, :func:`quiet`)."""


def quiet(_: str) -> None:
    """A log that drops every line."""
    return None


def print_to_stderr(line: str) -> None:
    """A log that prints each line to stderr at once (stdout keeps the table)."""
    print(line, file=sys.stderr, flush=True)


def format_number(value: Any) -> str:
    """A table cell: "—" for a missing or NaN value, ints as they are, floats with 3 decimals
    (1 from 100 up)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.3f}"


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Lay out ``fig``, write it as a PNG (100 dpi) to ``path`` and close it: every report plot."""
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    pyplot().close(fig)
    return out


def _json_default(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _loggers(loggers: Any) -> list[Any]:
    if loggers is None:
        return []
    if isinstance(loggers, (list, tuple)):
        return [lg for lg in loggers if lg is not None]
    return [loggers]


class Report(dict):
    """A suite's report: a dict with at least ``suite`` (name) and ``metrics`` (flat, floats).

    Subclasses define :attr:`title`, :meth:`columns` (the table's value columns, ``model``
    first), :meth:`rows`, :meth:`summary_lines` and :meth:`plots`; ``table``, ``write`` and
    ``log_to`` work for every kind.
    """

    title = "Report"
    """Heading of report.md: ``# <title>: <suite name>``."""
    metric_prefix = "probe/"
    """Prefix of every metric and plot logged to Lightning loggers."""

    # ---------------------------------------------------------------- what a kind provides
    def columns(self) -> list[str]:
        """The table's value columns; the first column (``metric``) names the row."""
        return ["model"]

    def rows(self) -> list[tuple[str, list[str]]]:
        """``(metric, cells)`` per table row, one cell per column."""
        return [(key, [format_number(value)]) for key, value in self["metrics"].items()]

    def summary_lines(self) -> list[str]:
        """Markdown lines between the heading and the table (protocol, model, timing)."""
        return []

    def footer_lines(self) -> list[str]:
        """Markdown lines after the table (notes), before the plots."""
        return []

    def plots(self) -> dict[str, tuple[str, Callable[[Path], Path]]]:
        """Plots this report can draw: name -> (file name, draw(path) -> path)."""
        return {}

    # ---------------------------------------------------------------- shared behaviour
    def table(self) -> str:
        """One markdown table: a row per metric, a column for the model and each baseline."""
        columns = self.columns()
        lines = ["| metric | " + " | ".join(columns) + " |", "|" + " --- |" * (len(columns) + 1)]
        lines += [f"| {key} | " + " | ".join(cells) + " |" for key, cells in self.rows()]
        return "\n".join(lines)

    def markdown(self, images: Iterable[tuple[str, str]] = ()) -> str:
        """report.md: heading, summary, table, footer, then ``![name](file)`` per plot."""
        text = [f"# {self.title}: {self.get('suite')}", "", *self.summary_lines(), ""]
        text += [self.table(), "", *self.footer_lines()]
        text += [f"![{name}]({filename})" for name, filename in images]
        return "\n".join(text) + "\n"

    def write(self, out: str | os.PathLike) -> dict[str, Path]:
        """Draw the plots, then write report.json and report.md into ``out``.

        Returns the paths by name (``json``, ``md`` and one per plot); the report records them
        under ``files`` and its folder under ``out``.
        """
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"json": folder / "report.json", "md": folder / "report.md"}
        images = []
        for name, (filename, draw) in self.plots().items():
            paths[name] = draw(folder / filename)
            images.append((name, filename))
        self["out"] = str(folder)
        self["files"] = {name: str(path) for name, path in paths.items()}
        paths["json"].write_text(json.dumps(self, indent=2, default=_json_default) + "\n")
        paths["md"].write_text(self.markdown(images))
        return paths

    def log_to(
        self, loggers: Any, out: str | os.PathLike | None = None, step: int | None = None
    ) -> None:
        """Log the numeric metrics (and, with ``out``, its PNG plots) to Lightning logger(s).

        Takes one logger, a list (``trainer.loggers``) or None (nothing happens). Images go to
        loggers with ``log_image`` (e.g. ``WandbLogger``); ``out`` defaults to the folder the
        report was written to.
        """
        out = out if out is not None else self.get("out")
        metrics = {
            f"{self.metric_prefix}{k}": float(v)
            for k, v in self["metrics"].items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        for logger in _loggers(loggers):
            logger.log_metrics(metrics, step=step)
            if out is not None and hasattr(logger, "log_image"):
                for path in sorted(Path(out).glob("*.png")):
                    logger.log_image(key=f"{self.metric_prefix}{path.stem}", images=[str(path)])
