"""Agreement between annotators who labeled the same units: Cohen's kappa per label, per pair.

Each pair of annotators is compared on the units both annotated (a person's first
annotation of a unit counts). Kappa is scikit-learn's ``cohen_kappa_score``; it is
undefined (reported as ``None``, shown ``n/a``) when both people gave one and the same
label to every shared unit, since then chance agreement is already 1.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path
from typing import Sequence

from ..files import atomic_write_text
from ..labels import TASKS, get_scheme
from .imports import Annotation


@dataclass(frozen=True)
class LabelAgreement:
    """Agreement on one label: observed share of equal labels, and Cohen's kappa (None if undefined)."""

    agreement: float
    kappa: float | None


@dataclass(frozen=True)
class PairAgreement:
    """Two annotators, the number of units both labeled, and their agreement on each label."""

    annotators: tuple[str, str]
    units: int
    labels: dict[str, LabelAgreement]


def pairwise_agreement(annotations: Sequence[Annotation]) -> list[PairAgreement]:
    """Cohen's kappa per label for every pair of annotators who share at least one unit."""
    from sklearn.metrics import cohen_kappa_score

    by_annotator: dict[str, dict[str, Annotation]] = {}
    for annotation in annotations:
        by_annotator.setdefault(annotation.annotator, {}).setdefault(annotation.unit_id, annotation)
    scheme = get_scheme()
    pairs = []
    for first, second in combinations(sorted(by_annotator), 2):
        shared = [unit for unit in by_annotator[first] if unit in by_annotator[second]]
        if not shared:
            continue
        labels = {}
        for task in TASKS:
            a = [getattr(by_annotator[first][unit], task) for unit in shared]
            b = [getattr(by_annotator[second][unit], task) for unit in shared]
            observed = sum(x == y for x, y in zip(a, b)) / len(shared)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # undefined (0/0) when chance agreement is 1: nan, shown n/a
                kappa = float(cohen_kappa_score(a, b, labels=list(scheme.labels(task))))
            labels[task] = LabelAgreement(observed, None if kappa != kappa else kappa)
        pairs.append(PairAgreement((first, second), len(shared), labels))
    return pairs


def agreement_table(pairs: Sequence[PairAgreement]) -> str:
    """A fixed-width table: one row per pair of annotators, agreement and kappa per label."""
    width = max([len(" / ".join(p.annotators)) for p in pairs] + [len("annotators")])
    header = f"{'annotators':<{width}}  {'units':>5}" + "".join(
        f"  {task + ' agree':>16}  {task + ' kappa':>16}" for task in TASKS)
    rows = [header]
    for pair in pairs:
        cells = "".join(f"  {m.agreement:>16.3f}  {_kappa(m.kappa):>16}" for m in pair.labels.values())
        rows.append(f"{' / '.join(pair.annotators):<{width}}  {pair.units:>5}{cells}")
    return "\n".join(rows)


def _kappa(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def write_agreement(pairs: Sequence[PairAgreement], path: str | Path) -> None:
    """Write the agreement of every pair as JSON."""
    content = {"measure": "Cohen's kappa (scikit-learn), per pair of annotators on the units both labeled",
               "pairs": [asdict(pair) for pair in pairs]}
    atomic_write_text(path, json.dumps(content, indent=2, ensure_ascii=False) + "\n")
