"""Streaming readers and writers for batch scoring, atomic output files, and resumable jobs.

Inputs are read one record at a time (``.txt``: one text per non-blank line;
``.jsonl``: one JSON object per line; ``.csv``: a header row, then records), so
memory does not grow with the input. Output goes to a ``.partial`` file beside
the destination and is renamed into place only when the job completes; a
``.progress`` file beside it records how many input records are safely written,
which is what ``--resume`` continues from.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

from .errors import InputError
from .files import atomic_write_text

INPUT_FORMATS = ("txt", "jsonl", "csv")


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


def input_format(path: str, explicit: str | None = None) -> str:
    """The format of an input path: ``explicit`` if given, else by extension (stdin: txt)."""
    if path == "-":
        return explicit or "txt"
    if Path(path).is_dir():
        raise InputError("is a directory, not a file", path=path)
    if not Path(path).exists():
        raise InputError("no such file", path=path)
    if explicit:
        return explicit
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in INPUT_FORMATS:
        return suffix
    if suffix == "json":
        return "jsonl"
    raise InputError(f"cannot tell the input format from the extension {Path(path).suffix!r}; "
                     f"use --input-format ({', '.join(INPUT_FORMATS)})", path=path)


def output_format(path: str | None, explicit: str | None = None) -> str:
    """The format of an output path: ``explicit`` if given, else by extension (stdout: jsonl)."""
    if explicit:
        return explicit
    if path is None or path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower().lstrip(".")
    return "csv" if suffix == "csv" else "jsonl"


def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        return contextlib.nullcontext(sys.stdin.buffer)
    if Path(path).is_dir():
        raise InputError("is a directory, not a file", path=path)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path) from None


def _decoded_lines(handle: IO[bytes], path: str) -> Iterator[str]:
    """Yield the lines of a binary stream as text, with a clear error for non-text content."""
    for number, raw in enumerate(handle, start=1):
        if b"\x00" in raw:
            raise InputError("binary data (NUL byte): not a text file", path=path, line=number)
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"invalid UTF-8 at byte {exc.start} of the line", path=path,
                             line=number) from None


def read_inputs(path: str, fmt: str, text_field: str = "text",
                skip_errors: bool = False) -> Iterator[InputRecord | BadRecord]:
    """Yield the records of one input file (``-`` is stdin) in order.

    A record that cannot be read raises InputError (``FILE:LINE: FIELD: message``), or,
    with ``skip_errors``, is yielded as a BadRecord. Errors that make the rest of the file
    unreadable (invalid UTF-8, binary data, a CSV without the text column) always raise.
    """
    name = "<stdin>" if path == "-" else path
    with _open_binary(path) as handle:
        lines = _decoded_lines(handle, name)
        if fmt == "txt":
            records = _txt_records(lines, name, text_field)
        elif fmt == "jsonl":
            records = _jsonl_records(lines, name, text_field)
        elif fmt == "csv":
            records = _csv_records(lines, name, text_field)
        else:
            raise InputError(f"unknown input format {fmt!r}", path=name)
        for record in records:
            if isinstance(record, BadRecord) and not skip_errors:
                raise record.error
            yield record


def _txt_records(lines: Iterable[str], path: str, text_field: str) -> Iterator[InputRecord]:
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if text.strip():
            yield InputRecord(path, number, {text_field: text}, text)


def _jsonl_records(lines: Iterable[str], path: str, text_field: str
                   ) -> Iterator[InputRecord | BadRecord]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadRecord(InputError(f"invalid JSON: {exc.msg} (column {exc.colno})",
                                       path=path, line=number), line)
            continue
        if not isinstance(fields, dict):
            yield BadRecord(InputError(f"expected a JSON object, got {type(fields).__name__}",
                                       path=path, line=number), line)
            continue
        text = fields.get(text_field)
        if not isinstance(text, str):
            problem = "missing text field" if text is None else f"must be a string, not {type(text).__name__}"
            yield BadRecord(InputError(problem + " (choose the field with --text-field)" if text is None
                                       else problem, path=path, line=number, field=text_field), line)
            continue
        yield InputRecord(path, number, fields, text)


def _csv_records(lines: Iterable[str], path: str, text_field: str
                 ) -> Iterator[InputRecord | BadRecord]:
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", path=path, line=1) from None
    if text_field not in header:
        raise InputError(f"no column {text_field!r} in the CSV header (columns: {', '.join(header)}); "
                         "choose one with --text-field", path=path, line=1, field=text_field)
    column = header.index(text_field)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield BadRecord(InputError(f"invalid CSV: {exc}", path=path, line=reader.line_num), "")
            continue
        if not row:
            continue
        if len(row) != len(header):
            yield BadRecord(InputError(f"expected {len(header)} columns, found {len(row)}",
                                       path=path, line=reader.line_num), ",".join(row))
            continue
        yield InputRecord(path, reader.line_num, dict(zip(header, row)), row[column])


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


class RecordWriter:
    """Writes output records as JSON Lines or CSV to an open text stream."""

    def __init__(self, stream: IO[str], fmt: str, write_header: bool = True) -> None:
        self.stream = stream
        self.fmt = fmt
        self.write_header = write_header
        self._csv: csv.DictWriter | None = None

    def write(self, record: dict) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        flat = flatten_for_csv(record)
        if self._csv is None:
            self._csv = csv.DictWriter(self.stream, fieldnames=list(flat), extrasaction="ignore",
                                       restval="", lineterminator="\n")
            if self.write_header:
                self._csv.writeheader()
        self._csv.writerow(flat)


@dataclass
class Progress:
    """How far a resumable job got: input records done, and the output's safe length in bytes."""

    records_done: int = 0
    output_bytes: int = 0
    rejects_bytes: int = 0


class ResumableOutput:
    """An output file written through ``OUT.partial`` and renamed into place on ``commit``.

    After every ``checkpoint`` the ``OUT.progress`` file records how many input records
    are fully written. ``resume=True`` continues from that point: the partial file is cut
    back to its last checkpoint and the caller skips ``progress.records_done`` records.
    """

    def __init__(self, path: str | Path, fmt: str, resume: bool = False,
                 rejects: str | Path | None = None) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.progress_path = self.path.with_name(self.path.name + ".progress")
        self.rejects_path = Path(rejects) if rejects else None
        self.progress = self._read_progress() if resume else Progress()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.stream = self._open(self.partial, self.progress.output_bytes)
        self.rejects_stream = (self._open(self._rejects_partial, self.progress.rejects_bytes)
                               if self.rejects_path else None)
        self.writer = RecordWriter(self.stream, fmt, write_header=self.progress.output_bytes == 0)

    @property
    def _rejects_partial(self) -> Path:
        return self.rejects_path.with_name(self.rejects_path.name + ".partial")

    def _read_progress(self) -> Progress:
        if not self.partial.exists() or not self.progress_path.exists():
            return Progress()
        try:
            return Progress(**json.loads(self.progress_path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise InputError(f"cannot resume: unreadable progress file ({exc}); delete it to start over",
                             path=self.progress_path) from None

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
        for stream in (self.stream, self.rejects_stream):
            if stream is not None:
                stream.close()
        for path in (self.partial, self.progress_path,
                     self._rejects_partial if self.rejects_path else None):
            if path is not None:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close without committing (an interrupted job), keeping what ``--resume`` needs."""
        for stream in (self.stream, self.rejects_stream):
            if stream is not None:
                stream.close()
