"""The ``profile`` command's input: scored files (JSON Lines, CSV, Parquet files or the dask engine's
Parquet folder), or raw input scored first, read into a pandas frame of the fields a profile uses.

Each row keeps the file and line it came from (``records.LOCATION``), so that a value that
cannot be read later is reported as ``FILE:LINE: FIELD: ...``. Raw input is scored by the
same ``ScoringPipeline`` as ``stancekit classify``; its rows are located by the provenance
fields it adds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from ..errors import InputError
from ..io.lines import STDIN
from ..io.readers import BadRecord, InputRecord, input_format, read_inputs
from .records import LOCATION, Fields

if TYPE_CHECKING:
    import pandas


@dataclass
class Scoring:
    """With a model: how raw input is scored first (as ``stancekit classify`` would)."""

    model: str
    split_sentences: bool = False
    batch_size: int = 256
    device: str = "cpu"


@dataclass
class ReadResult:
    """The records read, as a frame, and the input records skipped as unreadable."""

    frame: "pandas.DataFrame"
    skipped: list[BadRecord] = field(default_factory=list)
    model: str | None = None
    """With scoring: the model's name and version."""


def expand_inputs(paths: Iterable[str]) -> list[str]:
    """The input files: each path as given, a folder (the dask engine's output) as its Parquet files."""
    files = []
    for path in paths:
        if Path(path).is_dir():
            parts = sorted(str(part) for part in Path(path).glob("*.parquet"))
            if not parts:
                raise InputError("a folder holds no .parquet files; give files, or the Parquet folder of "
                                 "classify --engine dask", path=path)
            files.extend(parts)
        else:
            files.append(path)
    return files


def read_records(paths: list[str], fields: Fields, *, text_field: str = "text", explicit_format: str | None = None,
                 skip_errors: bool = False, scoring: Scoring | None = None, quiet: bool = False) -> ReadResult:
    """Read (and with ``scoring``, score) every input file into one frame of the fields ``fields`` uses."""
    import pandas

    from ..progress import progress_bar

    files = expand_inputs(paths)
    # scored output on stdin is JSON Lines, as classify writes it; raw text on stdin is read as classify reads it
    formats = [input_format(path, explicit_format or ("jsonl" if path == STDIN and not scoring else None))
               for path in files]
    items = itertools.chain.from_iterable(read_inputs(path, fmt, text_field, skip_errors)
                                          for path, fmt in zip(files, formats))
    wanted = _wanted(fields, text_field)
    columns: dict[str, list] = {name: [] for name in (*wanted, *LOCATION)}
    seen: set[str] = set()
    skipped: list[BadRecord] = []
    records, model = (_scored(items, scoring, text_field, fields.prefix, skipped) if scoring
                      else _located(items, skipped))
    with progress_bar(None, "reading", quiet, unit="rec") as bar:
        for record, (path, line) in records:
            seen.update(name for name in wanted if name in record)
            for name in wanted:
                columns[name].append(record.get(name))
            columns[LOCATION[0]].append(path)
            columns[LOCATION[1]].append(line)
            bar.update(1)
    frame = pandas.DataFrame({name: pandas.Series(values, dtype=object) for name, values in columns.items()
                              if name in seen or name in LOCATION})
    return ReadResult(frame, skipped, model)


def _wanted(fields: Fields, text_field: str) -> list[str]:
    """Every field a profile reads, in order, once each."""
    names = [*fields.by, fields.time, fields.document, *fields.predictions.values(),
             fields.prefix + "input_file", fields.prefix + "document", text_field]
    return list(dict.fromkeys(name for name in names if name))


def _located(items, skipped: list[BadRecord]) -> tuple[Iterator[tuple[dict, tuple[str, int]]], None]:
    """The input records as they are, each located by its file and line."""
    def records():
        for item in items:
            if isinstance(item, BadRecord):
                skipped.append(item)
            elif isinstance(item, InputRecord):
                yield item.fields, (item.path, item.line)
    return records(), None


def _scored(items, scoring: Scoring, text_field: str, prefix: str, skipped: list[BadRecord]):
    """Score the input records; each output record is located by its input file and line."""
    from ..jobs.scoring import ScoringPipeline
    from ..registry import load_model

    loaded = load_model(scoring.model, scoring.device)
    pipeline = ScoringPipeline(loaded, text_field=text_field, split_sentences=scoring.split_sentences,
                               batch_size=scoring.batch_size, prefix=prefix)

    def records():
        for batch in pipeline.run(items):
            skipped.extend(batch.bad)
            for record in batch.records:
                yield record, (record[prefix + "input_file"], record[prefix + "input_line"])
    return records(), f"{loaded.name} {loaded.version}"
