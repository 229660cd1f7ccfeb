"""Pictures of a profile: stance shares over time per series (small multiples, intervals as bands) and a
series × claim-type heat map, as one matplotlib figure, written as PNG or inlined as SVG.

A series is one value of the grouping fields (one outlet). Periods with fewer documents than
the floor are drawn with hollow markers; without a time field each series has one point,
drawn with its interval as an error bar. Stances differ in colour, line style and marker,
so the picture also reads in grey.
"""

from __future__ import annotations

import io
import math
import re
from typing import TYPE_CHECKING

import numpy as np

from ..files import atomic_output
from .outputs import display_key
from .records import MISSING, PERIOD

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

STANCE_STYLES = {"regime": ("#d55e00", "-", "o"), "opposition": ("#0072b2", "--", "s"),
                 "neutral": ("#6b6b6b", ":", "^")}
"""Colour, line style and marker of each stance (the report's colours); other stances get grey."""
_COLUMNS = 3
_MAX_TICKS = 6


def profile_figure(table: "pandas.DataFrame", by: list[str], min_documents: int) -> "Figure":
    """The small multiples of stance shares over time and the claim-type heat map, one figure."""
    from matplotlib.figure import Figure

    stance = table[table["task"] == "stance"]
    series = list(dict.fromkeys(zip(*(stance[name] for name in by)))) if len(stance) else []
    periods = _periods(stance)
    rows = max(1, math.ceil(len(series) / _COLUMNS))
    columns = max(1, min(_COLUMNS, len(series)))
    heat_height = 1.4 + 0.32 * max(len(series), 1)
    figure = Figure(figsize=(4.1 * columns, 2.5 * rows + heat_height + 0.6), layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=[2.5 * rows + 0.6, heat_height])
    axes = np.atleast_1d(top.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)).ravel()
    for axis, key in zip(axes, series):
        rows_of_series = _rows_of(stance, by, key)
        _draw_series(axis, rows_of_series, periods, min_documents)
        documents = rows_of_series.drop_duplicates(PERIOD if PERIOD in stance else by)["documents"].sum()
        axis.set_title(f"{display_key(key)} ({documents} docs)", fontsize=9)
    for axis in axes[len(series):]:
        axis.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    top.legend(handles, labels, loc="outside upper right", ncols=len(labels) or 1, fontsize=8, frameon=False)
    top.suptitle("Stance shares of sentences, with 95 % intervals (bootstrap over documents); "
                 f"hollow: fewer than {min_documents} documents", fontsize=9, x=0.01, ha="left")
    _draw_heat_map(bottom.subplots(), table[table["task"] == "claim_type"], by, series)
    return figure


def _rows_of(table: "pandas.DataFrame", by: list[str], key: tuple) -> "pandas.DataFrame":
    """The rows of one series."""
    return table[np.logical_and.reduce([table[name].to_numpy() == value for name, value in zip(by, key)])]


def _periods(stance: "pandas.DataFrame") -> list[str]:
    if PERIOD not in stance:
        return ["all"]
    values = sorted(set(stance[PERIOD]))
    return [value for value in values if value != MISSING] + ([MISSING] if MISSING in values else [])


def _draw_series(axis, rows: "pandas.DataFrame", periods: list[str], min_documents: int) -> None:
    positions = {period: index for index, period in enumerate(periods)}
    for label, by_label in rows.groupby("label", sort=False):
        colour, line, marker = STANCE_STYLES.get(label, ("#999999", "-.", "D"))
        x = np.array([positions[p] for p in by_label[PERIOD]]) if PERIOD in by_label else np.zeros(len(by_label))
        share, low, high = (by_label[name].to_numpy() * 100 for name in ("share", "low", "high"))
        few = by_label["few_documents"].to_numpy()
        if len(periods) > 1:
            axis.fill_between(x, low, high, color=colour, alpha=0.15, linewidth=0)
            axis.plot(x, share, color=colour, linestyle=line, linewidth=1.4, label=label)
        else:
            axis.errorbar(x, share, yerr=[share - low, high - share], color=colour, capsize=3, linestyle="",
                          label=label)
        axis.scatter(x[~few], share[~few], color=colour, marker=marker, s=16, zorder=3)
        axis.scatter(x[few], share[few], facecolors="white", edgecolors=colour, marker=marker, s=16, zorder=3)
    axis.set_ylim(0, 100)
    axis.set_yticks([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100 %"], fontsize=7)
    step = max(1, math.ceil(len(periods) / _MAX_TICKS))
    axis.set_xticks(range(0, len(periods), step), periods[::step], fontsize=7, rotation=30, ha="right")
    axis.grid(axis="y", color="#dddddd", linewidth=0.6)


def _draw_heat_map(axis, claims: "pandas.DataFrame", by: list[str], series: list[tuple]) -> None:
    """Each series' claim-type shares over all its periods (sentences with the label / all its sentences)."""
    labels = list(dict.fromkeys(claims["label"]))
    shares = np.zeros((len(series), len(labels)))
    for row, key in enumerate(series):
        rows = _rows_of(claims, by, key)
        counts = rows.groupby("label", sort=False)["count"].sum()
        sentences = rows.drop_duplicates([PERIOD] if PERIOD in rows else by)["sentences"].sum()
        shares[row] = [counts.get(label, 0) / sentences if sentences else 0 for label in labels]
    from matplotlib.colors import PowerNorm

    # a square-root scale: the small shares that tell outlets apart stay visible beside large ones
    axis.pcolormesh(shares * 100, cmap="Blues", norm=PowerNorm(0.5, vmin=0, vmax=100), edgecolors="white",
                    linewidth=0.5)
    for (row, column), share in np.ndenumerate(shares):
        axis.text(column + 0.5, row + 0.5, f"{share * 100:.0f}", ha="center", va="center", fontsize=7,
                  color="white" if share > 0.35 else "black")
    axis.set_xticks(np.arange(len(labels)) + 0.5, [label.replace("_", " ") for label in labels], fontsize=7,
                    rotation=30, ha="right")
    axis.set_yticks(np.arange(len(series)) + 0.5, [display_key(key) for key in series], fontsize=7)
    axis.invert_yaxis()
    axis.set_title("Claim types: % of each series' sentences over all periods", fontsize=9, loc="left")
    axis.tick_params(length=0)


def save_png(figure: "Figure", path: str) -> None:
    """Write the figure as a PNG, atomically."""
    with atomic_output(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=110)


def svg_markup(figure: "Figure", name: str) -> str:
    """The figure as an ``<svg>`` element to inline in HTML: text as text, no metadata, no XML prologue,
    element ids unique to ``name`` and the same on every run."""
    from matplotlib import rc_context

    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    markup = buffer.getvalue()
    markup = markup[markup.index("<svg"):]
    # inline SVG in HTML needs no namespace declarations
    return re.sub(r'\s+xmlns(?::xlink)?="[^"]*"', "", markup, count=2)
