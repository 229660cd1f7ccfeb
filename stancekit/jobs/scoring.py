"""The one batch-scoring path: records in, labeled records out.

``ScoringPipeline`` turns input records into output records: it splits documents into
sentences when asked, scores texts in batches and adds the prediction and provenance
fields. ``run_job`` drives it from input files to an output file or stream, with
resume, rejects and a summary; the CLI, ``classify_document`` and distributed backends
all call this module rather than scoring on their own.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterable, Iterator, Sequence

from .errors import InputError
from .io import (STDIN, BadRecord, BlankLine, InputRecord, ReadItem, ResumableOutput, WRITERS,
                 check_distinct_paths, flatten_for_csv, input_columns, input_format, output_format,
                 read_inputs)
from .language import detect_scope
from .prediction import Prediction
from .segment import split_sentences

PREDICTION_TYPES: dict[str, type] = {
    "stance": str, "stance_confidence": float, "stance_scores": dict, "claim_type": str, "claim_confidence": float,
    "claim_scores": dict, "model": str, "model_version": str, "truncated": bool, "language": str, "in_scope": bool}
"""The fields a prediction adds to a record, in output order, and the type of each value (scores: label → float)."""
PREDICTION_FIELDS = tuple(PREDICTION_TYPES)
EVIDENCE_FIELD = "evidence"
"""With explanations: the evidence for the predicted labels (``explain.explain_texts``), after the prediction fields."""
PROVENANCE_FIELDS = ("input_file", "input_line")
"""Where an output record came from: the input file (``<stdin>`` for ``-``) and its line."""
SENTENCE_FIELDS = ("document", "sentence", "start", "end")
"""With sentence splitting: the input record's index in the job, the sentence's index in it, and its offsets."""
DEFAULT_BATCH_SIZE = 256
_CHECKPOINT_SECONDS = 1.0


def prediction_names(explain: bool = False) -> tuple[str, ...]:
    """The names of the fields a prediction adds, in output order (with ``evidence`` when explaining)."""
    return PREDICTION_FIELDS + ((EVIDENCE_FIELD,) if explain else ())


def prediction_fields(model, texts: list[str], explain: bool = False) -> list[dict]:
    """Score ``texts`` with a loaded model: one dict of ``prediction_names(explain)`` per text."""
    if not texts:
        return []
    scores = model.predict_scores(texts)
    per_task = []
    for classes, probabilities in zip(model.classes_, scores.probabilities):
        labels = [str(label) for label in classes]
        best = probabilities.argmax(axis=1)
        rows = probabilities.tolist()
        per_task.append(([labels[i] for i in best.tolist()],
                         [row[i] for row, i in zip(rows, best.tolist())],
                         [dict(zip(labels, row)) for row in rows]))
    (stance, stance_conf, stance_scores), (claim, claim_conf, claim_scores) = per_task
    name, version = model.name, model.version
    scopes = [detect_scope(text) for text in texts]
    fields = [{"stance": stance[i], "stance_confidence": stance_conf[i], "stance_scores": stance_scores[i],
               "claim_type": claim[i], "claim_confidence": claim_conf[i], "claim_scores": claim_scores[i],
               "model": name, "model_version": version, "truncated": truncated,
               "language": scopes[i].language, "in_scope": scopes[i].in_scope}
              for i, truncated in enumerate(scores.truncated.tolist())]
    if explain:
        from .explain import explain_texts

        for record, evidence in zip(fields, explain_texts(model, texts, fields)):
            record[EVIDENCE_FIELD] = evidence
    return fields


def prediction_sample(model, prefix: str = "", explain: bool = False) -> dict:
    """One prediction flattened into columns (CSV, data frames, Parquet), each value of its column's type:
    labels and evidence "", confidences and scores 0.0, flags False."""
    scores = {f"{task}_scores": {str(label): 0.0 for label in classes}
              for task, classes in zip(("stance", "claim"), model.classes_)}
    sample = {name: scores[name] if name in scores else PREDICTION_TYPES.get(name, str)()
              for name in prediction_names(explain)}
    return {prefix + name: value for name, value in flatten_for_csv(sample).items()}


def prediction_columns(model, prefix: str = "", explain: bool = False) -> list[str]:
    """The names of the prediction fields flattened into columns (CSV, data frames), scores per label."""
    return list(prediction_sample(model, prefix, explain))


def score_texts(model, texts: list[str], spans: Sequence[tuple[int, int]] | None = None,
                explain: bool = False) -> list[Prediction]:
    """Score ``texts`` with a loaded model as Prediction objects (with offsets when ``spans`` is given)."""
    spans = spans or [(None, None)] * len(texts)
    return [Prediction(text=text, start=start, end=end, **fields)
            for text, (start, end), fields in zip(texts, spans, prediction_fields(model, texts, explain))]


def score_document(model, text: str, explain: bool = False) -> list[Prediction]:
    """Split a document into sentences and score each, with its offsets in ``text``."""
    sentences = split_sentences(text)
    return score_texts(model, [s.text for s in sentences], [(s.start, s.end) for s in sentences], explain)


@dataclass
class ScoredBatch:
    """What one batch of input items gave: output records, bad records, and counts."""

    consumed: int
    records: list[dict]
    bad: list[BadRecord] = field(default_factory=list)
    blank: int = 0
    empty_documents: int = 0
    truncated: int = 0
    out_of_scope: int = 0


class ScoringPipeline:
    """Labels input records in batches and adds prediction and provenance fields to each.

    ``text_field`` names the field holding the text; with ``split_sentences`` each record
    is a document and each of its sentences becomes an output record (the text field then
    holds the sentence). Every added field's name starts with ``prefix``; an input field
    with the name of an added field is an error, never overwritten. ``explain`` adds the
    ``evidence`` field.
    """

    def __init__(self, model, *, text_field: str = "text", split_sentences: bool = False,
                 batch_size: int = DEFAULT_BATCH_SIZE, prefix: str = "", explain: bool = False) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.text_field = text_field
        self.split_sentences = split_sentences
        self.batch_size = batch_size
        self.prefix = prefix
        self.explain = explain
        extra = PROVENANCE_FIELDS + (SENTENCE_FIELDS if split_sentences else ())
        self.added_fields = tuple(prefix + name for name in prediction_names(explain) + extra)

    def output_columns(self, columns: Iterable[str]) -> list[str]:
        """The CSV columns of output records built from inputs with these columns."""
        provenance = self.added_fields[len(prediction_names(self.explain)):]
        return list(dict.fromkeys([*columns, *prediction_columns(self.model, self.prefix, self.explain),
                                   *provenance]))

    def run(self, items: Iterable[ReadItem], first_document: int = 0) -> Iterator[ScoredBatch]:
        """Score input items batch by batch; a document's sentences always share one batch.

        ``first_document`` is the job-wide index of the first input item (after a resume).
        """
        batch = ScoredBatch(0, [])
        units: list[tuple[dict, str, dict]] = []
        for index, item in enumerate(items, start=first_document):
            batch.consumed += 1
            if isinstance(item, BadRecord):
                batch.bad.append(item)
            elif isinstance(item, BlankLine):
                batch.blank += 1
            else:
                before = len(units)
                units.extend(self._units(item, index))
                batch.empty_documents += len(units) == before
            if len(units) >= self.batch_size:
                yield self._scored(batch, units)
                batch, units = ScoredBatch(0, []), []
        if batch.consumed:
            yield self._scored(batch, units)

    def _units(self, record: InputRecord, index: int) -> Iterator[tuple[dict, str, dict]]:
        """Yield (input fields, text to score, added provenance fields) for one record."""
        clash = next((name for name in self.added_fields if name in record.fields), None)
        if clash is not None:
            raise InputError("input field has the name of an output field; rename it, or give the "
                             "output fields a prefix (--prefix)", path=record.path, line=record.line, field=clash)
        p = self.prefix
        provenance = {p + "input_file": record.path, p + "input_line": record.line}
        if not self.split_sentences:
            yield record.fields, record.text, provenance
            return
        for number, sentence in enumerate(split_sentences(record.text)):
            yield ({**record.fields, self.text_field: sentence.text}, sentence.text,
                   {**provenance, p + "document": index, p + "sentence": number,
                    p + "start": sentence.start, p + "end": sentence.end})

    def _scored(self, batch: ScoredBatch, units: list[tuple[dict, str, dict]]) -> ScoredBatch:
        fields = prediction_fields(self.model, [text for _, text, _ in units], self.explain)
        p = self.prefix
        for (record, _, provenance), predicted in zip(units, fields):
            batch.truncated += predicted["truncated"]
            batch.out_of_scope += not predicted["in_scope"]
            prefixed = {p + name: value for name, value in predicted.items()} if p else predicted
            batch.records.append({**record, **prefixed, **provenance})
        return batch


# jobs: files in, a file or stream out ------------------------------------------------------------

@dataclass
class JobSummary:
    """The counts of a finished job, for its closing line."""

    output: str
    read: int = 0
    written: int = 0
    blank: int = 0
    skipped: list[BadRecord] = field(default_factory=list)
    truncated: int = 0
    out_of_scope: int = 0
    empty_documents: int = 0
    resumed_after: int = 0

    def line(self) -> str:
        """One line: records written and where, and every count that is not zero."""
        counts = ((self.read, "input record{s}"), (self.blank, "blank line{s}"),
                  (len(self.skipped), "skipped"), (self.truncated, "truncated"),
                  (self.out_of_scope, "out of scope (not English)"),
                  (self.empty_documents, "document{s} without sentences"))
        parts = [f"{n} {what.format(s='' if n == 1 else 's')}" for n, what in counts if n or "input" in what]
        return f"wrote {self.written} record{'' if self.written == 1 else 's'} to {self.output} ({', '.join(parts)})"


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


def run_job(job: ClassifyJob, stdout: IO[str]) -> JobSummary:
    """Classify every record of ``job.inputs`` into ``job.output`` (or ``stdout``); return the counts.

    File output is written through ``OUT.partial`` and renamed into place at the end; an
    error removes it, an interrupt keeps what ``--resume`` needs.
    """
    from .progress import progress_bar
    from .registry import load_model, resolve

    formats = _check_job(job)
    fmt = output_format(job.output, job.output_format)
    model = load_model(job.model, job.device)
    pipeline = ScoringPipeline(model, text_field=job.text_field, split_sentences=job.split_sentences,
                               batch_size=job.batch_size, prefix=job.prefix, explain=job.explain)
    writer_options = {"text_field": job.text_field, "prefix": job.prefix,
                      "columns": _csv_columns(job, formats, pipeline) if fmt == "csv" else None,
                      "show_source": len(job.inputs) > 1 or job.split_sentences}
    summary = JobSummary(job.output or "stdout")
    sink = None
    if job.output:
        sink = ResumableOutput(job.output, fmt, job.resume, job.rejects,
                               job=job_fingerprint(job, formats, resolve(job.model), model), **writer_options)
    write = sink.writer.write if sink else WRITERS[fmt](stdout, **writer_options).write
    items: Iterator[ReadItem] = itertools.chain.from_iterable(
        read_inputs(path, f, job.text_field, job.skip_errors) for path, f in zip(job.inputs, formats))
    done = summary.resumed_after = sink.progress.records_done if sink else 0
    items = itertools.islice(items, done, None)
    last_checkpoint = time.monotonic()
    try:
        with progress_bar(None, "classifying", job.quiet, unit="rec") as bar:
            for batch in pipeline.run(items, first_document=done):
                write(batch.records)
                done += batch.consumed
                _count(summary, batch, sink)
                bar.update(batch.consumed)
                if sink and time.monotonic() - last_checkpoint >= _CHECKPOINT_SECONDS:
                    sink.checkpoint(done)
                    last_checkpoint = time.monotonic()
                elif not sink:
                    stdout.flush()
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


def _check_job(job: ClassifyJob) -> list[str]:
    """Check the job's options and paths; return the format of each input."""
    if job.resume and not job.output:
        raise InputError("--resume needs --output: a job writing to stdout cannot be resumed")
    if job.rejects and not job.skip_errors:
        raise InputError("--rejects needs --skip-errors")
    if job.rejects and not job.output:
        raise InputError("--rejects needs --output: the rejects file is written and committed with the output file")
    if job.resume and STDIN in job.inputs:
        raise InputError("--resume cannot re-read stdin; give the input as a file")
    if output_format(job.output, job.output_format) == "table" and job.output:
        raise InputError("--format table writes to stdout only; drop --output or choose jsonl/csv")
    check_distinct_paths(job.inputs, [job.output, job.rejects])
    return [input_format(path, job.input_format) for path in job.inputs]


def _csv_columns(job: ClassifyJob, formats: list[str], pipeline: ScoringPipeline) -> list[str] | None:
    """Every CSV column of the job's output, from a first pass over the inputs (None for stdin)."""
    if STDIN in job.inputs:
        return None
    columns: dict[str, None] = {}
    for path, fmt in zip(job.inputs, formats):
        columns.update(dict.fromkeys(input_columns(path, fmt, job.text_field)))
    return pipeline.output_columns(columns)


def _count(summary: JobSummary, batch: ScoredBatch, sink: ResumableOutput | None) -> None:
    summary.read += batch.consumed - batch.blank - len(batch.bad)
    summary.written += len(batch.records)
    summary.blank += batch.blank
    summary.empty_documents += batch.empty_documents
    summary.truncated += batch.truncated
    summary.out_of_scope += batch.out_of_scope
    summary.skipped.extend(batch.bad)
    for bad in batch.bad:
        if sink:
            sink.reject(bad)


def job_fingerprint(job: ClassifyJob, formats: list[str], model_folder: Path, model) -> dict:
    """Everything that shapes a job's output: the model's identity, the options and the inputs."""
    from .artifacts import model_digest

    inputs = []
    for path in job.inputs:
        status = os.stat(path)
        inputs.append([str(Path(path).resolve()), status.st_size, status.st_mtime_ns])
    return {"model": [model.name, model.version, model_digest(model_folder)], "text_field": job.text_field,
            "split_sentences": job.split_sentences, "prefix": job.prefix,
            "output_format": output_format(job.output, job.output_format), "input_formats": formats,
            "skip_errors": job.skip_errors, "inputs": inputs, **({"explain": True} if job.explain else {})}
