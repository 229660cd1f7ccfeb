"""Which labels look wrong: cleanlab's confident learning on cross-validated probabilities.

Every record gets out-of-fold probabilities from a model that never saw its document:
documents are split into ``folds`` groups (scikit-learn's ``GroupKFold``), and each group
is scored by a model of the chosen kind fitted on the others. For each task, cleanlab's
``find_label_issues`` flags the labels that disagree with those probabilities (confident
learning, Northcutt et al. 2021), and ``get_label_quality_scores`` (self-confidence: the
out-of-fold probability of the given label) ranks them: one suspect per flagged label, the
least probable given label first, with the most probable label as the suggestion.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..files import atomic_output, atomic_write_text
from ..labels import TASKS, get_scheme


@dataclass(frozen=True)
class Suspect:
    """One label that looks wrong: its record, the given and the suggested label, and their probabilities."""

    rank: int
    id: str
    doc_id: str
    task: str
    given: str
    suggested: str
    suggested_probability: float
    given_probability: float
    """The out-of-fold probability of the given label: cleanlab's label quality score (self-confidence)."""
    text: str


@dataclass
class AuditResult:
    """The suspects, most suspect first, and the out-of-fold probabilities they come from."""

    suspects: list[Suspect]
    probabilities: list[np.ndarray]
    records: int
    folds: int
    model_kind: str

    def summary(self) -> str:
        """One line: how many labels were flagged per task, out of how many, and how."""
        per_task = ", ".join(f"{task} {sum(s.task == task for s in self.suspects)}" for task in TASKS)
        return (f"{len(self.suspects)} suspect labels ({per_task}) among {self.records} records; "
                f"{self.folds}-fold out-of-fold probabilities from {self.model_kind} models, "
                "documents kept together; ranked by cleanlab")


def out_of_fold_probabilities(records: Sequence[dict], model_kind: str = "tfidf", folds: int = 5,
                              seed: int = 13, params: dict | None = None, quiet: bool = False) -> list[np.ndarray]:
    """Per task, an ``(n, labels)`` array of probabilities from models that never saw the record's document."""
    from sklearn.model_selection import GroupKFold

    from ..progress import progress_bar
    from ..registry import make_model
    from ..jobs.training import texts_and_labels

    documents = len({r["doc_id"] for r in records})
    if folds < 2 or documents < folds:
        raise InputError(f"cross-validation in {folds} folds needs at least {max(folds, 2)} documents and "
                         f"folds >= 2; the data has {documents} document{'s' * (documents != 1)}")
    texts, labels = texts_and_labels(records)
    scheme = get_scheme()
    result = [np.zeros((len(records), len(scheme.labels(task)))) for task in TASKS]
    splits = GroupKFold(n_splits=folds).split(texts, groups=[r["doc_id"] for r in records])
    with progress_bar(folds, "cross-validating", quiet, unit="fold") as bar:
        for train, held_out in splits:
            model = make_model(model_kind, seed=seed, **(params or {}))
            model.fit([texts[i] for i in train], labels[train], quiet=True)
            for task_result, fold_probabilities in zip(result, model.predict_proba([texts[i] for i in held_out])):
                task_result[held_out] = fold_probabilities
            bar.update(1)
    return result


def find_suspects(records: Sequence[dict], probabilities: Sequence[np.ndarray]) -> list[Suspect]:
    """The labels cleanlab flags as likely wrong, least probable given label first."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    scheme = get_scheme()
    found = []
    for task, task_probabilities in zip(TASKS, probabilities):
        names = scheme.labels(task)
        given = np.array([names.index(r[task]) for r in records])
        quality = get_label_quality_scores(given, task_probabilities, method="self_confidence")
        flagged = find_label_issues(given, task_probabilities, n_jobs=1)
        found.extend((float(quality[i]), i, task, names, given[i]) for i in np.flatnonzero(flagged))
    found.sort(key=lambda item: (item[0], item[1], item[2]))
    suspects = []
    for rank, (quality, i, task, names, given_index) in enumerate(found, 1):
        row = probabilities[TASKS.index(task)][i]
        suggested = int(row.argmax()) if row.argmax() != given_index else int(np.argsort(row)[-2])
        record = records[i]
        suspects.append(Suspect(rank, record["id"], record["doc_id"], task, names[given_index], names[suggested],
                                float(row[suggested]), quality, record["text"]))
    return suspects


def audit(records: Sequence[dict], model_kind: str = "tfidf", folds: int = 5, seed: int = 13,
          params: dict | None = None, quiet: bool = False) -> AuditResult:
    """Cross-validate ``records`` by document and rank the labels that look wrong."""
    probabilities = out_of_fold_probabilities(records, model_kind, folds, seed, params, quiet)
    return AuditResult(find_suspects(records, probabilities), probabilities, len(records), folds, model_kind)


def suspects_table(suspects: Sequence[Suspect]) -> str:
    """A fixed-width table of suspects for the terminal."""
    width = max([len(s.id) for s in suspects] + [2])
    rows = [f"{'rank':>4}  {'id':<{width}}  {'label':<10} {'given':<20} {'suggested':<20} {'prob':>5}  text"]
    for s in suspects:
        text = " ".join(s.text.split())
        text = text if len(text) <= 60 else text[:57] + "..."
        rows.append(f"{s.rank:>4}  {s.id:<{width}}  {s.task:<10} {s.given:<20} {s.suggested:<20} "
                    f"{s.suggested_probability:>5.2f}  {text}")
    return "\n".join(rows)


def write_suspects(suspects: Sequence[Suspect], path: str | Path) -> None:
    """Write one JSON record per suspect, most suspect first."""
    with atomic_output(path) as handle:
        for suspect in suspects:
            handle.write(json.dumps(asdict(suspect), ensure_ascii=False) + "\n")


def write_html(result: AuditResult, suspects: Sequence[Suspect], path: str | Path, data: str) -> None:
    """Write the suspects as one self-contained HTML page in the style of ``stancekit report``."""
    from .. import __version__
    from ..views.report import CONTENT_SECURITY_POLICY, STANCE_TAGS

    rows = []
    for s in suspects:
        given = STANCE_TAGS.get(s.given, "") if s.task == "stance" else ""
        rows.append(f'<tr><td class="num">{s.rank}</td><td><code>{html.escape(s.id)}</code><br>'
                    f'<span class="why">{html.escape(s.doc_id)}</span></td><td>{html.escape(s.text)}</td>'
                    f'<td>{s.task.replace("_", " ")}</td><td><s class="given">{given} {html.escape(s.given)}</s> '
                    f'<span class="why">p={s.given_probability:.2f}</span></td><td class="suggested">'
                    f'{html.escape(s.suggested)} <span class="why">p={s.suggested_probability:.2f}</span></td></tr>')
    page = _PAGE.format(csp=CONTENT_SECURITY_POLICY, summary=html.escape(result.summary()),
                        meta=html.escape(f"{data}; stancekit {__version__}"),
                        rows="\n".join(rows) or '<tr><td colspan="6">No label looks wrong.</td></tr>')
    atomic_write_text(path, page)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stancekit label audit</title>
<style>
body {{ font: 16px/1.6 Georgia, "Times New Roman", serif; color: #1a1a1a; margin: 0 auto; padding: 1rem 1.5rem;
  max-width: 1280px; }}
h1 {{ font-size: 1.5rem; margin: .2rem 0; }} .meta, th, .why {{ font: 13px/1.5 system-ui, sans-serif; color: #333; }}
table {{ border-collapse: collapse; width: 100%; }} th {{ text-align: left; border-bottom: 2px solid #333; }}
td {{ vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid #ccc; }}
td.num {{ font: 13px system-ui, sans-serif; text-align: right; }}
.given {{ text-decoration: line-through; text-decoration-color: #b4457f; }}
.suggested {{ font-weight: bold; border-left: 3px solid #007a5a; }}
@media print {{ body {{ font-size: 11pt; }} tr {{ break-inside: avoid; }} }}
</style>
</head>
<body>
<header>
<h1>Label audit</h1>
<p class="meta">{summary}</p>
<p class="meta">{meta}. Each row is one label that disagrees with the probabilities of models that never
saw its document: the given label (struck through) and the suggested one, with their probabilities.
Read the sentence and the guidelines before changing a label.</p>
</header>
<main>
<table>
<thead><tr><th>rank</th><th>record</th><th>text</th><th>label</th><th>given</th><th>suggested</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</main>
</body>
</html>
"""
