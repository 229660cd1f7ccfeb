"""Character n-gram TF-IDF features computed with NumPy array operations.

scikit-learn's character analyzer builds every n-gram as a Python string, which
caps a TF-IDF model at a few thousand sentences per second. This vectorizer
hashes all n-grams of a batch at once over the text's code points and keeps the
hash buckets seen in at least ``min_df`` training texts as its vocabulary.

Each n-gram occurrence adds its bucket's smoothed IDF to the text's row, and the
row is divided by the square root of the sum of squared IDFs of its occurrences.
For a text whose n-grams are all distinct this is exactly TF-IDF with L2
normalisation; repeated n-grams count linearly. Avoiding the per-text
de-duplication keeps the whole transform free of sorting.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.sparse import csr_matrix

_PRIME = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)


class HashedCharNgramVectorizer:
    """Lower-cased character n-grams (spaces included) hashed into ``2**n_bits`` buckets."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), n_bits: int = 22, min_df: int = 2) -> None:
        self.ngram_range = tuple(ngram_range)
        self.n_bits = n_bits
        self.min_df = min_df

    def _hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return (row index, bucket) of every n-gram occurrence in ``texts``, ordered by row."""
        lowered = [text.lower() for text in texts]
        code_points = np.frombuffer("".join(lowered).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lengths = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
        row_of_char = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        low, high = self.ngram_range
        # One column per n: the n-gram starting at each character, or -1 where it would
        # run past the end of its text. Flattening row-major keeps occurrences in text order.
        buckets = np.full((len(code_points), high - low + 1), -1, dtype=np.int64)
        shift = np.uint64(64 - self.n_bits)
        with np.errstate(over="ignore"):
            running = np.zeros(len(code_points), dtype=np.uint64)
            for n in range(1, min(high, len(code_points)) + 1):
                count = len(code_points) - n + 1
                running = running[:count] * _PRIME + code_points[n - 1:]
                if n >= low:
                    column = ((running ^ np.uint64(n)) * _MIX) >> shift
                    column = column.astype(np.int64)
                    column[row_of_char[:count] != row_of_char[n - 1:]] = -1
                    buckets[:count, n - low] = column
        buckets = buckets.ravel()
        valid = buckets >= 0
        rows = np.repeat(row_of_char, high - low + 1)
        return rows[valid], buckets[valid]

    def fit(self, texts: Sequence[str]) -> "HashedCharNgramVectorizer":
        """Keep the buckets present in at least ``min_df`` texts and learn their IDF."""
        rows, buckets = self._hashes(texts)
        pairs = np.unique(rows * (1 << self.n_bits) + buckets)
        present, document_frequency = np.unique(pairs % (1 << self.n_bits), return_counts=True)
        keep = document_frequency >= self.min_df
        self.buckets_ = present[keep]
        self.idf_ = (np.log((1 + len(texts)) / (1 + document_frequency[keep])) + 1).astype(np.float32)
        self._build_lookup()
        return self

    def _build_lookup(self) -> None:
        self._lookup = np.full(1 << self.n_bits, -1, dtype=np.int32)
        self._lookup[self.buckets_] = np.arange(len(self.buckets_), dtype=np.int32)

    def set_state(self, buckets: np.ndarray, idf: np.ndarray) -> "HashedCharNgramVectorizer":
        """Restore a fitted state saved from ``buckets_`` and ``idf_``."""
        self.buckets_ = buckets.astype(np.int64)
        self.idf_ = idf.astype(np.float32)
        self._build_lookup()
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        """Return the normalised TF-IDF matrix of ``texts`` (see the module's description)."""
        rows, buckets = self._hashes(texts)
        columns = self._lookup[buckets]
        known = columns >= 0
        rows, columns = rows[known], columns[known]
        weights = self.idf_[columns]
        norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=len(texts)))
        norms[norms == 0] = 1
        weights /= norms[rows].astype(np.float32)
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        return csr_matrix((weights, columns, indptr), shape=(len(texts), len(self.buckets_)))
