"""The labeled corpus: loading labeled files (validated), ``datasets`` objects, and document-level splits."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..io.lines import iter_jsonl
from ..labels import load_schema
from ..paths import shipped_path
from .validation import validate_files

SPLITS: tuple[str, str, str] = ("train", "dev", "test")
DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.70, "dev": 0.15, "test": 0.15}


def corpus_files() -> list[Path]:
    """The JSON Lines files of the shipped corpus."""
    return sorted(shipped_path("annotations/corpus").glob("*.jsonl"))


def splits_file() -> Path:
    """The shipped document-level split assignment of the corpus."""
    return shipped_path("annotations/splits.json")


def load_records(paths: Sequence[str | Path] | None = None) -> list[dict]:
    """Read and validate labeled files (default: the shipped corpus) into a list of records.

    Raises InputError with the first problem when any file does not follow the schema.
    """
    paths = list(paths) if paths else corpus_files()
    report = validate_files(paths)
    if not report.ok:
        first = report.problems[0]
        more = len(report.problems) - 1
        suffix = f" (and {more} more problems; `validate_files` lists them all)" if more else ""
        raise InputError(first.reason + suffix, path=first.path, line=first.line, field=first.field)
    return [record for path in paths for _, record in iter_jsonl(path)]


def _features():
    from datasets import Features, Sequence as SequenceFeature, Value

    properties = load_schema()["properties"]
    return Features({name: SequenceFeature(Value("string")) if name == "secondary_claim_types"
                     else Value("string") for name in properties})


def to_dataset(records: Sequence[dict]):
    """Turn records into a ``datasets.Dataset`` with every schema field as a column."""
    from datasets import Dataset

    features = _features()
    rows = [{name: record.get(name) for name in features} for record in records]
    return Dataset.from_list(rows, features=features)


def assign_splits(doc_sizes: dict[str, int], seed: int = 13,
                  fractions: dict[str, float] = DEFAULT_FRACTIONS) -> dict[str, str]:
    """Assign whole documents to train/dev/test at random, so no document straddles splits.

    ``doc_sizes`` maps each document to its record count. Documents are shuffled with
    ``seed`` and taken into test, then dev, until each holds its fraction of the records;
    the rest go to train.
    """
    documents = sorted(doc_sizes)
    random.Random(seed).shuffle(documents)
    total = sum(doc_sizes.values())
    assignment, filled = {}, {split: 0 for split in SPLITS}
    for document in documents:
        split = next((s for s in ("test", "dev") if filled[s] < fractions[s] * total), "train")
        assignment[document] = split
        filled[split] += doc_sizes[document]
    return assignment


def read_split_assignment(path: str | Path | None = None) -> dict[str, str]:
    """Read a splits file (default: the shipped one, if any) into a ``doc_id -> split`` mapping."""
    if path is None:
        try:
            path = splits_file()
        except FileNotFoundError:
            return {}
    with open(path, encoding="utf-8") as handle:
        content = json.load(handle)
    return {doc: split for split in SPLITS for doc in content["splits"][split]}


def split_records(records: Sequence[dict], assignment: dict[str, str] | None = None,
                  seed: int = 13) -> dict[str, list[dict]]:
    """Group records by split. Documents missing from ``assignment`` are assigned at random by ``seed``."""
    assignment = dict(assignment or {})
    unassigned = Counter(r["doc_id"] for r in records if r["doc_id"] not in assignment)
    assignment.update(assign_splits(unassigned, seed=seed))
    grouped: dict[str, list[dict]] = {split: [] for split in SPLITS}
    for record in records:
        grouped[assignment[record["doc_id"]]].append(record)
    return grouped


def load_corpus(paths: Sequence[str | Path] | None = None, splits: str | Path | None = None,
                seed: int = 13):
    """Load labeled files (default: the shipped corpus) as a ``datasets.DatasetDict`` of train/dev/test.

    Documents are assigned by the splits file (default: the shipped one); documents it
    does not list are assigned at random with ``seed``.
    """
    from datasets import DatasetDict

    records = load_records(paths)
    grouped = split_records(records, read_split_assignment(splits), seed=seed)
    return DatasetDict({split: to_dataset(rows) for split, rows in grouped.items()})
