"""Input formats: records out of text, JSON Lines, CSV and Parquet files, one table of readers.

``READERS`` maps each input format to its reader: ``txt`` (one text per line), ``jsonl``
(one JSON object per line), ``csv`` (a header row, then records) and ``parquet`` (one
record per row). Text, JSON Lines and CSV files are read through the one line reader
(``lines.read_lines``). Text and JSON Lines files can be read a part at a time (a
``Span``; for Parquet, a range of row groups). Adding a format is one reader and one line
in the table.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import InputError
from .lines import STDIN, Span, display_name, parse_json, read_json_lines, read_lines


@dataclass
class InputRecord:
    """One input record: where it came from, its fields, and the text to classify."""

    path: str
    line: int
    fields: dict
    text: str


@dataclass
class BadRecord:
    """An input record that could not be read (kept only when a job skips errors)."""

    error: InputError
    raw: str


@dataclass
class BlankLine:
    """A blank line or empty CSV row: no record, but counted so that line counts reconcile."""

    path: str
    line: int


ReadItem = InputRecord | BadRecord | BlankLine


def read_txt(path: str, text_field: str, span: Span | None = None) -> Iterator[ReadItem]:
    """Records of a text file (or a span of it): one per non-blank line, the line being the text."""
    name = display_name(path)
    for number, line in enumerate(read_lines(path, span), start=span[2] if span else 1):
        text = line.rstrip("\r\n")
        if text.strip():
            yield InputRecord(name, number, {text_field: text}, text)
        else:
            yield BlankLine(name, number)


def read_jsonl(path: str, text_field: str, span: Span | None = None) -> Iterator[ReadItem]:
    """Records of a JSON Lines file (or a span of it): one JSON object per line, the text in ``text_field``."""
    name = display_name(path)
    for number, line in enumerate(read_lines(path, span), start=span[2] if span else 1):
        if not line.strip():
            yield BlankLine(name, number)
            continue
        value = parse_json(line, name, number)
        if isinstance(value, InputError):
            yield BadRecord(value, line)
        elif not isinstance(value, dict):
            yield BadRecord(InputError(f"expected a JSON object, got {type(value).__name__}",
                                       path=name, line=number), line)
        else:
            yield _text_record(value, name, number, text_field, line)


def _text_record(value: dict, name: str, number: int, text_field: str, raw: str) -> ReadItem:
    """A record whose text is in ``value[text_field]``, or a BadRecord when it is missing or not a string."""
    text = value.get(text_field)
    if isinstance(text, str):
        return InputRecord(name, number, value, text)
    reason = ("missing text field (choose the field with `text_field`)" if text is None
              else f"must be a string, not {type(text).__name__}")
    return BadRecord(InputError(reason, path=name, line=number, field=text_field), raw)


def read_csv(path: str, text_field: str) -> Iterator[ReadItem]:
    """Records of a CSV file with a header row, the text in the column ``text_field``."""
    name = display_name(path)
    reader = csv.reader(read_lines(path))
    header = _csv_header(reader, name, text_field)
    if header is None:
        return
    column = header.index(text_field)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield BadRecord(InputError(f"invalid CSV: {exc}", path=name, line=reader.line_num), "")
            continue
        if not row:
            yield BlankLine(name, reader.line_num)
        elif len(row) != len(header):
            yield BadRecord(InputError(f"expected {len(header)} columns, found {len(row)}",
                                       path=name, line=reader.line_num), ",".join(row))
        else:
            yield InputRecord(name, reader.line_num, dict(zip(header, row)), row[column])


def _csv_header(reader, name: str, text_field: str) -> list[str] | None:
    try:
        header = next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", path=name, line=1) from None
    if text_field not in header:
        raise InputError(f"no column {text_field!r} in the CSV header (columns: {', '.join(header)}); "
                         "choose one with `text_field`", path=name, line=1, field=text_field)
    return header


def read_parquet(path: str, text_field: str, span: Span | None = None) -> Iterator[ReadItem]:
    """Records of a Parquet file (or a span of its row groups): one per row, numbered from 1."""
    parquet = open_parquet(path, text_field)
    start, end, number = span or (0, parquet.num_row_groups, 1)
    for group in range(start, end):
        for row in parquet.read_row_group(group).to_pylist():
            item = _text_record(row, path, number, text_field, "")
            if isinstance(item, BadRecord):
                item.raw = json.dumps(row, ensure_ascii=False, default=str)
            yield item
            number += 1


def open_parquet(path: str, text_field: str):
    """A ``pyarrow.parquet.ParquetFile``; InputError for a file that is not Parquet or lacks the text column."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read as Parquet: {exc}", path=path) from None
    names = parquet.schema_arrow.names
    if text_field not in names:
        raise InputError(f"no column {text_field!r} in the Parquet file (columns: {', '.join(names)}); "
                         "choose one with `text_field`", path=path, field=text_field)
    return parquet


READERS: dict[str, Callable[..., Iterator[ReadItem]]] = {
    "txt": read_txt, "jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}
"""Input format → reader taking ``(path, text_field)``; all but ``csv`` also take a ``span``."""

_EXTENSIONS = {"txt": "txt", "jsonl": "jsonl", "json": "jsonl", "csv": "csv", "parquet": "parquet"}


def input_format(path: str, explicit: str | None = None) -> str:
    """The format of an input path: ``explicit`` if given, else by extension (stdin: txt)."""
    if path == STDIN:
        return explicit or "txt"
    if Path(path).is_dir():
        raise InputError("is a directory, not a file", path=path)
    if not Path(path).exists():
        raise InputError("no such file", path=path)
    if explicit:
        return explicit
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    raise InputError(f"cannot tell the input format from the extension {Path(path).suffix!r}; "
                     f"give it as `input_format` ({', '.join(READERS)})", path=path)


def read_inputs(path: str, fmt: str, text_field: str = "text",
                skip_errors: bool = False, span: Span | None = None) -> Iterator[ReadItem]:
    """Yield the records of one input file (``-`` is stdin), or of a ``span`` of it, in order, blank lines marked.

    A record that cannot be read raises InputError (``FILE:LINE: FIELD: message``), or,
    with ``skip_errors``, is yielded as a BadRecord. Errors that make the rest of the file
    unreadable (invalid UTF-8, binary data, a CSV without the text column) always raise.
    """
    if fmt not in READERS:
        raise InputError(f"unknown input format {fmt!r}", path=display_name(path))
    for item in READERS[fmt](path, text_field, *([span] if span else [])):
        if isinstance(item, BadRecord) and not skip_errors:
            raise item.error
        yield item


def input_columns(path: str, fmt: str, text_field: str, span: Span | None = None) -> list[str]:
    """Every field name of an input file's records (or a span's), in order of first appearance (a first pass)."""
    if fmt == "txt":
        return [text_field]
    if fmt == "csv":
        return _csv_header(csv.reader(read_lines(path)), display_name(path), text_field) or []
    if fmt == "parquet":
        return open_parquet(path, text_field).schema_arrow.names
    columns: dict[str, None] = {}
    for _, value in read_json_lines(path, span):
        if isinstance(value, dict):
            columns.update(dict.fromkeys(value))
    return list(columns)
