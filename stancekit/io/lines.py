"""The one line reader: every input file stancekit reads goes through ``read_lines``.

One rule for all: UTF-8, a byte-order mark at the start ignored, line endings kept, and
NUL bytes (binary data) and invalid UTF-8 reported with file and line. ``-`` is stdin. A
file can be read a part at a time (a ``Span``: the lines that begin in a byte range),
which is how distributed jobs split it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import IO, Iterator

from ..errors import InputError

STDIN = "-"
Span = tuple[int, int, int]
"""Part of a file: ``(start, end, first_line)``, the lines beginning at bytes ``start`` to ``end``
(for Parquet: row groups ``start`` to ``end``), the first of them numbered ``first_line``."""


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
            yield number, parse_json(line, name, number)


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, object]]:
    """Yield ``(line_number, parsed_json)`` for the non-blank lines of a JSON Lines file; raise
    InputError naming the file and line at the first line that cannot be read or is not JSON."""
    for number, value in read_json_lines(path):
        if isinstance(value, InputError):
            raise value
        yield number, value


def parse_json(line: str, name: str, number: int) -> object:
    """The JSON value of one line, or an InputError naming the file and line (returned, not raised)."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=name, line=number)
