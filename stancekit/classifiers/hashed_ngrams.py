"""Word and character n-gram TF-IDF features computed with NumPy array operations.

scikit-learn's analyzers build every n-gram as a Python string, which caps a TF-IDF
model at a few thousand sentences per second. These vectorizers hash all n-grams of
a batch at once over the text's code points and keep the hash buckets seen in at
least ``min_df`` training texts as their vocabulary (``2**n_bits`` buckets make
collisions between kept n-grams rare).

Weighting: each n-gram occurrence adds its bucket's smoothed IDF,
``log((1 + n) / (1 + df)) + 1``, to the text's row, and the row is divided by the
square root of the sum of squared IDFs of its occurrences. For a text whose n-grams
are all distinct this is exactly TF-IDF with L2 normalisation; repeated n-grams
count linearly. Skipping the per-text de-duplication keeps the transform free of
sorting.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np
from scipy.sparse import csr_matrix

_PRIME = np.uint64(0x100000001B3)
_PRIME_INVERSE = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_MIX = np.uint64(0x9E3779B97F4A7C15)
_HASHTAG = np.uint64(0x5BD1E995)
_ASCII_WORD = np.array([chr(c).isalnum() or chr(c) == "_" for c in range(128)])


def _code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Lower-cased code points of all texts, one after another, and the text of each."""
    lowered = [text.lower() for text in texts]
    points = np.frombuffer("".join(lowered).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
    return points, np.repeat(np.arange(len(texts), dtype=np.int64), lengths)


@dataclass(frozen=True)
class NgramGrid:
    """The n-grams of a batch of texts, one row per unit (code point or word) an n-gram can start at.

    ``hashes[i, c]`` is the hash of the n-gram of ``low + c`` units starting at unit ``i``,
    present where ``valid[i, c]``; ``rows[i]`` is the text of unit ``i``. ``starts`` and
    ``ends`` are the units' code-point offsets in the texts joined, lower-cased; None when
    the units are the code points themselves.
    """

    hashes: np.ndarray
    valid: np.ndarray
    rows: np.ndarray
    starts: np.ndarray | None = None
    ends: np.ndarray | None = None


class NgramOccurrences(NamedTuple):
    """Kept n-gram occurrences: text row, feature column, weight, and span ``[start, end)`` in the
    lower-cased text."""

    rows: np.ndarray
    columns: np.ndarray
    weights: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


class HashedNgramVectorizer(ABC):
    """Shared fitting and weighting; subclasses say which n-grams a text has."""

    def __init__(self, ngram_range: tuple[int, int], n_bits: int = 22, min_df: int = 2) -> None:
        self.ngram_range = tuple(ngram_range)
        self.n_bits = n_bits
        self.min_df = min_df

    @abstractmethod
    def _grid(self, texts: Sequence[str]) -> NgramGrid:
        """Every n-gram of ``texts``, by the unit it starts at and its length."""

    def _hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return (row index, 64-bit hash) of every n-gram occurrence, ordered by row."""
        grid = self._grid(texts)
        valid = grid.valid.ravel()
        return np.repeat(grid.rows, grid.valid.shape[1])[valid], grid.hashes.ravel()[valid]

    def _bucket(self, hashes: np.ndarray) -> np.ndarray:
        return ((hashes * _MIX) >> np.uint64(64 - self.n_bits)).astype(np.int64)

    def _buckets(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        rows, hashes = self._hashes(texts)
        return rows, self._bucket(hashes)

    def fit(self, texts: Sequence[str]) -> "HashedNgramVectorizer":
        """Keep the buckets present in at least ``min_df`` texts and learn their IDF."""
        rows, buckets = self._buckets(texts)
        pairs = np.unique(rows * (1 << self.n_bits) + buckets)
        present, document_frequency = np.unique(pairs % (1 << self.n_bits), return_counts=True)
        keep = document_frequency >= self.min_df
        return self.set_state(present[keep],
                              np.log((1 + len(texts)) / (1 + document_frequency[keep])) + 1)

    def set_state(self, buckets: np.ndarray, idf: np.ndarray) -> "HashedNgramVectorizer":
        """Set the fitted state: the kept buckets (ascending) and their IDF weights."""
        self.buckets_ = np.asarray(buckets, dtype=np.int64)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self._lookup = np.full(1 << self.n_bits, -1, dtype=np.int32)
        self._lookup[self.buckets_] = np.arange(len(self.buckets_), dtype=np.int32)
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        """Return the normalised TF-IDF matrix of ``texts`` (see the module's description)."""
        rows, columns, weights, _ = self._weighted(*self._buckets(texts), len(texts))
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        return csr_matrix((weights, columns, indptr), shape=(len(texts), len(self.buckets_)))

    def _weighted(self, rows: np.ndarray, buckets: np.ndarray, n_texts: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The occurrences of kept buckets: (row, column, normalised weight) and which occurrences were kept."""
        columns = self._lookup[buckets]
        known = columns >= 0
        rows, columns = rows[known], columns[known]
        weights = self.idf_[columns]
        norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=n_texts))
        norms[norms == 0] = 1
        weights /= norms[rows].astype(np.float32)
        return rows, columns, weights, known

    def occurrences(self, texts: Sequence[str]) -> NgramOccurrences:
        """Every occurrence of a kept n-gram in ``texts``, with its span in the lower-cased text.

        An occurrence's weight is its share of its entry in ``transform``'s matrix: the
        weights of one column's occurrences in one text add up to that entry.
        """
        grid = self._grid(texts)
        units, sizes = np.nonzero(grid.valid)  # row-major: the order of ``_hashes``
        last = units + sizes + self.ngram_range[0] - 1
        starts = units if grid.starts is None else grid.starts[units]
        ends = last + 1 if grid.ends is None else grid.ends[last]
        rows, columns, weights, known = self._weighted(grid.rows[units], self._bucket(grid.hashes[units, sizes]),
                                                      len(texts))
        text_starts = np.concatenate([[0], np.cumsum([len(text.lower()) for text in texts])])
        return NgramOccurrences(rows, columns, weights, starts[known] - text_starts[rows],
                                ends[known] - text_starts[rows])


class HashedCharNgramVectorizer(HashedNgramVectorizer):
    """Lower-cased character n-grams, spaces and punctuation included."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), n_bits: int = 22, min_df: int = 2) -> None:
        super().__init__(ngram_range, n_bits, min_df)

    def _grid(self, texts: Sequence[str]) -> NgramGrid:
        points, row_of_point = _code_points(texts)
        low, high = self.ngram_range
        # One column per n: the n-gram starting at each character, or 0 (dropped) where it
        # would run past the end of its text. Row-major flattening keeps the text order.
        hashes = np.zeros((len(points), high - low + 1), dtype=np.uint64)
        valid = np.zeros(hashes.shape, dtype=bool)
        with np.errstate(over="ignore"):
            running = np.zeros(len(points), dtype=np.uint64)
            for n in range(1, min(high, len(points)) + 1):
                count = len(points) - n + 1
                running = running[:count] * _PRIME + points[n - 1:]
                if n >= low:
                    hashes[:count, n - low] = running ^ np.uint64(n)
                    valid[:count, n - low] = row_of_point[:count] == row_of_point[n - 1:]
        return NgramGrid(hashes, valid, row_of_point)


class HashedWordNgramVectorizer(HashedNgramVectorizer):
    """Lower-cased word n-grams: words are runs of two or more letters, digits or '_',
    and a '#' before a word makes it a different word (a hashtag)."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), n_bits: int = 22, min_df: int = 2) -> None:
        super().__init__(ngram_range, n_bits, min_df)

    def _grid(self, texts: Sequence[str]) -> NgramGrid:
        points, row_of_point = _code_points(texts)
        if not len(points):
            none = np.empty(0, dtype=np.int64)
            width = self.ngram_range[1] - self.ngram_range[0] + 1
            return NgramGrid(np.empty((0, width), dtype=np.uint64), np.empty((0, width), dtype=bool), none, none, none)
        is_word = _word_characters(points)
        edges = np.diff(np.concatenate([[False], is_word, [False]]).astype(np.int8))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        # a run that crosses from one text into the next is cut at the text boundary
        text_starts = np.flatnonzero(np.diff(np.concatenate([[-1], row_of_point])))
        starts, ends = _split_at(starts, ends, text_starts)
        long_enough = ends - starts >= 2
        starts, ends = starts[long_enough], ends[long_enough]
        word_rows = row_of_point[starts]
        with np.errstate(over="ignore"):
            # position-free hash of points[s:e]: (S[e] - S[s]) * B**s, S = cumsum(points * B**-i)
            powers = np.cumprod(np.concatenate([[np.uint64(1)], np.full(len(points), _PRIME)]))
            inverse_powers = np.cumprod(np.concatenate([[np.uint64(1)],
                                                        np.full(len(points) - 1, _PRIME_INVERSE)]))
            prefix = np.concatenate([[np.uint64(0)], np.cumsum(points * inverse_powers)])
            words = (prefix[ends] - prefix[starts]) * powers[starts]
            hashtag = np.zeros(len(starts), dtype=bool)
            after_char = starts > 0
            hashtag[after_char] = (points[starts[after_char] - 1] == ord("#")) & \
                                  (row_of_point[starts[after_char] - 1] == word_rows[after_char])
            words = words ^ (hashtag * _HASHTAG) ^ np.uint64(1)
            low, high = self.ngram_range
            hashes = np.zeros((len(words), high - low + 1), dtype=np.uint64)
            valid = np.zeros(hashes.shape, dtype=bool)
            running = np.zeros(len(words), dtype=np.uint64)
            for n in range(1, min(high, len(words)) + 1):
                count = len(words) - n + 1
                running = running[:count] * _MIX + words[n - 1:]
                if n >= low:
                    hashes[:count, n - low] = running ^ (np.uint64(n) << np.uint64(32))
                    valid[:count, n - low] = word_rows[:count] == word_rows[n - 1:]
        return NgramGrid(hashes, valid, word_rows, starts, ends)


def _word_characters(points: np.ndarray) -> np.ndarray:
    """True where a code point is a letter, a digit or '_'."""
    is_word = np.zeros(len(points), dtype=bool)
    ascii_ = points < 128
    is_word[ascii_] = _ASCII_WORD[points[ascii_]]
    if not ascii_.all():
        others, inverse = np.unique(points[~ascii_], return_inverse=True)
        flags = np.array([chr(int(c)).isalnum() for c in others], dtype=bool)
        is_word[~ascii_] = flags[inverse]
    return is_word


def _split_at(starts: np.ndarray, ends: np.ndarray, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split the disjoint, ascending runs [start, end) at every cut strictly inside a run."""
    owner = np.searchsorted(starts, cuts, side="right") - 1
    has_owner = owner >= 0
    cuts, owner = cuts[has_owner], owner[has_owner]
    inside = cuts[(starts[owner] < cuts) & (cuts < ends[owner])]
    if not len(inside):
        return starts, ends
    return np.sort(np.concatenate([starts, inside])), np.sort(np.concatenate([ends, inside]))
