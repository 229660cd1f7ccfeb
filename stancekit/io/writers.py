"""Output formats: records written as JSON Lines or CSV.

A writer is made with ``Writer(stream, **options)`` (each takes the options it needs and
ignores the others) and takes records a batch at a time with ``write``; a job picks it
from its table of output formats (``stancekit.jobs.local.WRITERS``, which adds the table
view of ``stancekit.views``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, Iterable, Protocol

from ..errors import InputError
from .lines import STDIN


class Writer(Protocol):
    """What every output format provides: records written a batch at a time."""

    def write(self, records: Iterable[dict]) -> None: ...


def flatten_for_csv(record: dict) -> dict:
    """Flatten score dicts into ``<name>_<label>`` columns and other nested values into JSON text."""
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict) and key.endswith("_scores"):
            flat.update({f"{key[:-1]}_{label}": score for label, score in value.items()})
        elif isinstance(value, (dict, list)):
            flat[key] = json.dumps(value, ensure_ascii=False)
        else:
            flat[key] = value
    return flat


class JsonLinesWriter:
    """Writes records as JSON Lines."""

    def __init__(self, stream: IO[str], **_: object) -> None:
        self.stream = stream
        self._encode = json.JSONEncoder(ensure_ascii=False).encode

    def write(self, records: Iterable[dict]) -> None:
        """Write a batch of records."""
        encode = self._encode
        self.stream.write("".join([encode(record) + "\n" for record in records]))


class CsvWriter:
    """Writes records as CSV with a fixed set of columns (scores flattened into columns).

    ``columns`` fixes the columns (default: those of the first record); a record with a field
    outside them raises InputError naming the field: no value is ever dropped silently.
    """

    def __init__(self, stream: IO[str], columns: list[str] | None = None, write_header: bool = True,
                 **_: object) -> None:
        self.stream = stream
        self.columns = columns
        self.write_header = write_header
        self._csv: csv.DictWriter | None = None

    def write(self, records: Iterable[dict]) -> None:
        """Write a batch of records."""
        for record in records:
            flat = flatten_for_csv(record)
            if self._csv is None:
                self._csv = csv.DictWriter(self.stream, fieldnames=self.columns or list(flat),
                                           restval="", lineterminator="\n")
                if self.write_header:
                    self._csv.writeheader()
            try:
                self._csv.writerow(flat)
            except ValueError:
                extra = ", ".join(sorted(set(flat) - set(self._csv.fieldnames)))
                raise InputError(f"field(s) {extra} not among the CSV columns of this job; "
                                 "write JSON Lines instead, or give the inputs as files", field=extra) from None


def output_format(path: str | None, explicit: str | None = None) -> str:
    """The format of an output path: ``explicit`` if given, else by extension (stdout: jsonl)."""
    if explicit:
        return explicit
    if path is None or path == STDIN:
        return "jsonl"
    suffix = Path(path).suffix.lower().lstrip(".")
    return "csv" if suffix == "csv" else "jsonl"
