"""Profiles from Python: ``profile`` and ``profile_changes`` on a pandas or dask dataframe of scored records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from ..errors import InputError
from .aggregate import document_table, summarise, tidy_rows
from .changes import ChangeTest
from .records import PROBLEM, PROBLEM_FIELD, TIDY_COLUMNS, Fields, check_columns, mark_records, record_location
from .settings import LEVEL, MIN_DOCUMENTS, RESAMPLES, Settings

if TYPE_CHECKING:
    import pandas


@dataclass
class ProfileResult:
    """A computed profile: the tidy table, the moves between periods (when asked), and what was read."""

    table: "pandas.DataFrame"
    changes: "pandas.DataFrame | None"
    metadata: dict
    skipped: list[InputError] = field(default_factory=list)
    """The records left out with ``skip_errors`` (pandas input; a dask input reports their number only)."""
    marked: "pandas.DataFrame | None" = None
    """The records as ``records.mark_records`` returns them (pandas input only): for picking examples."""


def compute_profile(frame, fields: Fields, settings: Settings, *, changes: bool = False, skip_errors: bool = False,
                    quiet: bool = True) -> ProfileResult:
    """Profile ``frame`` (pandas or dask): one pass over the records, then the bootstrap per group."""
    import pandas

    from ..progress import progress_bar

    check_columns(frame.columns, fields)
    test = ChangeTest(fields, settings) if changes else None
    documents, marked, skipped, skipped_count = _documents(frame, fields, skip_errors)
    rows = []
    groups = documents.reset_index().groupby(fields.keys).ngroups if len(documents) else 0
    with progress_bar(groups, "bootstrap", quiet, unit="group") as bar:
        for summary in summarise(documents, fields, settings):
            rows.extend(tidy_rows(summary, fields, settings))
            if test:
                test.add(summary)
            bar.update(1)
    table = pandas.DataFrame(rows, columns=[*fields.keys, *TIDY_COLUMNS])
    metadata = {"intervals": settings.describe(), "level": LEVEL, "method": "document bootstrap, expanded percentile",
                "resamples": settings.resamples, "seed": settings.seed, "min_documents": settings.min_documents,
                "documents": fields.documents_description(frame.columns), "by": list(fields.by),
                "time": fields.time, "every": fields.every if fields.time else None,
                "records_skipped": skipped_count}
    moves = None
    if test:
        moves = test.table()
        metadata["changes"] = test.describe(moves)
        moves.attrs["stancekit"] = metadata
    table.attrs["stancekit"] = metadata
    return ProfileResult(table, moves, metadata, skipped, marked)


def _documents(frame, fields: Fields, skip_errors: bool):
    """The per-document sums (computed, for a dask frame), the marked records (pandas only), the records
    skipped (pandas only) and their number."""
    if _is_dask(frame):
        import dask

        meta = mark_records(frame._meta, fields, skip_errors)
        lazy = frame.map_partitions(mark_records, fields, skip_errors, meta=meta)
        documents, skipped_count = dask.compute(document_table(lazy, fields), (lazy[PROBLEM] != "").sum())
        return documents, None, [], int(skipped_count)
    marked = mark_records(frame, fields, skip_errors)
    bad = (marked[PROBLEM] != "").to_numpy().nonzero()[0]
    skipped = [InputError(marked[PROBLEM].iloc[i], field=marked[PROBLEM_FIELD].iloc[i],
                          **record_location(frame, int(i))) for i in bad]
    return document_table(marked, fields), marked, skipped, len(skipped)


def _is_dask(frame) -> bool:
    return type(frame).__module__.split(".")[0] == "dask"


def _fields(by: str | Sequence[str], time: str | None, every: str, document: str | None, prefix: str) -> Fields:
    return Fields(by=(by,) if isinstance(by, str) else tuple(by), time=time, every=every, document=document,
                  prefix=prefix)


def profile(frame, by: str | Sequence[str], time: str | None = None, every: str = "month", *,
            document: str | None = None, prefix: str = "", resamples: int = RESAMPLES, seed: int = 13,
            min_documents: int = MIN_DOCUMENTS, skip_errors: bool = False) -> "pandas.DataFrame":
    """Shares of every stance, claim type and flag per group, with 95 % intervals from a document bootstrap.

    ``frame`` holds scored records (``classify_frame`` output, or scored files read with
    pandas), as a pandas or a dask dataframe (computed here). Groups are the values of the
    ``by`` field(s) (missing or blank: ``(missing)``) and, with ``time``, the period
    (``every``: day, week, month, quarter, year) of that date field. ``document`` names the
    field that tells documents apart (default: ``input_file`` and ``document``, as
    ``classify --split-sentences`` writes them, else each record is its own document).

    Returns a tidy DataFrame, one row per group and label: the group columns, ``documents``,
    ``sentences``, ``few_documents`` (fewer than ``min_documents``: unreliable intervals),
    ``mean_stance_confidence``, ``mean_claim_confidence``, ``task`` (stance, claim_type or
    flag), ``label``, ``count``, ``share``, ``low`` and ``high``; ``.attrs["stancekit"]``
    describes the method. A record that cannot be read raises InputError naming its row and
    field; with ``skip_errors`` it is left out and counted in ``.attrs``.
    """
    return compute_profile(frame, _fields(by, time, every, document, prefix),
                           Settings(resamples, seed, min_documents), skip_errors=skip_errors).table


def profile_changes(frame, by: str | Sequence[str], time: str, every: str = "month", *,
                    document: str | None = None, prefix: str = "", resamples: int = RESAMPLES, seed: int = 13,
                    min_documents: int = MIN_DOCUMENTS, min_change: float = 0.0, adjust: str = "fdr",
                    skip_errors: bool = False) -> "pandas.DataFrame":
    """The move of every stance's and claim type's share between consecutive periods of each group.

    Arguments as for ``profile``. One row per move: the grouping fields, ``period_before``,
    ``period_after``, ``task``, ``label``, the documents and shares of both periods,
    ``change`` with its 95 % interval (``low``, ``high``), ``p_value``, ``q_value``
    (Benjamini–Hochberg), ``tested`` (both periods have ``min_documents``) and ``changed``
    (see ``stancekit.profiles.changes`` for the rule and ``adjust``).
    """
    settings = Settings(resamples, seed, min_documents, min_change, adjust)
    return compute_profile(frame, _fields(by, time, every, document, prefix), settings, changes=True,
                           skip_errors=skip_errors).changes
