"""A profile written out: CSV or Parquet (with the method in the header), JSON, and tables for the terminal.

The tidy table (one row per group and label) is what files hold; the terminal shows one
row per group: documents, sentences, each stance's share with its interval, the review
and out-of-scope shares and the leading claim type.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..files import atomic_output

if TYPE_CHECKING:
    import pandas

TABLE_FORMATS = ("csv", "parquet")
_ROUNDED = ("share", "low", "high", "mean_stance_confidence", "mean_claim_confidence", "share_before", "share_after",
            "change")


def table_format(path: str) -> str:
    """The format of a profile output file, by its extension."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in TABLE_FORMATS:
        raise InputError("a profile is written as .csv or .parquet", path=path)
    return suffix


def write_table(table: "pandas.DataFrame", path: str, metadata: dict) -> None:
    """Write the tidy profile to ``path`` (.csv: ``#`` header lines describing the method; .parquet: in
    the schema's ``stancekit`` metadata), atomically."""
    if table_format(path) == "csv":
        with atomic_output(path) as handle:
            handle.write("".join(f"# {line}\n" for line in header_lines(metadata)))
            table.round({name: 4 for name in _ROUNDED if name in table}).to_csv(handle, index=False,
                                                                                 lineterminator="\n")
        return
    import pyarrow
    import pyarrow.parquet as pq

    arrow = pyarrow.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}),
                                           b"stancekit": json.dumps(metadata, ensure_ascii=False).encode("utf-8")})
    with atomic_output(path, binary=True) as handle:
        pq.write_table(arrow, handle)


def header_lines(metadata: dict) -> list[str]:
    """The method and counts of a profile as lines of text (CSV header, terminal footer, page)."""
    lines = [f"stancekit profile: {metadata['intervals']}",
             f"documents: {metadata['documents']}; records skipped: {metadata['records_skipped']}"]
    if metadata.get("model"):
        lines.append(f"labels from model {metadata['model']}")
    return lines


def to_json(table: "pandas.DataFrame", changes: "pandas.DataFrame | None", metadata: dict) -> str:
    """The profile, its moves (when computed) and its metadata as one JSON document (NaN as null)."""
    document = {"metadata": metadata, "profile": _records(table)}
    if changes is not None:
        document["changes"] = _records(changes)
    return json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False)


def _records(frame: "pandas.DataFrame") -> list[dict]:
    return [{key: (None if isinstance(value, float) and math.isnan(value) else value) for key, value in row.items()}
            for row in frame.astype(object).to_dict(orient="records")]


def percent(share: float) -> str:
    """A share as a whole percentage (``<1`` for small shares that are not zero)."""
    if share > 0 and share < 0.005:
        return "<1"
    return f"{share * 100:.0f}"


def share_with_interval(share: float, low: float, high: float) -> str:
    """``42 [31–55]``: a share and its interval, in percent (``0`` when the label never occurs)."""
    if share == low == high == 0:
        return "0"
    return f"{percent(share)} [{percent(low)}–{percent(high)}]"


def wide_rows(table: "pandas.DataFrame", keys: list[str]) -> list[dict]:
    """One dict per group: its key values, counts and, per (task, label), the row of the tidy table."""
    groups: dict[tuple, dict] = {}
    for row in table.to_dict(orient="records"):
        key = tuple(row[name] for name in keys)
        group = groups.setdefault(key, {"key": key, "documents": row["documents"], "sentences": row["sentences"],
                                        "few_documents": row["few_documents"], "labels": {}})
        group["labels"][row["task"], row["label"]] = row
    return list(groups.values())


def terminal_table(table: "pandas.DataFrame", keys: list[str], metadata: dict) -> str:
    """The profile as a fixed-width table: one row per group, then what the numbers mean."""
    rows = wide_rows(table, keys)
    stances = [label for task, label in (rows[0]["labels"] if rows else {}) if task == "stance"]
    header = [*keys, "docs", "sents", *stances, "review", "out of scope", "leading claim type"]
    body = []
    for row in rows:
        labels = row["labels"]
        claims = [value for (task, label), value in labels.items() if task == "claim_type" and label != "none"]
        leading = max(claims, key=lambda value: value["share"], default=None)
        body.append([*map(str, row["key"]), f"{row['documents']}{'*' if row['few_documents'] else ''}",
                     str(row["sentences"]),
                     *(share_with_interval(*(labels["stance", s][k] for k in ("share", "low", "high")))
                       for s in stances),
                     percent(labels["flag", "review"]["share"]), percent(labels["flag", "out of scope"]["share"]),
                     (f"{leading['label']} {share_with_interval(leading['share'], leading['low'], leading['high'])}"
                      if leading and leading["count"] else "-")])
    notes = [f"shares in % of sentences [95 % interval]; * fewer than {metadata['min_documents']} documents: "
             "the interval is unreliable", *header_lines(metadata)]
    return _fixed_width(header, body) + "".join(f"# {line}\n" for line in notes)


def changes_table(changes: "pandas.DataFrame", by: list[str], description: dict) -> str:
    """The moves that count as changes, as a fixed-width table with a line on how they were tested."""
    listed = changes[changes["changed"]].sort_values("change", key=abs, ascending=False)
    title = (f"changes: {description['changed']} of {description['tested']} tested moves "
             f"({description['moves'] - description['tested']} not tested); adjustment: {description['adjustment']}\n")
    if listed.empty:
        return title
    header = [*by, "from", "to", "task", "label", "from %", "to %", "change [95 % interval]", "docs"]
    body = [[*(str(row[name]) for name in by), row["period_before"], row["period_after"], row["task"], row["label"],
             percent(row["share_before"]), percent(row["share_after"]),
             f"{row['change'] * 100:+.0f} [{row['low'] * 100:+.0f}, {row['high'] * 100:+.0f}]",
             f"{row['documents_before']}→{row['documents_after']}"]
            for row in listed.to_dict(orient="records")]
    return title + _fixed_width(header, body)


def _fixed_width(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *body)]
    return "".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() + "\n"
                   for line in [header, *body])


def display_key(values: tuple) -> str:
    """A group's key values as one label: ``Outlet / 2025-03``."""
    return " / ".join(map(str, values))
