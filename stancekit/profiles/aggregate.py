"""Group shares with intervals from a bootstrap over documents.

Sentences of one article are not independent: an article that frames an event as foreign
interference usually does so in several sentences. So a group's share of a label is the
ratio of its labelled sentences to all its sentences, and its 95 % interval comes from
resampling the group's *documents* with replacement (a cluster bootstrap): each resample
draws as many documents as the group has, sums their sentences and labels, and takes the
ratio again; the interval runs between two percentiles of the resampled ratios: the 2.5th and
97.5th for many documents, further out for few (an expanded percentile interval,
``interval_quantiles``).

The records are first summed per document (``document_table``): that is the only pass over
the records, and it runs the same way on a pandas and on a dask dataframe; the bootstrap
then works on the small table of documents. Each group's resamples come from its own
random stream, derived from the seed and the group's key, so a group's interval does not
depend on the other groups, on the order of the input, or on how a dask dataframe is
partitioned.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import numpy as np

from .settings import LEVEL, Settings
from .records import DOCUMENT, MISSING, PROBLEM, SENTENCES, Fields, column_name, value_columns

if TYPE_CHECKING:
    import pandas

_CELLS_PER_CHUNK = 2_000_000
"""Resample weights are drawn in chunks of at most this many (resamples × documents) numbers."""


@dataclass
class GroupSummary:
    """One group's counts, shares and resampled shares (columns in ``value_columns()`` order)."""

    series: tuple[str, ...]
    period: str | None
    documents: int
    sentences: int
    counts: np.ndarray
    shares: np.ndarray
    draws: np.ndarray
    """(resamples, columns): each resample's shares (confidence columns: mean confidences)."""

    @property
    def key(self) -> tuple[str, ...]:
        return self.series if self.period is None else (*self.series, self.period)

    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        """The expanded percentile interval of every column (``interval_quantiles``)."""
        low, high = np.quantile(self.draws, interval_quantiles(self.documents), axis=0)
        return low, high


def interval_quantiles(documents: int) -> list[float]:
    """The quantiles of the resampled shares that bound a 95 % interval from ``documents`` documents.

    Hesterberg's expanded percentile interval ("What teachers should know about the bootstrap",
    The American Statistician, 2015): a plain percentile interval is too narrow for small
    samples, because the bootstrap's spread is that of n / (n - 1) fewer documents and ignores
    the uncertainty of the spread itself. So the tails are taken where a normal quantile of
    sqrt(n / (n - 1)) times Student's t quantile with n - 1 degrees of freedom falls: at 10
    documents the 0.9th and 99.1st percentiles, at 50 the 2.1st and 97.9th.
    """
    from scipy.stats import norm, t

    tail = (1 - LEVEL) / 2
    if documents >= 2:
        tail = float(norm.cdf(-np.sqrt(documents / (documents - 1)) * t.ppf(1 - tail, documents - 1)))
    return [tail, 1 - tail]


def document_table(marked, fields: Fields) -> "pandas.DataFrame":
    """The counted columns summed per group and document, over the records without a problem.

    Works on pandas and (lazily) on dask dataframes alike.
    """
    keys = fields.keys
    counted = [SENTENCES, *(column_name(task, label) for task, label in value_columns())]
    good = marked[marked[PROBLEM] == ""]
    return good[[*keys, DOCUMENT, *counted]].groupby([*keys, DOCUMENT], sort=False).sum()


def summarise(documents: "pandas.DataFrame", fields: Fields, settings: Settings) -> Iterator[GroupSummary]:
    """Each group's summary, series by series (grouping fields sorted, ``(missing)`` last), periods in order."""
    counted = [column_name(task, label) for task, label in value_columns()]
    table = documents.reset_index()
    if table.empty:
        return
    for key, group in sorted(table.groupby(fields.keys, sort=False), key=lambda item: _order(_as_tuple(item[0]))):
        key = _as_tuple(key)
        values = group[counted].to_numpy(dtype="float64")
        sizes = group[SENTENCES].to_numpy(dtype="float64")
        values, sizes = _canonical_order(values, sizes)
        rng = np.random.default_rng([settings.seed, _stable_hash(key)])
        draws = bootstrap_ratios(values, sizes, settings.resamples, rng)
        series, period = (key[:-1], key[-1]) if fields.time else (key, None)
        yield GroupSummary(series, period, len(sizes), int(sizes.sum()), values.sum(axis=0),
                           values.sum(axis=0) / sizes.sum(), draws)


def bootstrap_ratios(values: np.ndarray, sizes: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Resample the rows (documents) with replacement; each resample's column sums over its size sum.

    ``values`` is (documents, columns), ``sizes`` (documents,); returns (resamples, columns).
    A resample is a vector of how often each document was drawn (multinomial), so the work
    is two matrix products per chunk of resamples.
    """
    count = len(sizes)
    draws = np.empty((resamples, values.shape[1]))
    chunk = max(1, min(resamples, _CELLS_PER_CHUNK // count))
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        weights = rng.multinomial(count, np.full(count, 1 / count), size=stop - start).astype("float64")
        draws[start:stop] = (weights @ values) / (weights @ sizes)[:, None]
    return draws


def tidy_rows(summary: GroupSummary, fields: Fields, settings: Settings) -> list[dict]:
    """The summary as profile rows: one per label and flag, with the group's counts and mean confidences."""
    columns = value_columns()
    low, high = summary.interval()
    group = dict(zip(fields.keys, summary.key))
    means = {task: summary.shares[columns.index(("confidence", task))] for task in ("stance", "claim_type")}
    shared = {**group, "documents": summary.documents, "sentences": summary.sentences,
              "few_documents": summary.documents < settings.min_documents,
              "mean_stance_confidence": float(means["stance"]),
              "mean_claim_confidence": float(means["claim_type"])}
    return [{**shared, "task": task, "label": label, "count": int(summary.counts[i]),
             "share": float(summary.shares[i]), "low": float(low[i]), "high": float(high[i])}
            for i, (task, label) in enumerate(columns) if task != "confidence"]


def _as_tuple(key) -> tuple[str, ...]:
    return key if isinstance(key, tuple) else (key,)


def _order(key: tuple[str, ...]) -> tuple:
    """Sort key of a group: each value in text order, ``(missing)`` after every other value."""
    return tuple((value == MISSING, value) for value in key)


def _stable_hash(key: tuple[str, ...]) -> int:
    """A number that names a group the same way in every process (Python's hash() is salted)."""
    digest = hashlib.blake2b(json.dumps(key, ensure_ascii=False).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _canonical_order(values: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The documents sorted by their contents, so that the resamples do not depend on the input's order
    (rows are compared on sizes and counts first, then on the confidence sums, rounded)."""
    order = np.lexsort(np.round(np.column_stack([sizes, values]), 9).T[::-1])
    return values[order], sizes[order]

