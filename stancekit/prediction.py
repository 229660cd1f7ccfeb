"""The result types returned by ``classify`` and ``classify_document``."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from .labels import TASKS


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

    def to_dict(self) -> dict:
        """The prediction as a JSON-able dict (the text and offsets included)."""
        return asdict(self)

    def output_fields(self) -> dict:
        """The fields the CLI adds to an input record: every field except the text."""
        fields = self.to_dict()
        del fields["text"]
        if self.start is None:
            del fields["start"], fields["end"]
        return fields


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
