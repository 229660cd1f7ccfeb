"""The shipped corpus: size and label counts, splits, and loading through `datasets`."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from stancekit.data import corpus_files, load_corpus, load_records, read_split_assignment, splits_file
from stancekit.labels import get_scheme

SCHEME = get_scheme()


@pytest.fixture(scope="module")
def records():
    return load_records()


def test_corpus_size_and_label_minimums(records):
    assert len(records) >= 1500
    stances = Counter(r["stance"] for r in records)
    claims = Counter(r["claim_type"] for r in records)
    assert all(stances[label] >= 300 for label in SCHEME.stances), stances
    assert all(claims[label] >= 80 for label in SCHEME.claim_types), claims
    for claim in SCHEME.claim_types:
        assert len({r["stance"] for r in records if r["claim_type"] == claim}) >= 2, claim


def test_every_seed_sentence_is_in_the_corpus(records):
    from conftest import SEEDS_DIR
    from stancekit.data.segment import split_sentences

    seed_texts = [r["text"] for r in records if r["origin"] == "seed"]
    expected = [s.text for path in sorted(SEEDS_DIR.glob("*.txt"))
                for s in split_sentences(path.read_text(encoding="utf-8"))]
    assert seed_texts == expected


def test_splits_keep_documents_whole_and_test_is_large_enough(records):
    splits = json.loads(splits_file().read_text(encoding="utf-8"))["splits"]
    listed = [doc for docs in splits.values() for doc in docs]
    assert len(listed) == len(set(listed)), "a document is in two splits"
    assert set(listed) == {r["doc_id"] for r in records}
    assignment = read_split_assignment()
    test_share = sum(assignment[r["doc_id"]] == "test" for r in records) / len(records)
    assert test_share >= 0.15


def test_load_corpus_returns_a_datasetdict():
    corpus = load_corpus()
    assert set(corpus) == {"train", "dev", "test"}
    assert corpus["train"].column_names[:3] == ["schema_version", "id", "text"]
    documents = [set(corpus[split]["doc_id"]) for split in corpus]
    assert not (documents[0] & documents[1] or documents[0] & documents[2] or documents[1] & documents[2])


def test_files_load_with_datasets_load_dataset(tmp_path):
    from datasets import load_dataset

    files = [str(path) for path in corpus_files()]
    dataset = load_dataset("json", data_files=files, split="train", cache_dir=str(tmp_path))
    assert len(dataset) == len(load_records())
    assert set(dataset["stance"]) == set(SCHEME.stances)


def test_corpus_v3_size_cells_and_no_near_duplicates(records):
    from stancekit.data.validation import validate_files
    from stancekit.data.near_duplicates import DEFAULT_THRESHOLD

    assert len(records) >= 9500
    cells = Counter((r["stance"], r["claim_type"]) for r in records)
    thin = {(stance, claim): cells[stance, claim] for stance in SCHEME.stances for claim in SCHEME.claim_types
            if cells[stance, claim] < 100}
    assert not thin, thin  # every stance × claim-type cell (the guidelines allow all 30, §7.15, §8.14)
    report = validate_files(corpus_files(), near_duplicate_threshold=DEFAULT_THRESHOLD)
    assert report.ok, [str(p) for p in report.problems[:5]]


def test_v1_test_documents_stay_in_the_test_split(records):
    content = json.loads(splits_file().read_text(encoding="utf-8"))
    v1 = content["v1_test_documents"]
    assert len(v1) == 17 and set(v1) <= set(content["splits"]["test"])
    assert sum(r["doc_id"] in set(v1) for r in records) == 365


def test_contrast_set_is_valid_and_no_sentence_near_duplicates_the_corpus(records):
    from stancekit.data.validation import validate_files
    from stancekit.paths import shipped_path

    paths = sorted(shipped_path("annotations/contrast").glob("*.jsonl"))
    contrast = [r for path in paths for r in load_records([path])]
    groups = Counter(r["doc_id"] for r in contrast)
    assert len(groups) >= 600 and set(groups.values()) <= {2, 3}
    # validated together with the corpus: a contrast member may resemble its group, never a corpus sentence
    report = validate_files([*corpus_files(), *paths])
    assert report.ok, [str(p) for p in report.problems[:5]]
