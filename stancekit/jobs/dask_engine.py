"""Scoring past one machine with Dask: a dask dataframe, or input files, partition by partition.

- ``classify_dask(frame)`` (``from stancekit import classify_dask``) adds the prediction
  columns to a ``dask.dataframe`` with ``map_partitions``; each partition goes through
  ``scoring.score_frame``, as ``classify_frame`` does, so the values are those of scoring on
  one machine. Write it with ``.to_parquet(...)``.
- ``run_dask_job(job)`` (``stancekit classify --engine dask``) splits JSON Lines and text
  files into byte ranges, Parquet files into row groups and takes CSV files whole, scores
  each partition with ``ScoringPipeline`` on a Dask cluster, and writes it to its own
  Parquet file in the output folder, atomically, under a name derived from the input file
  and range. A rerun skips partitions already written; the folder's job file holds the
  job's fingerprint and the output's schema, and a rerun of a different job is refused.
  Every partition has the same schema (``_plan``): an input column's values keep their
  type (JSON true/false as booleans, integers as int64, other numbers as float64; Parquet
  columns their own type) and a column whose values are of two types that no one Parquet
  type holds is an error naming the file, line and field. The job is checked, described
  and summed up as the local engine's is (``jobs.job``).

Each worker process loads the model once (``load_model`` caches it per process) and limits
torch and BLAS to ``threads`` threads per task, so that one worker per core does not
oversubscribe the cores. Dask is an optional dependency (``stancekit[dask]``), imported here
only when used.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import InputError, StancekitError
from ..files import atomic_output, atomic_write_text
from ..io.lines import Span, read_json_lines
from ..io.readers import input_columns, open_parquet, read_inputs
from ..io.resumable import job_differences
from ..io.writers import flatten_for_csv
from ..progress import progress_bar
from ..registry import DEFAULT_MODEL, ModelIdentity, identify, load_model
from .job import ClassifyJob, JobSummary, check_job, job_fingerprint
from .scoring import (DEFAULT_BATCH_SIZE, JobCounts, ScoringPipeline, check_frame, output_columns, prediction_sample,
                      score_frame)

if TYPE_CHECKING:
    import dask.dataframe
    import distributed
    import pyarrow

DEFAULT_BLOCKSIZE = 64 * 2**20
"""Bytes of JSON Lines or text per partition."""
RETRIES = 3
"""How often Dask reruns a partition that failed (a worker that dies is handled by the scheduler too)."""
JOB_FILE = "_stancekit_job.json"
"""The output folder's record of the job: its fingerprint and its partitions."""
_SPLITTABLE = ("jsonl", "txt")


class DaskMissing(StancekitError):
    """The optional Dask dependencies are not installed."""


def require_dask() -> None:
    """Raise DaskMissing, naming the extra to install, when dask or distributed is missing."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise DaskMissing(f"the dask engine needs {exc.name or 'dask'}: install stancekit[dask] "
                          "(pip install 'stancekit[dask]')") from None


@lru_cache(maxsize=None)
def limit_threads(threads: int, torch_loaded: bool) -> None:
    """Limit BLAS (and torch, once loaded) to ``threads`` threads in this process; once per setting."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    if torch_loaded:
        import torch

        torch.set_num_threads(threads)


def worker_model(model: str, threads: int):
    """The model (a shipped name or a folder), loaded once per worker process, with the process's
    threads limited."""
    import sys

    loaded = load_model(model)
    limit_threads(threads, "torch" in sys.modules)
    return loaded


# a dask dataframe in, a dask dataframe out --------------------------------------------------------

def classify_dask(frame: "dask.dataframe.DataFrame", text_column: str = "text", model: str | Path = DEFAULT_MODEL,
                  *, prefix: str = "", batch_size: int = DEFAULT_BATCH_SIZE,
                  threads: int = 1) -> "dask.dataframe.DataFrame":
    """Return ``frame`` with the prediction columns of ``classify_frame`` added, partition by partition.

    Lazy, like every dask dataframe: compute it, or write it with ``.to_parquet(folder)``.
    Rows, index and partitions are unchanged. The model is loaded once per worker process;
    each task uses ``threads`` torch/BLAS threads (run one single-threaded worker per core).
    """
    require_dask()
    import pandas

    identity = identify(model)
    sample = pandas.DataFrame.from_records([prediction_sample(identity.classes, prefix)])
    check_frame(frame.columns, text_column, sample.columns)
    meta = pandas.concat([frame._meta, sample.iloc[:0].set_axis(frame._meta.index[:0])], axis=1)
    return frame.map_partitions(_classify_partition, text_column, identity.reference, prefix, batch_size, threads,
                                meta=meta)


def _classify_partition(frame, text_column: str, model: str, prefix: str, batch_size: int, threads: int):
    return score_frame(worker_model(model, threads), frame, text_column, prefix=prefix, batch_size=batch_size)


# files in, a Parquet dataset out ------------------------------------------------------------------

@dataclass(frozen=True)
class Partition:
    """One unit of work: part of the input file number ``file`` (a Span; whole CSV files)."""

    file: int
    path: str
    fmt: str
    start: int
    end: int
    first_line: int = 1

    @property
    def name(self) -> str:
        """The partition's output file name, in input order: input file number and start of its range."""
        return f"part-{self.file:05d}-{self.start:015d}.parquet"

    @property
    def span(self) -> Span | None:
        return None if self.fmt == "csv" else (self.start, self.end, self.first_line)


@dataclass
class PartitionResult:
    """What scoring one partition gave: its counts, or the one-line error that stopped it."""

    name: str
    counts: JobCounts
    error: str | None = None


@dataclass(frozen=True)
class TaskSettings:
    """What every partition task needs besides its partition."""

    model: str
    text_field: str
    prefix: str
    batch_size: int
    threads: int
    folder: str


def run_dask_job(job: ClassifyJob, *, scheduler: str | None = None, workers: int | None = None,
                 blocksize: int = DEFAULT_BLOCKSIZE, threads: int = 1,
                 client: "distributed.Client | None" = None) -> JobSummary:
    """Score ``job.inputs`` into the Parquet folder ``job.output`` on a Dask cluster.

    The cluster is ``client``'s, else the scheduler at ``scheduler``, else a new local
    cluster with ``workers`` single-threaded worker processes (default: one per core).
    """
    require_dask()
    paths, formats = check_job(job, engine="dask")
    folder = Path(job.output).resolve()  # workers may run elsewhere: no path relative to this process
    identity = identify(job.model)
    fingerprint = job_fingerprint(job, paths, formats, (identity.name, identity.version, identity.manifest_sha256),
                                  output_format="parquet", engine="dask", blocksize=blocksize)
    settings = TaskSettings(identity.reference, job.text_field, job.prefix, job.batch_size, threads, str(folder))
    with _connect(client, scheduler, workers) as connected:
        plan = _open_output(folder, fingerprint)
        if plan is None:
            plan = _plan(connected, paths, formats, job, identity, blocksize)
            atomic_write_text(folder / JOB_FILE, json.dumps({"job": fingerprint, "plan": plan}, indent=1))
        partitions = [Partition(**p) for p in plan["partitions"]]
        summary = _score(connected, partitions, settings, _saved_schema(plan, folder), plan["records"], job.quiet)
    summary.output = job.output
    return summary


def _open_output(folder: Path, fingerprint: dict) -> dict | None:
    """Create the output folder, or check that it holds this job; return its saved plan, if any."""
    job_file = folder / JOB_FILE
    if folder.exists() and not folder.is_dir():
        raise InputError("output exists and is not a folder; the dask engine writes a Parquet folder", path=folder)
    if job_file.exists():
        try:
            saved = json.loads(job_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(f"unreadable job file ({exc}); delete the folder to start over", path=job_file) from None
        differences = job_differences(fingerprint, saved["job"])
        if differences:
            raise InputError(f"the folder holds the output of another job (it differs in {', '.join(differences)}); "
                             "run it as before, or choose another output folder", path=folder)
        return saved.get("plan")
    if folder.is_dir() and any(folder.iterdir()):
        raise InputError("output folder is not empty and holds no stancekit job; choose another", path=folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(job_file, json.dumps({"job": fingerprint}, indent=1))
    return None


def local_cluster(workers: int | None = None) -> "distributed.LocalCluster":
    """A local cluster of single-threaded worker processes, one per core unless ``workers`` is given.

    Its workers do without Dask's default ``MALLOC_TRIM_THRESHOLD_=65536``, which makes the
    transformer about twice as slow (large tensors are then mapped and unmapped on every batch).
    """
    import logging

    import dask
    from distributed import LocalCluster

    from ..classifiers.encoders import available_cores

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(n_workers=workers or available_cores(), threads_per_worker=1, processes=True,
                            dashboard_address=None, silence_logs=logging.ERROR)


@contextlib.contextmanager
def _connect(client, scheduler: str | None, workers: int | None) -> Iterator["distributed.Client"]:
    """The Dask client given, else one for ``scheduler``, else one of a new local cluster (closed after)."""
    from distributed import Client

    if client is not None:
        yield client
    elif scheduler:
        try:
            connected = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise StancekitError(f"cannot reach the Dask scheduler at {scheduler}: "
                                 f"{str(exc) or type(exc).__name__}") from None
        with connected:
            yield connected
    else:
        with local_cluster(workers) as cluster, Client(cluster) as local:
            yield local


def _plan(client, paths: list[str], formats: list[str], job: ClassifyJob, identity: ModelIdentity,
          blocksize: int) -> dict:
    """Split the inputs into partitions; count their records and find their columns and types on the
    cluster; return the partitions, the record count and the output schema (serialized)."""
    pieces: list[Partition] = []
    for number, (path, fmt) in enumerate(zip(paths, formats)):
        if fmt in _SPLITTABLE:
            bounds = sorted({0, *(_line_start(path, offset) for offset in range(blocksize, os.path.getsize(path),
                                                                                  blocksize)),
                             os.path.getsize(path)})
            pieces += [Partition(number, path, fmt, a, b) for a, b in zip(bounds, bounds[1:])]
        elif fmt == "parquet":
            parquet = open_parquet(path, job.text_field)
            pieces += [Partition(number, path, fmt, group, group + 1) for group in range(parquet.num_row_groups)]
        else:
            pieces.append(Partition(number, path, fmt, 0, os.path.getsize(path)))
    surveys = client.gather(client.map(_survey, pieces, text_field=job.text_field, retries=RETRIES, pure=False))
    partitions, columns, records, line = [], {}, 0, {}
    for piece, (count, types) in zip(pieces, surveys):
        if isinstance(count, str):
            raise InputError(count)
        first = line.get(piece.file, 1)
        partitions.append(asdict(Partition(**{**asdict(piece), "first_line": first})))
        line[piece.file] = first + count
        records = None if records is None or piece.fmt == "csv" else records + count
        for name, seen in types.items():
            for data_type, where in seen.items():
                columns.setdefault(name, {}).setdefault(data_type, where)
    schema = _schema(list(columns), {name: _column_type(name, seen) for name, seen in columns.items()}, job,
                     identity)
    return {"partitions": partitions, "records": records,
            "schema": base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")}


def _saved_schema(plan: dict, folder: Path) -> "pyarrow.Schema":
    """The output schema stored in a job's plan."""
    import pyarrow as pa

    if "schema" not in plan:
        raise InputError("the folder holds the output of an older stancekit, whose columns have other types; "
                         "choose another output folder", path=folder)
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(plan["schema"])))


def _line_start(path: str, offset: int) -> int:
    """The first byte at or after ``offset`` that begins a line."""
    with open(path, "rb") as handle:
        handle.seek(offset - 1)
        handle.readline()
        return handle.tell()


ColumnTypes = dict[str, dict["pyarrow.DataType", tuple[str, int | None]]]
"""Per input column, each Arrow type its values have and where it is first seen: (file, line or None)."""


def _survey(piece: Partition, text_field: str) -> tuple[int | str, ColumnTypes]:
    """A partition's lines (rows for Parquet; 0 for CSV, which is never split) and the types of its
    input columns, in order of first appearance; or the one-line error that makes it unreadable."""
    import pyarrow as pa

    try:
        if piece.fmt == "jsonl":
            return _json_survey(piece)
        if piece.fmt == "parquet":
            parquet = open_parquet(piece.path, text_field)
            types = {f.name: {pa.string() if pa.types.is_nested(f.type) else f.type: (piece.path, None)}
                     for f in parquet.schema_arrow}
            return parquet.metadata.row_group(piece.start).num_rows, types
        names = input_columns(piece.path, piece.fmt, text_field, piece.span)
    except StancekitError as exc:
        return str(exc), {}
    types = {name: {pa.string(): (piece.path, None)} for name in names}  # text and CSV values are text
    if piece.fmt == "csv":
        return 0, types
    return _line_count(piece), types


def _json_survey(piece: Partition) -> tuple[int, ColumnTypes]:
    """The lines of a JSON Lines partition and the Arrow type of each field's values: true/false bool,
    integers int64, other numbers float64, strings string, objects and arrays string (JSON text)."""
    import pyarrow as pa

    types: ColumnTypes = {}
    for number, value in read_json_lines(piece.path, piece.span):
        for name, item in value.items() if isinstance(value, dict) else ():
            if item is None:
                continue
            if isinstance(item, bool):
                data_type = pa.bool_()
            elif isinstance(item, int):
                if not -2**63 <= item < 2**63:
                    raise InputError("integer outside the 64-bit range Parquet stores; give it as a string",
                                     path=piece.path, line=number, field=name)
                data_type = pa.int64()
            else:
                data_type = pa.float64() if isinstance(item, float) else pa.string()
            types.setdefault(name, {}).setdefault(data_type, (piece.path, number))
    return _line_count(piece), types


def _line_count(piece: Partition) -> int:
    with open(piece.path, "rb") as handle:
        handle.seek(piece.start)
        data = handle.read(piece.end - piece.start)
    return data.count(b"\n") + (not data.endswith(b"\n") and bool(data))


def _column_type(name: str, seen: dict) -> "pyarrow.DataType":
    """The one Arrow type that holds every value of an input column: its values' type; int64 for
    integers of several widths, float64 for integers and other numbers; string for no values.
    Values of two types that no one type holds raise InputError naming where each is first seen."""
    import pyarrow as pa

    unified, origin = None, None
    for data_type, where in seen.items():
        if unified is None:
            unified, origin = data_type, where
            continue
        merged = _merged_type(unified, data_type)
        if merged is None:
            first = f"{origin[0]}:{origin[1]}" if origin[1] else origin[0]
            raise InputError(f"{_described(data_type)} where {first} has {_described(unified)}; a Parquet "
                             "column holds values of one type: give the field one type in every record",
                             path=where[0], line=where[1], field=name)
        unified = merged
    return unified or pa.string()


def _merged_type(first: "pyarrow.DataType", second: "pyarrow.DataType") -> "pyarrow.DataType | None":
    import pyarrow as pa

    if first == second:
        return first
    if pa.types.is_integer(first) and pa.types.is_integer(second):
        return pa.int64()
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in (first, second)):
        return pa.float64()
    return None


def _described(data_type: "pyarrow.DataType") -> str:
    import pyarrow as pa

    if pa.types.is_boolean(data_type):
        return "true/false"
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type):
        return "a number"
    return "text" if pa.types.is_string(data_type) else f"a {data_type}"


def _schema(columns: list[str], input_types: dict, job: ClassifyJob, identity: ModelIdentity) -> "pyarrow.Schema":
    """The output's Arrow schema: the input columns with their types, the prediction columns and the
    provenance columns."""
    import pyarrow as pa

    types = dict(input_types)
    types.update({f.name: f.type
                  for f in pa.Table.from_pylist([prediction_sample(identity.classes, job.prefix)]).schema})
    p = job.prefix
    types.update({p + "input_file": pa.string(), p + "input_line": pa.int64()})
    names = output_columns(columns, identity.classes, prefix=p)
    return pa.schema([(name, types[name]) for name in names])


def _score(client, partitions: list[Partition], settings: TaskSettings, schema, records: int | None,
           quiet: bool) -> JobSummary:
    """Score the partitions that have no output file yet, showing progress; sum the counts of all."""
    from distributed import KilledWorker, as_completed

    folder = Path(settings.folder)
    done = {partition.name: _written_counts(folder / partition.name) for partition in partitions
            if (folder / partition.name).exists()}
    summary = JobSummary(output=settings.folder, partitions=len(partitions), partitions_skipped=len(done))
    todo = [partition for partition in partitions if partition.name not in done]
    futures = client.map(_score_partition, todo, settings=settings, schema=schema, retries=RETRIES, pure=False)
    with progress_bar(records, "classifying", quiet, unit="rec") as bar:
        bar.update(sum(counts.consumed for counts in done.values()))
        for future in as_completed(futures):
            try:
                result = future.result()
            except KilledWorker as exc:
                raise StancekitError(f"workers kept dying while scoring a partition ({exc}); "
                                     "rerun to continue, with more memory per worker") from None
            if result.error:
                client.cancel(futures)
                raise InputError(result.error)
            done[result.name] = result.counts
            bar.update(result.counts.consumed)
    for counts in done.values():
        summary.add(counts)
    return summary


def _written_counts(path: Path) -> JobCounts:
    """The counts stored in a partition file's metadata."""
    import pyarrow.parquet as pq

    try:
        return JobCounts(**json.loads(pq.read_schema(path).metadata[b"stancekit"]))
    except (KeyError, TypeError, ValueError):
        raise InputError("a partition file holds no counts of this stancekit's kind; choose another output folder",
                         path=path) from None


def _score_partition(partition: Partition, settings: TaskSettings, schema) -> PartitionResult:
    """Score one partition with the pipeline and write it to its Parquet file atomically.

    A bad record or model is returned as an error (retrying would not help); anything
    else raises, and Dask retries the partition.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    counts = JobCounts()
    text_columns = {f.name for f in schema if f.type == pa.string()}
    rows = []
    try:
        pipeline = ScoringPipeline(worker_model(settings.model, settings.threads), text_field=settings.text_field,
                                   batch_size=settings.batch_size, prefix=settings.prefix)
        items = read_inputs(partition.path, partition.fmt, settings.text_field, span=partition.span)
        for batch in pipeline.run(items):
            rows += [_as_text(flatten_for_csv(record), text_columns) for record in batch.records]
            counts.add(batch.counts)
    except StancekitError as exc:
        return PartitionResult(partition.name, JobCounts(), error=str(exc))
    table = pa.Table.from_pylist(rows, schema=schema.with_metadata({"stancekit": json.dumps(asdict(counts))}))
    with atomic_output(Path(settings.folder) / partition.name, binary=True) as handle:
        pq.write_table(table, handle)
    return PartitionResult(partition.name, counts)


def _as_text(row: dict, text_columns: set[str]) -> dict:
    """``row`` with the values of text columns that are not text (JSON objects and arrays, nested
    Parquet values) as JSON text."""
    for name, value in row.items():
        if value is not None and not isinstance(value, str) and name in text_columns:
            row[name] = json.dumps(value, ensure_ascii=False)
    return row
