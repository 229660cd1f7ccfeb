"""The local engine: a job's input files scored in this process into an output file or a stream.

``run_job`` reads the inputs (``io.readers``), scores them (``scoring.ScoringPipeline``)
and writes them in the job's output format (``WRITERS``). A file is written through a
``ResumableOutput``: an error removes it, an interrupt keeps what a resumed job needs,
and a checkpoint is recorded about once a second.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from typing import IO, Callable, Iterator

from ..io.lines import STDIN
from ..io.readers import ReadItem, input_columns, read_inputs
from ..io.resumable import ResumableOutput
from ..io.writers import CsvWriter, JsonLinesWriter, Writer, output_format
from ..progress import progress_bar
from ..registry import load_model
from ..views.table import TableWriter
from .job import ClassifyJob, JobSummary, check_job, job_fingerprint
from .scoring import ScoringPipeline

WRITERS: dict[str, Callable[..., Writer]] = {"jsonl": JsonLinesWriter, "csv": CsvWriter, "table": TableWriter}
"""Output format → writer class, called as ``Writer(stream, columns=, write_header=, text_field=, prefix=,
show_source=)`` (each takes the options it needs)."""
_CHECKPOINT_SECONDS = 1.0
INTERRUPT_HOOK = "STANCEKIT_TEST_INTERRUPT"
"""Tests only: ``SIGNAL:N`` (``KILL:2000``, ``INT:500``) makes a job that writes a file checkpoint after
every batch and send itself that signal as soon as the batch that takes it past N input records is
written, before that batch's checkpoint: a deterministic stand-in for a killed machine or a Ctrl-C."""


def run_job(job: ClassifyJob, stdout: IO[str]) -> JobSummary:
    """Classify every record of ``job.inputs`` into ``job.output`` (or ``stdout``); return the counts.

    File output is written through ``OUT.partial`` and moved into place at the end; an
    error removes it, an interrupt keeps what a resumed job needs (``job.resume``).
    """
    inputs, formats = check_job(job)
    fmt = output_format(job.output, job.output_format)
    model = load_model(job.model, job.device)
    pipeline = ScoringPipeline(model, text_field=job.text_field, split_sentences=job.split_sentences,
                               batch_size=job.batch_size, prefix=job.prefix, explain=job.explain)
    options = {"text_field": job.text_field, "prefix": job.prefix,
               "columns": _csv_columns(inputs, formats, job.text_field, pipeline) if fmt == "csv" else None,
               "show_source": len(inputs) > 1 or job.split_sentences}
    summary = JobSummary(output=job.output or "stdout")
    sink = None
    if job.output:
        fingerprint = job_fingerprint(job, inputs, formats, (model.name, model.version, model.manifest_sha256_))
        sink = ResumableOutput(job.output, lambda stream, header: WRITERS[fmt](stream, write_header=header, **options),
                               job.resume, job.rejects, job=fingerprint)
    write = sink.writer.write if sink else WRITERS[fmt](stdout, **options).write
    items: Iterator[ReadItem] = itertools.chain.from_iterable(
        read_inputs(path, f, job.text_field, job.skip_errors) for path, f in zip(inputs, formats))
    done = summary.resumed_after = sink.progress.records_done if sink else 0
    items = itertools.islice(items, done, None)
    interrupt = _interrupt_hook() if sink else None
    last_checkpoint = time.monotonic()
    try:
        with progress_bar(None, "classifying", job.quiet, unit="rec") as bar:
            for batch in pipeline.run(items, first_document=done):
                write(batch.records)
                done += batch.counts.consumed
                summary.add(batch.counts)
                summary.bad_records.extend(batch.bad)
                bar.update(batch.counts.consumed)
                if not sink:
                    stdout.flush()
                    continue
                for bad in batch.bad:
                    sink.reject(bad)
                if interrupt and done >= interrupt[1]:
                    sink.stream.flush()
                    os.kill(os.getpid(), interrupt[0])
                if interrupt or time.monotonic() - last_checkpoint >= _CHECKPOINT_SECONDS:
                    sink.checkpoint(done)
                    last_checkpoint = time.monotonic()
    except KeyboardInterrupt:
        if sink:
            sink.checkpoint(done)
            sink.close()
        raise
    except BaseException:
        if sink:
            sink.discard()
        raise
    if sink:
        sink.commit()
    return summary


def _interrupt_hook() -> tuple[int, int] | None:
    """The signal and record count of ``INTERRUPT_HOOK``, when it is set."""
    setting = os.environ.get(INTERRUPT_HOOK)
    if not setting:
        return None
    name, _, count = setting.partition(":")
    return getattr(signal, f"SIG{name}"), int(count)


def _csv_columns(inputs: list[str], formats: list[str], text_field: str, pipeline: ScoringPipeline
                 ) -> list[str] | None:
    """Every CSV column of the job's output, from a first pass over the inputs (None for stdin)."""
    if STDIN in inputs:
        return None
    columns: dict[str, None] = {}
    for path, fmt in zip(inputs, formats):
        columns.update(dict.fromkeys(input_columns(path, fmt, text_field)))
    return pipeline.output_columns(columns)
