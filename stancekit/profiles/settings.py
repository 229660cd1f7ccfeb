"""How a profile's intervals and change test are computed: the settings and their defaults.

Kept free of numpy and pandas, so that the command line's parser can show the defaults
without loading them.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVEL = 0.95
"""The coverage the intervals aim at."""
RESAMPLES = 1000
"""Bootstrap resamples per group, unless chosen."""
MIN_DOCUMENTS = 10
"""Groups with fewer documents are marked ``few_documents``: their intervals are unreliable.

Chosen from a simulation of interval coverage (``benchmarks/profile_changes.py``, "coverage"):
articles of 2-12 sentences whose label rates vary from article to article, true shares 0.1,
0.3 and 0.5. From 10 documents the 95 % intervals hold the true share 86-96 % of the time
(93-97 % from 20; the rare share 0.1 is the hardest); below 10 coverage falls fast
(5 documents: 81-92 %, 3: 68-81 %). A sentence-level bootstrap, which ignores documents,
holds it only 68-84 % of the time at any size."""
ADJUSTMENTS = ("fdr", "none")
"""How the change test counts many moves: fdr, Benjamini–Hochberg over all tested moves of a run;
none, each move alone."""
FALSE_DISCOVERY_RATE = 0.05


def percent_text(share: float) -> str:
    """``95 %``: a share as the project writes percentages in text."""
    return f"{share * 100:g} %"


@dataclass(frozen=True)
class Settings:
    """How the intervals and the change test are computed (see ``aggregate`` and ``changes``)."""

    resamples: int = RESAMPLES
    seed: int = 13
    min_documents: int = MIN_DOCUMENTS
    min_change: float = 0.0
    """A move counts as a change only when at least this large (a share, 0-1)."""
    adjust: str = "fdr"

    def __post_init__(self) -> None:
        if self.resamples < 100:
            raise ValueError(f"resamples must be at least 100 for percentile intervals, got {self.resamples}")
        if self.min_documents < 1:
            raise ValueError(f"min_documents must be at least 1, got {self.min_documents}")
        if not 0 <= self.min_change < 1:
            raise ValueError(f"min_change must be a share in [0, 1), got {self.min_change}")
        if self.adjust not in ADJUSTMENTS:
            raise ValueError(f"unknown adjustment {self.adjust!r}; expected one of {', '.join(ADJUSTMENTS)}")

    def describe(self) -> str:
        """The interval method in one sentence, for output headers."""
        return (f"{percent_text(LEVEL)} intervals are expanded percentile intervals from a bootstrap over documents "
                f"({self.resamples} resamples, seed {self.seed}): the documents of each group are resampled "
                f"with replacement, so the sentences of a document stay together; groups with fewer than "
                f"{self.min_documents} documents are marked few_documents, their intervals are unreliable")
