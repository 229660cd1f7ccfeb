"""The one scoring path: texts, documents, records and frames in, predictions out.

Everything that labels text goes through here: ``prediction_fields`` scores a batch of
texts with a loaded model and gives the fields a prediction adds; ``score_texts`` and
``document_prediction`` wrap them as ``Prediction`` objects (the Python API, the HTML
report); ``score_frame`` adds them as columns to a pandas frame (the API's
``classify_frame``, each partition of the Dask engine); ``ScoringPipeline`` labels input
records batch by batch, splitting documents into sentences when asked and adding
provenance fields, and counts what it saw (both engines' jobs).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from ..classifiers.base import check_texts
from ..data.language import detect_scope
from ..data.segment import split_sentences
from ..errors import InputError
from ..io.readers import BadRecord, BlankLine, InputRecord, ReadItem
from ..io.writers import flatten_for_csv
from ..labels import TASKS
from ..prediction import DocumentPrediction, Prediction

if TYPE_CHECKING:
    import pandas

PREDICTION_TYPES: dict[str, type] = {
    "stance": str, "stance_confidence": float, "stance_scores": dict, "claim_type": str, "claim_confidence": float,
    "claim_scores": dict, "model": str, "model_version": str, "truncated": bool, "language": str, "in_scope": bool}
"""The fields a prediction adds to a record, in output order, and the type of each value (scores: label → float)."""
PREDICTION_FIELDS = tuple(PREDICTION_TYPES)
EVIDENCE_FIELD = "evidence"
"""With explanations: the evidence for the predicted labels (``TextClassifier.explain``), after the prediction fields."""
PROVENANCE_FIELDS = ("input_file", "input_line")
"""Where an output record came from: the input file (``<stdin>`` for ``-``) and its line."""
SENTENCE_FIELDS = ("document", "sentence", "start", "end")
"""With sentence splitting: the input record's index in the job, the sentence's index in it, and its offsets."""
DEFAULT_BATCH_SIZE = 256


def prediction_names(explain: bool = False) -> tuple[str, ...]:
    """The names of the fields a prediction adds, in output order (with ``evidence`` when explaining)."""
    return PREDICTION_FIELDS + ((EVIDENCE_FIELD,) if explain else ())


def provenance_names(split_sentences: bool = False) -> tuple[str, ...]:
    """The names of the fields that trace an output record to its input, in output order."""
    return PROVENANCE_FIELDS + (SENTENCE_FIELDS if split_sentences else ())


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
    predicted = [{"stance": stance[i], "stance_confidence": stance_conf[i], "stance_scores": stance_scores[i],
                  "claim_type": claim[i], "claim_confidence": claim_conf[i], "claim_scores": claim_scores[i],
                  "model": name, "model_version": version, "truncated": truncated,
                  "language": scopes[i].language, "in_scope": scopes[i].in_scope}
                 for i, truncated in enumerate(scores.truncated.tolist())]
    if explain:
        for record, evidence in zip(predicted, model.explain(texts, predicted)):
            record[EVIDENCE_FIELD] = evidence
    return predicted


def prediction_sample(classes: Sequence[Sequence[str]], prefix: str = "", explain: bool = False) -> dict:
    """One prediction of a model with these label sets (``model.classes_``) flattened into columns
    (CSV, data frames, Parquet), each value of its column's type: labels and evidence "", confidences
    and scores 0.0, flags False."""
    scores = {f"{task}_scores": {str(label): 0.0 for label in labels}
              for task, labels in zip(("stance", "claim"), classes)}
    sample = {name: scores[name] if name in scores else PREDICTION_TYPES.get(name, str)()
              for name in prediction_names(explain)}
    return {prefix + name: value for name, value in flatten_for_csv(sample).items()}


def prediction_columns(classes: Sequence[Sequence[str]], prefix: str = "", explain: bool = False) -> list[str]:
    """The names of the prediction fields flattened into columns (CSV, data frames), scores per label."""
    return list(prediction_sample(classes, prefix, explain))


def output_columns(columns: Iterable[str], classes: Sequence[Sequence[str]], *, prefix: str = "",
                   explain: bool = False, split_sentences: bool = False) -> list[str]:
    """The flattened columns of output records built from inputs with these columns: the input
    columns, the prediction columns, then the provenance (and sentence) columns."""
    return list(dict.fromkeys([*columns, *prediction_columns(classes, prefix, explain),
                               *(prefix + name for name in provenance_names(split_sentences))]))


def score_texts(model, texts: list[str], spans: Sequence[tuple[int, int]] | None = None,
                explain: bool = False) -> list[Prediction]:
    """Score ``texts`` with a loaded model as Prediction objects (with offsets when ``spans`` is given)."""
    spans = spans or [(None, None)] * len(texts)
    return [Prediction(text=text, start=start, end=end, **predicted)
            for text, (start, end), predicted in zip(texts, spans, prediction_fields(model, texts, explain))]


def document_prediction(model, text: str, explain: bool = False) -> DocumentPrediction:
    """Split a document into sentences, score each with its offsets in ``text``, and summarise the
    share of every label."""
    sentences = split_sentences(text)
    scored = score_texts(model, [s.text for s in sentences], [(s.start, s.end) for s in sentences], explain)
    labels = {task: tuple(str(c) for c in classes) for task, classes in zip(TASKS, model.classes_)}
    return DocumentPrediction.from_sentences(text, scored, labels)


def check_frame(columns: Iterable, text_column: str, added: Iterable[str]) -> None:
    """Refuse a frame without ``text_column``, or one that already has a column about to be added (ValueError)."""
    columns = list(columns)
    if text_column not in columns:
        raise ValueError(f"no column {text_column!r} in the frame (columns: {', '.join(map(str, columns))})")
    taken = [name for name in added if name in columns]
    if taken:
        raise ValueError(f"the frame already has column(s) {', '.join(taken)}; "
                         "choose a prefix for the prediction columns (prefix=...)")


def score_frame(model, frame: "pandas.DataFrame", text_column: str = "text", *, prefix: str = "",
                batch_size: int = DEFAULT_BATCH_SIZE, explain: bool = False) -> "pandas.DataFrame":
    """A copy of ``frame`` with the prediction columns of a loaded model added (names starting with
    ``prefix``), rows and index unchanged; texts are scored ``batch_size`` at a time. ValueError for
    a missing text column or a column name already taken, TypeError for a value that is not a str."""
    import pandas

    check_frame(frame.columns, text_column, prediction_columns(model.classes_, prefix, explain))
    texts = check_texts(frame[text_column].tolist())
    rows = [flatten_for_csv(predicted) for start in range(0, len(texts), batch_size)
            for predicted in prediction_fields(model, texts[start:start + batch_size], explain)]
    added = pandas.DataFrame.from_records(rows, columns=prediction_columns(model.classes_, explain=explain),
                                          index=frame.index).add_prefix(prefix)
    return pandas.concat([frame, added], axis=1)


@dataclass
class JobCounts:
    """What scoring input items gave, by kind: the one set of counts both job engines report."""

    consumed: int = 0
    """Input items taken: records, blank lines and records that could not be read."""
    read: int = 0
    """Input records read (blank lines and unreadable records not counted)."""
    written: int = 0
    blank: int = 0
    skipped: int = 0
    """Records that could not be read, skipped (only when a job skips errors)."""
    truncated: int = 0
    out_of_scope: int = 0
    empty_documents: int = 0
    """With sentence splitting: records whose text holds no sentence."""

    def add(self, other: "JobCounts") -> None:
        """Add ``other``'s counts to these."""
        for name in (f.name for f in fields(JobCounts)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ScoredBatch:
    """What one batch of input items gave: output records, unreadable records, and the counts."""

    records: list[dict] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)
    counts: JobCounts = field(default_factory=JobCounts)


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
        self.added_fields = tuple(prefix + name
                                  for name in prediction_names(explain) + provenance_names(split_sentences))

    def output_columns(self, columns: Iterable[str]) -> list[str]:
        """The CSV columns of output records built from inputs with these columns."""
        return output_columns(columns, self.model.classes_, prefix=self.prefix, explain=self.explain,
                              split_sentences=self.split_sentences)

    def run(self, items: Iterable[ReadItem], first_document: int = 0) -> Iterator[ScoredBatch]:
        """Score input items batch by batch; a document's sentences always share one batch.

        ``first_document`` is the job-wide index of the first input item (after a resume).
        """
        batch = ScoredBatch()
        units: list[tuple[dict, str, dict]] = []
        for index, item in enumerate(items, start=first_document):
            counts = batch.counts
            counts.consumed += 1
            if isinstance(item, BadRecord):
                batch.bad.append(item)
                counts.skipped += 1
            elif isinstance(item, BlankLine):
                counts.blank += 1
            else:
                before = len(units)
                units.extend(self._units(item, index))
                counts.read += 1
                counts.empty_documents += len(units) == before
            if len(units) >= self.batch_size:
                yield self._scored(batch, units)
                batch, units = ScoredBatch(), []
        if batch.counts.consumed:
            yield self._scored(batch, units)

    def _units(self, record: InputRecord, index: int) -> Iterator[tuple[dict, str, dict]]:
        """Yield (input fields, text to score, added provenance fields) for one record."""
        clash = next((name for name in self.added_fields if name in record.fields), None)
        if clash is not None:
            raise InputError("input field has the name of an output field; rename it, or give the "
                             "output fields a prefix (`prefix`)", path=record.path, line=record.line, field=clash)
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
        predicted = prediction_fields(self.model, [text for _, text, _ in units], self.explain)
        p = self.prefix
        for (record, _, provenance), prediction in zip(units, predicted):
            batch.counts.truncated += prediction["truncated"]
            batch.counts.out_of_scope += not prediction["in_scope"]
            prefixed = {p + name: value for name, value in prediction.items()} if p else prediction
            batch.records.append({**record, **prefixed, **provenance})
        batch.counts.written += len(batch.records)
        return batch
