"""The result types returned by ``classify`` and ``classify_document``."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from .labels import TASKS


REVIEW_BELOW = 0.65
"""Stance confidence under which a label is marked ``review`` (table and report views).

Chosen on the dev split, where the shipped models are calibrated: every confidence bin
under 0.65 is labeled right less than 60 % of the time, and from 0.65 up more than 60 %
(the default model: 52 % right under 0.65, 22 % of dev sentences; 86 % right above it).
See README.md, "When not to trust a label"."""


EVIDENCE_DECIMALS = 2
"""Decimals of an evidence weight (log-odds), in JSON and in the table view; a weight that rounds to 0
is left out of the evidence."""


def review_flag(stance_confidence: float, in_scope: bool | None = True) -> str:
    """``out of scope`` for text the models do not cover, ``review`` for a low stance confidence, else ``""``."""
    if in_scope is False:
        return "out of scope"
    return "review" if stance_confidence < REVIEW_BELOW else ""


@dataclass(frozen=True)
class Prediction:
    """The labels of one text, with the probability of every label and the model that gave them."""

    text: str
    stance: str
    stance_confidence: float
    stance_scores: dict[str, float]
    claim_type: str
    claim_confidence: float
    claim_scores: dict[str, float]
    model: str
    model_version: str
    truncated: bool = False
    start: int | None = None
    """Offset of the sentence in its document (``classify_document`` only)."""
    end: int | None = None
    language: str | None = None
    """ISO 639 code of the text's language (``und``: no letters); see ``stancekit.data.language``."""
    in_scope: bool | None = None
    """Whether the models cover the text (English); labels of other texts mean nothing."""
    evidence: dict | None = None
    """With ``explain=True``: the spans that pushed toward and against each label (``TextClassifier.explain``)."""

    @property
    def flag(self) -> str:
        """``out of scope``, ``review`` (stance confidence under ``REVIEW_BELOW``) or ``""``."""
        return review_flag(self.stance_confidence, self.in_scope)

    def to_dict(self) -> dict:
        """The prediction as a JSON-able dict (the text and offsets included)."""
        return asdict(self)


@dataclass(frozen=True)
class DocumentPrediction:
    """Per-sentence predictions for a document, and the share of each label among its sentences."""

    text: str
    sentences: list[Prediction]
    stance_shares: dict[str, float] = field(default_factory=dict)
    claim_shares: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_sentences(cls, text: str, sentences: list[Prediction], labels: dict[str, tuple[str, ...]]
                       ) -> "DocumentPrediction":
        """Build the summary (label shares, every label listed) from sentence predictions."""
        shares = {}
        for task in TASKS:
            counts = Counter(getattr(p, task) for p in sentences)
            total = len(sentences) or 1
            shares[task] = {label: counts[label] / total for label in labels[task]}
        return cls(text, sentences, shares["stance"], shares["claim_type"])

    def to_dict(self) -> dict:
        return asdict(self)
