"""Training checkpoints: everything a fine-tuning run needs to continue after it was killed.

A checkpoint is one safetensors file (written atomically, so a kill while writing leaves the
previous one intact): the tensors (trained weights, the best epoch's weights, optimizer
moments, the torch random state) and, in its metadata, one JSON document with the rest
(epoch, dev history, scheduler, the other random states and the fingerprint of the run). No
pickle is involved, so a checkpoint is as safe to load as a model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..files import atomic_output

CHECKPOINT_FILE = "checkpoint.safetensors"


@dataclass
class Checkpoint:
    """The state of a training run at the end of an epoch."""

    tensors: dict = field(default_factory=dict)
    """Named tensors: ``trained.*``, ``best.*``, ``optimizer.<index>.<name>``, ``rng.torch``."""
    state: dict = field(default_factory=dict)
    """JSON-able values: ``epoch``, ``history``, ``scheduler``, ``rng`` and the ``fingerprint``."""


def run_fingerprint(settings: dict, texts: list[str], targets: list[np.ndarray],
                    validation: tuple[list[str], list[np.ndarray]] | None) -> dict:
    """What makes two runs the same run: the model's settings and a hash of its data."""
    digest = hashlib.sha256()
    for part_texts, part_targets in [(texts, targets), *([validation] if validation else [])]:
        for text in part_texts:
            digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
        for task_targets in part_targets:
            digest.update(np.ascontiguousarray(task_targets, dtype=np.float64).tobytes())
        digest.update(b"|")
    return {"settings": json.loads(json.dumps(settings, default=str)), "data_sha256": digest.hexdigest()}


def save_checkpoint(folder: Path, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` into ``folder`` (created if needed), replacing the previous one atomically."""
    from safetensors.torch import save

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {key: tensor.detach().cpu().contiguous() for key, tensor in checkpoint.tensors.items()}
    payload = save(tensors, metadata={"checkpoint": json.dumps(checkpoint.state)})
    with atomic_output(folder / CHECKPOINT_FILE, binary=True) as handle:
        handle.write(payload)


def load_checkpoint(folder: Path, fingerprint: dict) -> Checkpoint | None:
    """The checkpoint in ``folder`` (None if there is none); ModelError if another run wrote it."""
    from safetensors import safe_open

    path = folder / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as handle:
            state = json.loads(handle.metadata()["checkpoint"])
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as exc:  # safetensors raises its own error types
        raise ModelError(f"{path}: unreadable training checkpoint ({exc}); delete it to start afresh") from None
    differs = [key for key in ("settings", "data_sha256") if state.get("fingerprint", {}).get(key) != fingerprint[key]]
    if differs:
        names = {"settings": "model settings", "data_sha256": "training or dev data"}
        raise ModelError(f"{path}: the checkpoint belongs to another training run (its "
                         f"{' and '.join(names[key] for key in differs)} differ); delete it to start afresh")
    return Checkpoint(tensors, state)
