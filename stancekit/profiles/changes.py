"""What changed: the move of each label's share between consecutive periods of a group, and its interval.

For each series (the groups that share their grouping values, e.g. one outlet) and each
pair of consecutive periods in which it has records, the move of a stance's or claim
type's share is the later share minus the earlier one. Its 95 % interval comes from the
two periods' document bootstraps, drawn independently: the expanded percentile interval
(``aggregate.interval_quantiles``) of the differences of their resampled shares, for the
smaller of the two periods' numbers of documents.

A listing of hundreds of moves would, at 5 % per move, flag dozens of them by chance alone.
So a move counts as a change only when

- both periods have at least ``min_documents`` documents, and the label occurs in at least
  one of them (otherwise the move is listed as not tested);
- its interval excludes 0, and it is at least ``min_change`` in size;
- with ``adjust="fdr"`` (the default), it also survives the Benjamini–Hochberg procedure
  over all tested moves of the run at a false discovery rate of 5 %, with each move's
  p-value taken from its bootstrap standard error (``_p_values``). With no change
  anywhere, that keeps the chance of listing any change at all near 5 %; with
  ``adjust="none"`` each move is tested alone, at 5 % each.

``benchmarks/profile_changes.py`` measures both false-alarm rates and the power to find
an injected shift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..labels import TASKS
from .aggregate import GroupSummary, interval_quantiles
from .records import CHANGE_COLUMNS, MISSING, Fields, value_columns
from .settings import FALSE_DISCOVERY_RATE, LEVEL, Settings, percent_text

if TYPE_CHECKING:
    import pandas


class ChangeTest:
    """Collects the moves between consecutive periods from group summaries given series by series,
    periods in order (as ``aggregate.summarise`` yields them)."""

    def __init__(self, fields: Fields, settings: Settings) -> None:
        if not fields.time:
            raise ValueError("the change test compares periods: it needs a time field")
        self.fields = fields
        self.settings = settings
        self._labels = [(i, task, label) for i, (task, label) in enumerate(value_columns()) if task in TASKS]
        self._previous: GroupSummary | None = None
        self._rows: list[dict] = []

    def add(self, summary: GroupSummary) -> None:
        """Take the next group summary; compare it with the one before when both are periods of one series."""
        if summary.period == MISSING:
            return
        before = self._previous
        if before is not None and before.series == summary.series:
            self._rows.extend(self._moves(before, summary))
        self._previous = summary

    def _moves(self, before: GroupSummary, after: GroupSummary) -> list[dict]:
        index = [i for i, _, _ in self._labels]
        change = after.shares[index] - before.shares[index]
        draws = after.draws[:, index] - before.draws[:, index]
        low, high = np.quantile(draws, interval_quantiles(min(before.documents, after.documents)), axis=0)
        p_values = _p_values(change, before.draws[:, index], after.draws[:, index], before.documents,
                             after.documents)
        enough = min(before.documents, after.documents) >= self.settings.min_documents
        present = (before.counts[index] + after.counts[index]) > 0
        group = dict(zip(self.fields.by, after.series))
        return [{**group, "period_before": before.period, "period_after": after.period, "task": task, "label": label,
                 "documents_before": before.documents, "documents_after": after.documents,
                 "share_before": float(before.shares[i]), "share_after": float(after.shares[i]),
                 "change": float(change[j]), "low": float(low[j]), "high": float(high[j]),
                 "p_value": float(p_values[j]) if enough and present[j] else float("nan"),
                 "tested": bool(enough and present[j])}
                for j, (i, task, label) in enumerate(self._labels)]

    def table(self) -> "pandas.DataFrame":
        """Every move compared, with ``q_value`` (Benjamini–Hochberg over the tested moves) and ``changed``."""
        import pandas
        from scipy.stats import false_discovery_control

        frame = pandas.DataFrame(self._rows, columns=[*self.fields.by, *CHANGE_COLUMNS])
        frame["tested"] = frame["tested"].astype(bool)
        q_values = np.full(len(frame), np.nan)
        tested = frame["tested"].to_numpy()
        if tested.any():
            q_values[tested] = false_discovery_control(frame.loc[tested, "p_value"].to_numpy())
        frame["q_value"] = q_values
        changed = (tested & ((frame["low"] > 0) | (frame["high"] < 0))
                   & (frame["change"].abs() >= self.settings.min_change))
        if self.settings.adjust == "fdr":
            changed &= frame["q_value"] <= FALSE_DISCOVERY_RATE
        frame["changed"] = changed.astype(bool)
        return frame

    def describe(self, table: "pandas.DataFrame") -> dict:
        """How the moves were tested, and how many: for output headers."""
        tested = int(table["tested"].sum())
        adjustment = (f"Benjamini-Hochberg, false discovery rate {percent_text(FALSE_DISCOVERY_RATE)} over the "
                      f"{tested} tested moves (p-values from the bootstrap standard error)"
                      if self.settings.adjust == "fdr" else "none: each move tested alone")
        return {"moves": len(table), "tested": tested, "changed": int(table["changed"].sum()),
                "min_change": self.settings.min_change, "adjustment": adjustment,
                "method": (f"{percent_text(LEVEL)} expanded percentile interval of the difference of the two periods' "
                           "document bootstraps, drawn independently; a move is tested when both periods have at "
                           f"least {self.settings.min_documents} documents and the label occurs in one of them, "
                           f"and counts as a change when its interval excludes 0, it is at least "
                           f"{self.settings.min_change:g} in size and it passes the adjustment")}


def _p_values(change: np.ndarray, before: np.ndarray, after: np.ndarray, documents_before: int,
              documents_after: int) -> np.ndarray:
    """Two-sided p-values of the moves, from the two bootstraps' variances.

    A bootstrap over n documents underestimates a share's variance by about (n - 1) / n, and
    with few documents the estimate is itself uncertain; so each period's variance is scaled
    by n / (n - 1) and the move compared with a t distribution with (the smaller n) - 1 degrees
    of freedom, as in Welch's test. Without the correction the p-values are too small at
    10-30 documents (``benchmarks/profile_changes.py``).
    """
    from scipy.stats import t

    variance = sum(draws.var(axis=0, ddof=1) * n / max(n - 1, 1)
                   for draws, n in ((before, documents_before), (after, documents_after)))
    error = np.sqrt(variance)
    degrees = max(min(documents_before, documents_after) - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(error > 0, 2 * t.sf(np.abs(change) / error, degrees), np.where(change != 0, 0.0, 1.0))
