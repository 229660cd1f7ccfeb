"""Streaming readers and writers, one table of each, and resumable output files.

Every file is read through one line reader with one rule: UTF-8, a byte-order mark at
the start ignored, NUL bytes and invalid UTF-8 reported with file and line. Input formats
(``READERS``): ``txt`` (one text per line), ``jsonl`` (one JSON object per line) and
``csv`` (a header row, then records), and ``parquet`` (one record per row). Text and
JSON Lines files can be read a part at a time (a ``Span``: the lines that begin in a byte
range; for Parquet, a range of row groups), which is how distributed jobs split them. Output formats (``WRITERS``): ``jsonl``, ``csv`` and
``table`` (a fixed-width view for terminals). Adding a format is one reader or one
writer and one line in its table.

Output goes to a ``.partial`` file beside the destination and is renamed into place only
when the job completes; a ``.progress`` file beside it records how many input records
are safely written and a fingerprint of the job, which is what ``--resume`` checks and
continues from.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

from .errors import InputError
from .files import atomic_write_text
from .labels import TASKS

STDIN = "-"


@dataclass
class InputRecord:
    """One input record: where it came from, its fields, and the text to classify."""

    path: str
    line: int
    fields: dict
    text: str


@dataclass
class BadRecord:
    """An input record that could not be read (kept only with ``--skip-errors``)."""

    error: InputError
    raw: str


@dataclass
class BlankLine:
    """A blank line or empty CSV row: no record, but counted so that line counts reconcile."""

    path: str
    line: int


ReadItem = InputRecord | BadRecord | BlankLine
Span = tuple[int, int, int]
"""Part of a file: ``(start, end, first_line)``, the lines beginning at bytes ``start`` to ``end``
(for Parquet: row groups ``start`` to ``end``), the first of them numbered ``first_line``."""


# reading ----------------------------------------------------------------------------------------

def display_name(path: str) -> str:
    """The name of an input in messages and provenance fields (``<stdin>`` for ``-``)."""
    return "<stdin>" if path == STDIN else path


def read_lines(path: str | Path, span: Span | None = None) -> Iterator[str]:
    """Yield the lines of a file (``-``: stdin), or of a ``span`` of it, as text, line endings kept.

    Raises InputError naming the file and line for a missing file, binary data or invalid UTF-8.
    """
    name = display_name(str(path))
    position, end, first_line = span or (0, None, 1)
    with _open_binary(str(path)) as handle:
        if position:
            handle.seek(position)
        for number, raw in enumerate(handle, start=first_line):
            if end is not None and position >= end:
                return
            position += len(raw)
            if b"\x00" in raw:
                raise InputError("binary data (NUL byte): not a text file", path=name, line=number)
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"invalid UTF-8 at byte {exc.start} of the line", path=name,
                                 line=number) from None


def _open_binary(path: str) -> IO[bytes]:
    if path == STDIN:
        return contextlib.nullcontext(sys.stdin.buffer)
    if Path(path).is_dir():
        raise InputError("is a directory, not a file", path=path)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path) from None


def read_json_lines(path: str | Path, span: Span | None = None) -> Iterator[tuple[int, object]]:
    """Yield ``(line_number, value)`` for each non-blank line of a JSON Lines file (or a span of it).

    ``value`` is the parsed JSON, or an InputError for a line that is not valid JSON.
    """
    name = display_name(str(path))
    for number, line in enumerate(read_lines(path, span), start=span[2] if span else 1):
        if line.strip():
            yield number, _parse_json(line, name, number)


def _parse_json(line: str, name: str, number: int) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=name, line=number)


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
        value = _parse_json(line, name, number)
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
    reason = ("missing text field (choose the field with --text-field)" if text is None
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
                         "choose one with --text-field", path=name, line=1, field=text_field)
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
                         "choose one with --text-field", path=path, field=text_field)
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
                     f"use --input-format ({', '.join(READERS)})", path=path)


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


# writing ----------------------------------------------------------------------------------------

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

    A record with a field outside ``columns`` raises InputError naming the field: no
    value is ever dropped silently.
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


class TableWriter:
    """Writes a fixed-width table for reading in a terminal: labels, confidences, a flag and the text.

    The flag is ``review`` for a low stance confidence and ``out of scope`` for text the
    models do not cover (``prediction.review_flag``). With ``show_source`` (several inputs,
    or documents split into sentences) a ``source`` column names each row's input file (its
    name, without folders) and line (the document's line, for a sentence). Records with
    evidence get one more line per label listing it (+ toward the label, - against), weights
    to ``EVIDENCE_DECIMALS``.
    """

    SOURCE_WIDTH = 28

    def __init__(self, stream: IO[str], text_field: str = "text", prefix: str = "", show_source: bool = False,
                 **_: object) -> None:
        self.stream = stream
        self.text_field = text_field
        self.prefix = prefix
        self.show_source = show_source
        source = f"{'source':<{self.SOURCE_WIDTH}}  " if show_source else ""
        stream.write(f"{'stance':<11} {'conf':>5}  {'claim_type':<20} {'conf':>5}  {'flag':<12}  {source}text\n")

    def write(self, records: Iterable[dict]) -> None:
        """Write a batch of records, one row each."""
        from .explain import EVIDENCE_DECIMALS
        from .prediction import review_flag

        p = self.prefix
        for record in records:
            text = " ".join(str(record.get(self.text_field, "")).split())
            text = text if len(text) <= 90 else text[:87] + "..."
            flag = review_flag(record[p + "stance_confidence"], record[p + "in_scope"])
            source = f"{self._source(record):<{self.SOURCE_WIDTH}}  " if self.show_source else ""
            self.stream.write(f"{record[p + 'stance']:<11} {record[p + 'stance_confidence']:>5.2f}  "
                              f"{record[p + 'claim_type']:<20} {record[p + 'claim_confidence']:>5.2f}  "
                              f"{flag:<12}  {source}{text}\n")
            evidence = record.get(p + "evidence")
            for task in TASKS if evidence else ():
                listed = ", ".join(f"{item['weight']:+.{EVIDENCE_DECIMALS}f} {item['text']!r}"
                                   for item in evidence[task]) or "none"
                self.stream.write(f"{'':<11}   {task} evidence: {listed}\n")

    def _source(self, record: dict) -> str:
        """``NAME:LINE`` of a record, its start cut off when it is wider than the column."""
        source = f"{Path(record[self.prefix + 'input_file']).name}:{record[self.prefix + 'input_line']}"
        return source if len(source) <= self.SOURCE_WIDTH else "…" + source[-self.SOURCE_WIDTH + 1:]


WRITERS: dict[str, Callable[..., JsonLinesWriter | CsvWriter | TableWriter]] = {
    "jsonl": JsonLinesWriter, "csv": CsvWriter, "table": TableWriter}
"""Output format → writer class, called as ``Writer(stream, columns=, write_header=, text_field=, prefix=,
show_source=)`` (each takes the options it needs)."""


def output_format(path: str | None, explicit: str | None = None) -> str:
    """The format of an output path: ``explicit`` if given, else by extension (stdout: jsonl)."""
    if explicit:
        return explicit
    if path is None or path == STDIN:
        return "jsonl"
    suffix = Path(path).suffix.lower().lstrip(".")
    return "csv" if suffix == "csv" else "jsonl"


def check_distinct_paths(inputs: Iterable[str], outputs: Iterable[str | None]) -> None:
    """Refuse an output path that is one of the inputs or another output (links resolved)."""
    seen: dict[tuple, str] = {}
    for path in inputs:
        if path != STDIN and Path(path).exists():
            seen[_identity(path)] = path
    for path in outputs:
        if path is None or path == STDIN:
            continue
        identity = _identity(path)
        if identity in seen:
            raise InputError(f"output is the same file as {seen[identity]}; choose another output path",
                             path=path)
        seen[identity] = path


def _identity(path: str) -> tuple:
    """Device and inode of an existing file, else its resolved path."""
    try:
        status = os.stat(path)
        return ("inode", status.st_dev, status.st_ino)
    except OSError:
        return ("path", str(Path(path).resolve()))


@dataclass
class Progress:
    """How far a resumable job got, the output's safe length in bytes, and the job's fingerprint."""

    records_done: int = 0
    output_bytes: int = 0
    rejects_bytes: int = 0
    job: dict = field(default_factory=dict)


class ResumableOutput:
    """An output file written through ``OUT.partial`` and renamed into place on ``commit``.

    After every ``checkpoint`` the ``OUT.progress`` file records how many input records
    are fully written. ``resume=True`` continues from that point: the partial file is cut
    back to its last checkpoint and the caller skips ``progress.records_done`` records.
    ``job`` describes everything that shapes the output (model, options, inputs); resuming
    a job whose description differs is refused, naming what differs.
    """

    def __init__(self, path: str | Path, fmt: str, resume: bool = False, rejects: str | Path | None = None,
                 job: dict | None = None, **writer_options: object) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.progress_path = self.path.with_name(self.path.name + ".progress")
        self.rejects_path = Path(rejects) if rejects else None
        job = job or {}
        self.progress = self._read_progress(job) if resume else Progress(job=job)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.stream = self._open(self.partial, self.progress.output_bytes)
        self.rejects_stream = (self._open(self._rejects_partial, self.progress.rejects_bytes)
                               if self.rejects_path else None)
        self.writer = WRITERS[fmt](self.stream, write_header=self.progress.output_bytes == 0, **writer_options)

    @property
    def _rejects_partial(self) -> Path:
        return self.rejects_path.with_name(self.rejects_path.name + ".partial")

    def _read_progress(self, job: dict) -> Progress:
        if not self.partial.exists() or not self.progress_path.exists():
            return Progress(job=job)
        try:
            progress = Progress(**json.loads(self.progress_path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise InputError(f"cannot resume: unreadable progress file ({exc}); delete it to start over",
                             path=self.progress_path) from None
        differences = [key for key in sorted(set(job) | set(progress.job)) if job.get(key) != progress.job.get(key)]
        if differences:
            raise InputError(f"cannot resume: the job differs from the interrupted one in "
                             f"{', '.join(differences)}; run it as before, or without --resume to start over",
                             path=self.path)
        return progress

    @staticmethod
    def _open(path: Path, keep_bytes: int) -> io.TextIOWrapper:
        handle = open(path, "r+b" if keep_bytes else "wb")
        handle.truncate(keep_bytes)
        handle.seek(keep_bytes)
        return io.TextIOWrapper(handle, encoding="utf-8", newline="")

    def reject(self, bad: BadRecord) -> None:
        """Record a skipped input record in the rejects file, if there is one."""
        if self.rejects_stream is not None:
            self.rejects_stream.write(json.dumps({"file": bad.error.path, "line": bad.error.line,
                                                 "error": bad.error.reason, "raw": bad.raw},
                                                ensure_ascii=False) + "\n")

    def checkpoint(self, records_done: int) -> None:
        """Flush the output and record that ``records_done`` input records are written."""
        self.stream.flush()
        self.progress.records_done = records_done
        self.progress.output_bytes = self.stream.buffer.tell()
        if self.rejects_stream is not None:
            self.rejects_stream.flush()
            self.progress.rejects_bytes = self.rejects_stream.buffer.tell()
        atomic_write_text(self.progress_path, json.dumps(self.progress.__dict__))

    def commit(self) -> None:
        """Close the output and move it into place; remove the progress file."""
        self.stream.close()
        os.replace(self.partial, self.path)
        if self.rejects_stream is not None:
            self.rejects_stream.close()
            os.replace(self._rejects_partial, self.rejects_path)
        self.progress_path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Close and delete everything written (after an error): no partial output remains."""
        self.close()
        for path in (self.partial, self.progress_path,
                     self._rejects_partial if self.rejects_path else None):
            if path is not None:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close without committing (an interrupted job), keeping what ``--resume`` needs."""
        for stream in (self.stream, self.rejects_stream):
            if stream is not None:
                stream.close()
