"""Fine-tuning loop of the transformer models (the model class holds the network and inference).

The bottom encoder layers stay frozen, so their outputs are computed once per text and
cached; each epoch then runs only the fine-tuned top layers and the two heads. Which
parameters of those layers train is the model's choice (``trained_parameters``: all of
them, or adapters, biases and LayerNorms); training runs on the model's ``device``. The loss
is the sum of the two tasks' class-weighted cross-entropies against the target
probabilities (one-hot for labels, where it is the usual weighted cross-entropy). With a
validation set, every epoch is scored by dev macro-F1 (``metrics.macro_f1``, against
each text's most probable target label) on both tasks, and training stops when their
mean has not improved for ``patience`` epochs; the best epoch's weights are kept.

What makes this fit on a few CPU cores: the forward pass runs under bfloat16 autocast
where the hardware computes it natively (``training_precision``; the master weights and
the optimizer state stay fp32), batches hold texts of similar length (padding to ~40
tokens instead of ~66 on the corpus), and torch uses every core the process may run on.
A run can save a checkpoint after every epoch and continue from it (``checkpoint``).
"""

from __future__ import annotations

import os
import random
import sys
import time
from typing import TYPE_CHECKING

from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..metrics import macro_f1
from ..labels import TASKS
from ..progress import progress_bar
from .checkpoint import Checkpoint, load_checkpoint, run_fingerprint, save_checkpoint

if TYPE_CHECKING:
    from .transformer import TransformerClassifier


def class_weights(targets: np.ndarray, mode: str | None) -> np.ndarray:
    """Per-class loss weights from an ``(n, k)`` array of target probabilities.

    With ``count`` each class's total target probability: ``balanced`` is
    n / (k * count) over the k classes present; ``sqrt`` its square root, rescaled to
    a mean weight of 1 over the targets; None all ones. Absent classes weigh 0.
    """
    counts = targets.sum(axis=0)
    if mode is None:
        return np.ones(len(counts), dtype=np.float32)
    present = counts > 0
    weights = np.zeros(len(counts))
    weights[present] = counts.sum() / (present.sum() * counts[present])
    if mode == "sqrt":
        weights = np.sqrt(weights)
        weights[present] /= (weights[present] * counts[present]).sum() / counts.sum()
    return weights.astype(np.float32)


def frozen_features(model: "TransformerClassifier", ids: list[list[int]], batch_size: int = 64) -> list:
    """The output of the frozen bottom layers for each text, one (tokens, hidden) tensor each."""
    import torch

    features = [None] * len(ids)
    order = np.argsort([len(row) for row in ids], kind="stable")
    encoder, device = model.encoder_, model.torch_device()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            input_ids, mask = (tensor.to(device) for tensor in model.pad([ids[i] for i in batch]))
            hidden = encoder.embeddings(input_ids=input_ids)
            hidden = model.run_layers(hidden, mask, 0, model.first_trained_layer)
            for row, index in enumerate(batch):
                features[index] = hidden[row, :len(ids[index])].clone()
    return features


def pad_features(features: list):
    """Stack (tokens, hidden) tensors into a zero-padded batch and its attention mask."""
    import torch

    longest = max(f.shape[0] for f in features)
    device = features[0].device
    hidden = torch.zeros((len(features), longest, features[0].shape[1]), device=device)
    mask = torch.zeros((len(features), longest), dtype=torch.long, device=device)
    for row, feature in enumerate(features):
        hidden[row, :feature.shape[0]] = feature
        mask[row, :feature.shape[0]] = 1
    return hidden, mask


def _forward_top(model: "TransformerClassifier", features: list, dropout=None):
    hidden, mask = pad_features(features)
    hidden = model.run_layers(hidden, mask, model.first_trained_layer)
    pooled = model.pool(hidden, mask)
    if dropout is not None:
        pooled = dropout(pooled)
    return model.head_logits(pooled)


def predict_cached(model: "TransformerClassifier", features: list, batch_size: int = 64) -> list[np.ndarray]:
    """Predicted class indices per task for cached bottom-layer features (fp32, eval mode)."""
    import torch

    predicted = [np.zeros(len(features), dtype=np.int64) for _ in TASKS]
    order = np.argsort([f.shape[0] for f in features], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            for task, logits in enumerate(_forward_top(model, [features[i] for i in batch])):
                predicted[task][batch] = logits.argmax(dim=-1).cpu().numpy()
    return predicted


def weighted_cross_entropy(logits, targets, weights):
    """Class-weighted cross-entropy of ``logits`` against target probabilities, averaged over the
    total weight of the targets (for one-hot targets: ``torch.nn.CrossEntropyLoss(weight)``)."""
    import torch

    weighted = targets * weights
    return -(weighted * torch.log_softmax(logits, dim=-1)).sum() / weighted.sum()


def length_grouped_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                           chunk_batches: int = 50) -> list[np.ndarray]:
    """One epoch's batches of text indices, grouped by length and in random order.

    The texts are shuffled, each run of ``chunk_batches`` batches' worth is sorted by
    length and cut into batches, and the batches are shuffled: a batch pads to about its
    own texts' length instead of the longest of a random sample, while every epoch still
    sees different batches in a different order.
    """
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * chunk_batches):
        chunk = order[start:start + batch_size * chunk_batches]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def training_precision(model: "TransformerClassifier") -> str:
    """The arithmetic fine-tuning runs in: ``bf16`` (autocast, fp32 master weights) or ``fp32``.

    ``auto`` takes bf16 where the device computes it natively (CPUs with AVX512-BF16 or AMX,
    GPUs that support it) and fp32 elsewhere; ``bf16`` asked for on a device without it is
    an error rather than a slow emulation.
    """
    from .encoders import bf16_supported

    if model.training_precision == "fp32":
        return "fp32"
    supported = bf16_supported(model.torch_device())
    if model.training_precision == "bf16" and not supported:
        raise ModelError(f"training_precision 'bf16' asked for, but device {model.device!r} has no native "
                         "bfloat16 arithmetic; use 'auto' or 'fp32'")
    return "bf16" if supported else "fp32"


def train(model: "TransformerClassifier", texts: list[str], targets: list[np.ndarray],
          validation: tuple[list[str], list[np.ndarray]] | None = None, quiet: bool = False,
          checkpoint: Path | None = None) -> list[dict]:
    """Fine-tune ``model`` (network already built) on ``texts`` and their per-task target
    probabilities; return the per-epoch history.

    With ``checkpoint`` (a folder), the state of the run is saved there after every epoch,
    and a run that finds a checkpoint of the same run (same settings and data) there
    continues after its last finished epoch, ending with the model an uninterrupted run
    gives.
    """
    import torch

    from .encoders import available_cores

    random.seed(model.seed)
    np.random.seed(model.seed)
    torch.manual_seed(model.seed)
    torch.set_num_threads(available_cores())
    device = model.torch_device()
    model.encoder_.to(device)
    model.heads_.to(device)
    if device.type == "cuda":  # deterministic cuBLAS; other GPU ops may only warn
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")
    except RuntimeError:
        pass
    try:
        return _Run(model, texts, targets, validation, quiet, checkpoint).train()
    finally:
        torch.use_deterministic_algorithms(deterministic)


class _Run:
    """One fine-tuning run: data, optimizer and schedule, the epoch loop and its checkpoints."""

    def __init__(self, model: "TransformerClassifier", texts: list[str], targets: list[np.ndarray],
                 validation, quiet: bool, checkpoint: Path | None) -> None:
        import torch

        self.model, self.quiet, self.checkpoint = model, quiet, checkpoint
        self.started = time.perf_counter()
        self.precision = training_precision(model)
        self.fingerprint = run_fingerprint(model._settings(), texts, targets, validation)
        ids, _ = model.tokenize(texts)
        self.features = frozen_features(model, ids)
        self.lengths = np.array([len(row) for row in ids])
        self.dev = None
        if validation is not None:
            self.dev = (frozen_features(model, model.tokenize(validation[0])[0]),
                        [task_targets.argmax(axis=1) for task_targets in validation[1]])
        device = model.torch_device()
        self.weights = [torch.tensor(class_weights(task_targets, model.class_weight), device=device)
                        for task_targets in targets]
        self.targets = [torch.tensor(t, dtype=torch.float32, device=device) for t in targets]
        self.trained = model.trained_parameters()
        for parameter in model.encoder_.parameters():
            parameter.requires_grad_(False)
        for parameter in self.trained.values():
            parameter.requires_grad_(True)
        decay = [p for n, p in self.trained.items() if not n.endswith("bias") and "LayerNorm" not in n]
        no_decay = [p for n, p in self.trained.items() if n.endswith("bias") or "LayerNorm" in n]
        self.optimizer = torch.optim.AdamW([
            {"params": decay, "lr": model.learning_rate, "weight_decay": model.weight_decay},
            {"params": no_decay, "lr": model.learning_rate, "weight_decay": 0.0},
            {"params": list(model.heads_.parameters()), "lr": model.head_learning_rate, "weight_decay": 0.0},
        ])
        self.steps_per_epoch = max(1, -(-len(self.features) // model.batch_size))
        total_steps = self.steps_per_epoch * model.epochs
        warmup = int(model.warmup_fraction * total_steps)

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / (warmup + 1)
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)
        self.head_dropout = torch.nn.Dropout(model.dropout)
        self.rng = np.random.default_rng(model.seed)
        self.history: list[dict] = []
        self.best: float | None = None
        self.best_state: dict | None = None
        self.waited = 0
        model.resumed_seconds_ = 0.0  # the epochs' time before a resume, set by _resume

    def train(self) -> list[dict]:
        """Run the remaining epochs (all, or those after a checkpoint), keep the best epoch's weights."""
        model = self.model
        first_epoch = self._resume() + 1
        if not self.quiet:
            import torch

            print(f"fine-tuning in {self.precision} on {model.device} "
                  f"({torch.get_num_threads()} threads), batches grouped by length"
                  + (f", resuming after epoch {first_epoch - 1}" if first_epoch > 1 else ""), file=sys.stderr)
        stopped = self.dev is not None and self.waited >= model.patience
        with progress_bar(total=self.steps_per_epoch * model.epochs, description="fine-tuning",
                          quiet=self.quiet, unit="batch") as bar:
            bar.update(self.steps_per_epoch * (first_epoch - 1))
            for epoch in range(first_epoch, model.epochs + 1):
                if stopped:
                    break
                record = self._epoch(epoch, bar)
                self.history.append(record)
                if not self.quiet:
                    bar.write(self._epoch_line(record), file=sys.stderr)
                stopped = self.dev is not None and self.waited >= model.patience
                if self.checkpoint is not None:
                    self._save(epoch)
        for parameter in model.encoder_.parameters():
            parameter.requires_grad_(False)
        if self.best_state is not None:
            model.load_trained_state(self.best_state)
        model.encoder_.eval()
        model.heads_.eval()
        for record in self.history:
            record["precision"] = self.precision
        return self.history

    def _epoch(self, epoch: int, bar) -> dict:
        import torch

        model = self.model
        top = model.encoder_.encoder.layer[model.first_trained_layer:]
        top.train()
        model.heads_.train()
        epoch_loss = 0.0
        parameters = [p for group in self.optimizer.param_groups for p in group["params"]]
        for batch in length_grouped_batches(self.lengths, model.batch_size, self.rng):
            with self._autocast():
                logits = _forward_top(model, [self.features[i] for i in batch], self.head_dropout)
            loss = sum(weighted_cross_entropy(out.float(), t[batch], w)
                       for out, t, w in zip(logits, self.targets, self.weights))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            self.optimizer.step()
            self.scheduler.step()
            epoch_loss += loss.item() * len(batch)
            bar.update(1)
        top.eval()
        model.heads_.eval()
        record = {"epoch": epoch, "loss": epoch_loss / len(self.features),
                  "seconds": time.perf_counter() - self.started}
        if self.dev is not None:
            with self._autocast():
                predicted = predict_cached(model, self.dev[0])
            f1 = [macro_f1(gold, task_predicted) for gold, task_predicted in zip(self.dev[1], predicted)]
            record.update({f"dev_macro_f1_{task}": value for task, value in zip(TASKS, f1)})
            record["dev_macro_f1_mean"] = float(np.mean(f1))
            improved = self.best is None or record["dev_macro_f1_mean"] > self.best + 1e-9
            if improved:
                self.best, self.waited = record["dev_macro_f1_mean"], 0
                self.best_state = {k: v.clone() for k, v in model._trained_state().items()}
            else:
                self.waited += 1
            record["best"] = improved
        return record

    def _autocast(self):
        import torch

        return torch.autocast(self.model.torch_device().type, dtype=torch.bfloat16,
                              enabled=self.precision == "bf16")

    def _epoch_line(self, record: dict) -> str:
        model, epoch = self.model, record["epoch"]
        line = f"epoch {epoch}/{model.epochs}: loss {record['loss']:.4f}"
        if self.dev is not None:
            line += (", dev macro-F1 " + ", ".join(f"{task} {record[f'dev_macro_f1_{task}']:.3f}" for task in TASKS)
                     + f", mean {record['dev_macro_f1_mean']:.3f}" + (" (best)" if record["best"] else ""))
        done = epoch - (self.history[0]["epoch"] - 1)
        left = (time.perf_counter() - self.started) / done * (model.epochs - epoch)
        return line + (f" [{record['seconds']:.0f} s, at most {left:.0f} s left]" if epoch < model.epochs
                       else f" [{record['seconds']:.0f} s]")

    # --- checkpoints ------------------------------------------------------------------

    def _save(self, epoch: int) -> None:
        import torch

        tensors = {f"trained.{k}": v for k, v in self.model._trained_state().items()}
        if self.best_state is not None:
            tensors.update({f"best.{k}": v for k, v in self.best_state.items()})
        optimizer = self.optimizer.state_dict()
        for index, values in optimizer["state"].items():
            tensors.update({f"optimizer.{index}.{name}": value for name, value in values.items()})
        tensors["rng.torch"] = torch.get_rng_state()
        python_state = random.getstate()
        state = {"epoch": epoch, "history": self.history, "best": self.best, "waited": self.waited,
                 "seconds": time.perf_counter() - self.started, "fingerprint": self.fingerprint,
                 "param_groups": [{k: list(v) if isinstance(v, tuple) else v for k, v in group.items()}
                                  for group in optimizer["param_groups"]],
                 "scheduler": self.scheduler.state_dict(), "rng_numpy": self.rng.bit_generator.state,
                 "rng_python": [python_state[0], list(python_state[1]), python_state[2]]}
        save_checkpoint(self.checkpoint, Checkpoint(tensors, state))

    def _resume(self) -> int:
        """Restore the state of a checkpoint of this run, if there is one; the last finished epoch (or 0)."""
        import torch

        if self.checkpoint is None:
            return 0
        saved = load_checkpoint(self.checkpoint, self.fingerprint)
        if saved is None:
            return 0
        tensors, state = saved.tensors, saved.state
        self.model.load_trained_state({k[len("trained."):]: v for k, v in tensors.items() if k.startswith("trained.")})
        best = {k[len("best."):]: v for k, v in tensors.items() if k.startswith("best.")}
        self.best_state = best or None
        optimizer_state: dict = {}
        for key, value in tensors.items():
            if key.startswith("optimizer."):
                _, index, name = key.split(".", 2)
                optimizer_state.setdefault(int(index), {})[name] = value
        groups = [{k: tuple(v) if k == "betas" else v for k, v in group.items()} for group in state["param_groups"]]
        self.optimizer.load_state_dict({"state": optimizer_state, "param_groups": groups})
        self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(tensors["rng.torch"])
        self.rng.bit_generator.state = state["rng_numpy"]
        version, internal, gauss = state["rng_python"]
        random.setstate((version, tuple(internal), gauss))
        self.history, self.best, self.waited = state["history"], state["best"], state["waited"]
        self.started -= state["seconds"]
        self.model.resumed_seconds_ = state["seconds"]
        return state["epoch"]
