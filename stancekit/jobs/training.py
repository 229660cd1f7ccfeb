"""Training end to end: load labeled data and splits, fit a model, score it, save it with a model card."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..classifiers.base import check_destination
from ..classifiers.calibration import RECORDS_PER_LABEL, minimum_split_records
from ..classifiers.encoders import available_cores
from ..data.corpus import SPLITS, load_records, read_split_assignment, split_records
from ..errors import InputError, ModelError, OptionError, StancekitWarning
from ..evaluation.results import EvaluationResult, evaluate_model
from ..io.outputs import check_distinct_paths
from ..labels import TASKS, get_scheme
from ..artifacts import read_config
from ..registry import load_model, make_model, resolve


@dataclass
class TrainingResult:
    """A trained model, where it was saved, and its scores on the dev and test splits."""

    model: object
    folder: Path | None
    scores: dict[str, EvaluationResult]
    split_sizes: dict[str, int]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    """What the model card's Warnings section says (splits too small for the label set)."""


class SmallSplitWarning(StancekitWarning):
    """The train or dev split has fewer records than the label set needs (``minimum_split_records``)."""


def data_sha256(records: Sequence[dict]) -> str:
    """The SHA-256 of labeled records, independent of their order and of key order and file layout."""
    lines = sorted(json.dumps(record, sort_keys=True, ensure_ascii=False) for record in records)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def texts_and_labels(records: Sequence[dict]) -> tuple[list[str], np.ndarray]:
    """Split records into texts and an ``(n, 2)`` array of (stance, claim_type) labels."""
    return ([r["text"] for r in records],
            np.array([[r[task] for task in TASKS] for r in records], dtype=object))


def checkpoint_folder(out: Path) -> Path:
    """Where training into the model folder ``out`` keeps its per-epoch checkpoint: a hidden folder beside it."""
    return out.parent / f".{out.name}.checkpoint"


def train(kind: str, data: Sequence[str | Path] | None = None, splits: str | Path | None = None,
          out: str | Path | None = None, seed: int = 13, params: dict | None = None,
          quiet: bool = False, overwrite: bool = False, members: Sequence[str] | None = None,
          resume: bool = False, transfer: str | Path | None = None, gold_weight: float = 0.5) -> TrainingResult:
    """Fit a ``kind`` model on the train split, select on dev, score dev and test, and save it.

    ``data`` defaults to the shipped corpus and ``splits`` to its shipped split file;
    documents the split file does not list are assigned by ``seed``. ``params`` are the
    model's constructor parameters (``name`` and ``version`` among them). With ``out``
    the model is saved there (``overwrite`` replaces a model already there), with a
    model card holding its held-out scores and, in its config, the SHA-256 of the
    records it was trained, selected and scored on (``data_sha256``). A train or dev
    split with fewer records than ``minimum_split_records()`` is warned about
    (SmallSplitWarning) and in the model card; a dev split that small leaves the
    probabilities uncalibrated.

    Models that train in epochs keep a checkpoint beside ``out`` (``checkpoint_folder``)
    after each epoch; it is removed once the model is saved. A run that was killed is
    continued with ``resume`` (the same arguments otherwise); without ``resume`` a
    leftover checkpoint is an error, so a run never silently continues another.

    With ``transfer`` (a transfer folder, see ``stancekit.jobs.distillation``) the model is
    distilled: it learns a teacher's probabilities on the transfer texts, mixed with the gold
    labels (``gold_weight``) where a text is a train-split record; dev and test stay gold.
    """
    checkpoint = None
    if out is not None:
        check_distinct_paths([*(data or []), *([splits] if splits else [])], [str(out)])
        check_destination(Path(out), overwrite)
        checkpoint = checkpoint_folder(Path(out))
        if checkpoint.exists() and not resume:
            raise ModelError(f"{checkpoint}: an interrupted training into {out} left this checkpoint; "
                             "resume it (`resume`) or delete the folder to start afresh")
    if resume and (checkpoint is None or not checkpoint.exists()):
        raise ModelError(f"nothing to resume: no checkpoint of a training into {out} "
                         f"({checkpoint or 'no output folder given'})")
    started = time.perf_counter()
    records = load_records(data)
    grouped = split_records(records, read_split_assignment(splits), seed=seed)
    if not grouped["train"]:
        raise ValueError("the train split is empty: give more documents or another split file")
    small = small_split_warnings({split: len(grouped[split]) for split in ("train", "dev")})
    for message in small:
        warnings.warn(message, SmallSplitWarning, stacklevel=2)
    validation = texts_and_labels(grouped["dev"]) if grouped["dev"] else None
    if members:
        model = _combined_ensemble(kind, members, validation, seed, params)
    else:
        model = make_model(kind, seed=seed, **(params or {}))
        texts, targets = (_distillation_targets(transfer, grouped, gold_weight) if transfer
                          else texts_and_labels(grouped["train"]))
        model.fit(texts, targets, validation=validation, quiet=quiet, checkpoint=checkpoint)
    # a resumed training counts the time its interrupted runs spent on the epochs it continues from
    seconds = time.perf_counter() - started + getattr(model, "resumed_seconds_", 0.0)
    scores = {split: evaluate_model(model, grouped[split], data=f"{split} split")
              for split in ("dev", "test") if grouped[split]}
    sizes = {split: len(grouped[split]) for split in SPLITS}
    folder = None
    if out is not None:
        data_names = [str(p) for p in data] if data else ["shipped corpus (annotations/corpus)"]
        distilled = _distillation_note(transfer, gold_weight) if transfer else None
        card = model_card(model, scores, sizes, data_names, seconds, small, distilled,
                          member_seconds=_member_training_seconds(members) if members else None)
        extra = {"held_out": {split: {task: {"macro_f1": m.macro_f1, "accuracy": m.accuracy}
                                      for task, m in result.tasks.items()}
                              for split, result in scores.items()},
                 "training": {"data": data_names, "data_sha256": data_sha256(records), "split_sizes": sizes,
                              "seed": seed, "seconds": round(seconds, 1),
                              **({"distillation": distilled} if transfer else {})}}
        folder = model.save(out, card=card, extra=extra, overwrite=overwrite)
        shutil.rmtree(checkpoint, ignore_errors=True)
    return TrainingResult(model, folder, scores, sizes, seconds, small)


def _distillation_targets(transfer: str | Path, grouped: dict[str, list[dict]], gold_weight: float):
    """The student's texts and targets; InputError if a transfer text is a dev or test text."""
    from .distillation import load_transfer, student_targets

    transfer_set = load_transfer(transfer)
    held_out = {r["text"] for split in ("dev", "test") for r in grouped[split]}
    leaked = next((text for text in transfer_set.texts if text in held_out), None)
    if leaked is not None:
        raise InputError(f"the transfer set holds a dev or test text ({leaked[:60]!r}); a student must never "
                         "learn the teacher's answers on held-out texts", path=str(transfer))
    return student_targets(transfer_set, grouped["train"], gold_weight)


def _distillation_note(transfer: str | Path, gold_weight: float) -> dict:
    from .distillation import load_transfer

    transfer_set = load_transfer(transfer)
    return {"teacher": transfer_set.teacher.get("teacher"), "transfer_texts": len(transfer_set.texts),
            "transfer_kinds": transfer_set.kinds, "gold_weight": gold_weight}


def small_split_warnings(sizes: dict[str, int]) -> list[str]:
    """A message for each of the train and dev splits that has fewer records than ``minimum_split_records()``."""
    minimum = minimum_split_records()
    why = (f"fewer than {minimum}, {RECORDS_PER_LABEL} for each label of the largest label set, the "
           "fewest at which every label can appear a few times")
    consequence = {"train": "some labels have few or no examples to learn from",
                   "dev": "model selection rests on a few records, and the probabilities are not calibrated "
                          "(temperature left at 1: confidences are the model's raw scores)"}
    return [f"the {split} split has {n} records, {why}: {consequence[split]}"
            for split, n in sizes.items() if n < minimum]


def _combined_ensemble(kind: str, members: Sequence[str], validation, seed: int, params: dict | None):
    """An ensemble of already trained models (names or folders), combined on the dev split."""
    if kind != "ensemble":
        raise OptionError(f"`members` combines trained models into an ensemble, not a {kind} model")
    if validation is None:
        raise ValueError("combining members needs a dev split to choose the weights")
    loaded = {Path(str(name)).name: load_model(name) for name in members}
    return make_model(kind, seed=seed, members=loaded, **(params or {})).combine(*validation)


def _member_training_seconds(members: Sequence[str]) -> dict[str, float | None]:
    """The training time each already trained member's config records, by member name (the members
    were checked against their manifests when they loaded)."""
    return {Path(str(name)).name: read_config(resolve(name), verify=False).get("training", {}).get("seconds")
            for name in members}


def model_card(model, scores: dict[str, EvaluationResult], sizes: dict[str, int],
               data: list[str], seconds: float, small_splits: Sequence[str] = (),
               distillation: dict | None = None, member_seconds: dict[str, float | None] | None = None) -> str:
    """The Markdown model card written beside a trained model (with a Warnings section when there are any).

    ``member_seconds``: for an ensemble combined from trained members, the time each took to train.
    """
    scheme = get_scheme()
    lines = [f"# Model card: {model.name} {model.version} ({model.kind})", "",
             "## Intended use", "",
             "Labels English sentences and short posts about Iranian politics by source stance "
             f"({', '.join(scheme.stances)}) and primary propaganda-claim type "
             f"({', '.join(scheme.claim_types)}), label scheme {scheme.version}. "
             "A label says whose side a sentence serves, never whether it is true; the same "
             "rules apply to every side. Use it to sort and count large batches and to find "
             "sentences to read, not as a verdict on a single text.", "",
             "## Model", "", model.describe(), "",
             "## Training", "",
             f"- data: {', '.join(data)}",
             "- split sizes (records): " + ", ".join(f"{s} {n}" for s, n in sizes.items()),
             "- selection: hyper-parameters and early stopping on the dev split only",
             *([_distillation_line(distillation)] if distillation else []),
             f"- training time: {seconds:.0f} s"
             + (" to combine the members on dev (members trained before: " + ", ".join(
                 f"{name} {'unrecorded' if value is None else f'{value:.0f} s'}"
                 for name, value in member_seconds.items()) + ")" if member_seconds else "")
             + f" on {platform.machine()} with {available_cores()} CPU cores", ""]
    if small_splits:
        lines += ["## Warnings", "", *(f"- {message[0].upper()}{message[1:]}." for message in small_splits), ""]
    lines += ["## Held-out scores", "", "| split | task | macro-F1 | accuracy |", "|---|---|---:|---:|"]
    for split, result in scores.items():
        lines += [f"| {split} | {task} | {m.macro_f1:.3f} | {m.accuracy:.3f} |"
                  for task, m in result.tasks.items()]
    if "test" in scores:
        for task, metrics in scores["test"].tasks.items():
            lines += ["", f"Test per-class F1, {task}:", "", "| label | F1 | support |", "|---|---:|---:|"]
            lines += [f"| {label} | {c.f1:.3f} | {c.support} |" for label, c in metrics.per_class.items()]
    lines += ["", "## Known limits", "",
              "- Most training sentences were written for the corpus (see annotations/README.md); "
              "authored text is not real-world text, and scores on real articles and posts will be lower.",
              "- English only; Persian or Arabic script is accepted but not understood.",
              "- Trained on one domain (Iranian politics and its information war); other topics get "
              "arbitrary labels.",
              "- The test split is small, so per-class scores of rare labels are noisy.",
              *(f"- {limit}" for limit in model.known_limits()), ""]
    return "\n".join(lines)


def _distillation_line(distillation: dict) -> str:
    teacher = distillation["teacher"] or {}
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(distillation["transfer_kinds"].items()))
    return (f"- distilled from {teacher.get('name')} {teacher.get('version')} (manifest SHA-256 "
            f"{str(teacher.get('manifest_sha256'))[:12]}…): the teacher's calibrated probabilities on "
            f"{distillation['transfer_texts']} transfer texts ({kinds}), mixed with the gold labels "
            f"(weight {distillation['gold_weight']}) on train-split texts")
