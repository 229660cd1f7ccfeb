"""A batch classification job, as both engines take it: its options, their checks, its fingerprint
and the summary it ends with.

``run_job`` (``jobs.local``) runs a job in this process, ``run_dask_job``
(``jobs.dask_engine``) on a Dask cluster; both check it with ``check_job``, describe it
with ``job_fingerprint`` (what a resumed or rerun job must match) and count it in a
``JobSummary``, whose closing line is the same for both.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, OptionError
from ..io.lines import STDIN
from ..io.outputs import check_distinct_paths
from ..io.readers import BadRecord, input_format
from ..io.writers import output_format
from .scoring import DEFAULT_BATCH_SIZE, JobCounts

ENGINES = ("local", "dask")
DASK_UNSUPPORTED = ("split_sentences", "skip_errors", "rejects", "explain")
"""Options of a job that only the local engine offers."""


@dataclass
class ClassifyJob:
    """Everything a batch classification job needs: inputs, output, model and options."""

    inputs: list[str]
    model: str
    output: str | None = None
    output_format: str | None = None
    input_format: str | None = None
    text_field: str = "text"
    split_sentences: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE
    prefix: str = ""
    explain: bool = False
    resume: bool = False
    skip_errors: bool = False
    rejects: str | None = None
    quiet: bool = False
    device: str = "cpu"


@dataclass
class JobSummary(JobCounts):
    """The counts of a finished job, for its closing line, on either engine."""

    output: str = "stdout"
    bad_records: list[BadRecord] = field(default_factory=list)
    """The records that could not be read and were skipped (local engine, skipping errors)."""
    resumed_after: int = 0
    """Input records an interrupted run had written (local engine, resumed)."""
    partitions: int = 0
    partitions_skipped: int = 0
    """Partitions, and those an earlier run had written (dask engine)."""

    def line(self) -> str:
        """One line: records written and where, and every count that is not zero."""
        counts = ((self.read, "input record{s}"), (self.blank, "blank line{s}"),
                  (self.skipped, "skipped"), (self.truncated, "truncated"),
                  (self.out_of_scope, "out of scope (not English)"),
                  (self.empty_documents, "document{s} without sentences"))
        parts = [f"{n} {what.format(s='' if n == 1 else 's')}" for n, what in counts if n or "input" in what]
        return f"wrote {self.written} record{'' if self.written == 1 else 's'} to {self.output} ({', '.join(parts)})"


def check_job(job: ClassifyJob, engine: str = "local") -> tuple[list[str], list[str]]:
    """Check a job's options and paths for ``engine``; return its input paths and the format of each.

    The dask engine expands glob patterns among the inputs and gives absolute paths (its
    workers may run elsewhere). OptionError names the options that do not go together;
    InputError an input or output path.
    """
    if engine not in ENGINES:
        raise OptionError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "dask":
        unsupported = [name for name in DASK_UNSUPPORTED if getattr(job, name)]
        unsupported += ["output_format"] if job.output_format not in (None, "parquet") else []
        if unsupported:
            raise OptionError(f"{', '.join(f'`{name}`' for name in unsupported)}: not available on the dask engine")
        if not job.output:
            raise OptionError("the dask engine writes a Parquet folder: give its path as `output`")
    if job.resume and not job.output:
        raise OptionError("`resume` needs `output`: a job writing to stdout cannot be resumed")
    if job.rejects and not job.skip_errors:
        raise OptionError("`rejects` needs `skip_errors`")
    if job.rejects and not job.output:
        raise OptionError("`rejects` needs `output`: the rejects file is written and committed with the output file")
    if STDIN in job.inputs and (job.resume or engine == "dask"):
        raise OptionError("`resume` cannot re-read stdin; give the input as a file" if engine == "local"
                          else "the dask engine cannot read stdin; give the input as files")
    if output_format(job.output, job.output_format) == "table" and job.output:
        raise OptionError("`output_format` table writes to stdout only; leave out `output` or choose jsonl or csv")
    inputs = _expanded(job.inputs) if engine == "dask" else list(job.inputs)
    check_distinct_paths(inputs, [job.output, job.rejects])
    return inputs, [input_format(path, job.input_format) for path in inputs]


def _expanded(patterns: list[str]) -> list[str]:
    """Input paths with glob patterns expanded (sorted), as absolute paths."""
    paths = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise InputError("no file matches this pattern", path=pattern)
        paths.extend(str(Path(match).resolve()) for match in matches)
    return paths


def job_fingerprint(job: ClassifyJob, inputs: list[str], formats: list[str], model: tuple[str, str, str],
                    **engine: object) -> dict:
    """Everything that shapes a job's output: the model's identity (name, version, manifest SHA-256),
    the options, the inputs (path, size, modification time) and what ``engine`` adds."""
    described = []
    for path in inputs:
        status = os.stat(path)
        described.append([str(Path(path).resolve()), status.st_size, status.st_mtime_ns])
    return {"model": list(model), "text_field": job.text_field, "split_sentences": job.split_sentences,
            "prefix": job.prefix, "output_format": output_format(job.output, job.output_format),
            "input_formats": formats, "skip_errors": job.skip_errors, "inputs": described,
            **({"explain": True} if job.explain else {}), **engine}
