"""Labeled data and the text it is made of: the corpus and its splits, schema validation,
near-duplicates, sentence splitting and language detection.

- ``corpus``: loading labeled files (``load_records``, ``load_corpus``) and document-level splits.
- ``validation``: checking labeled files against ``annotations/schema.json``.
- ``near_duplicates``, ``segment``, ``language``: what texts are (similar, sentences, in scope).

The corpus functions are importable from here: ``from stancekit.data import load_corpus``.
"""

from .corpus import (SPLITS, assign_splits, corpus_files, load_corpus, load_records, read_split_assignment,
                     split_records, splits_file, to_dataset)

__all__ = ["SPLITS", "assign_splits", "corpus_files", "load_corpus", "load_records", "read_split_assignment",
           "split_records", "splits_file", "to_dataset"]
