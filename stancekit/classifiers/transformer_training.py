"""Fine-tuning loop of the transformer models (the model class holds the network and inference).

The bottom encoder layers stay frozen, so their outputs are computed once per text and
cached; each epoch then runs only the fine-tuned top layers and the two heads. Which
parameters of those layers train is the model's choice (``trained_parameters``: all of
them, or adapters, biases and LayerNorms); training runs on the model's ``device``. The loss
is the sum of the two tasks' class-weighted cross-entropies against the target
probabilities (one-hot for labels, where it is the usual weighted cross-entropy). With a
validation set, every epoch is scored by dev macro-F1 (``evaluate.macro_f1``, against
each text's most probable target label) on both tasks, and training stops when their
mean has not improved for ``patience`` epochs; the best epoch's weights are kept.
"""

from __future__ import annotations

import os
import random
import sys
import time
from typing import TYPE_CHECKING

import numpy as np

from ..evaluate import macro_f1
from ..labels import TASKS
from ..progress import progress_bar

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


def _dev_macro_f1(model: "TransformerClassifier", features: list, labels: list[np.ndarray]) -> list[float]:
    return [macro_f1(gold, predicted) for gold, predicted in zip(labels, predict_cached(model, features))]


def train(model: "TransformerClassifier", texts: list[str], targets: list[np.ndarray],
          validation: tuple[list[str], list[np.ndarray]] | None = None, quiet: bool = False) -> list[dict]:
    """Fine-tune ``model`` (network already built) on ``texts`` and their per-task target
    probabilities; return the per-epoch history."""
    import torch

    random.seed(model.seed)
    np.random.seed(model.seed)
    torch.manual_seed(model.seed)
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
        return _train(model, texts, targets, validation, quiet)
    finally:
        torch.use_deterministic_algorithms(deterministic)


def _train(model, texts, targets, validation, quiet) -> list[dict]:
    import torch

    started = time.perf_counter()
    ids, _ = model.tokenize(texts)
    features = frozen_features(model, ids)
    if validation is not None:
        dev_features = frozen_features(model, model.tokenize(validation[0])[0])
        dev_labels = [task_targets.argmax(axis=1) for task_targets in validation[1]]
    device = model.torch_device()
    weights = [torch.tensor(class_weights(task_targets, model.class_weight), device=device)
               for task_targets in targets]

    top = model.encoder_.encoder.layer[model.first_trained_layer:]
    trained = model.trained_parameters()
    for parameter in model.encoder_.parameters():
        parameter.requires_grad_(False)
    for parameter in trained.values():
        parameter.requires_grad_(True)
    decay = [p for n, p in trained.items() if not n.endswith("bias") and "LayerNorm" not in n]
    no_decay = [p for n, p in trained.items() if n.endswith("bias") or "LayerNorm" in n]
    optimizer = torch.optim.AdamW([
        {"params": decay, "lr": model.learning_rate, "weight_decay": model.weight_decay},
        {"params": no_decay, "lr": model.learning_rate, "weight_decay": 0.0},
        {"params": list(model.heads_.parameters()), "lr": model.head_learning_rate, "weight_decay": 0.0},
    ])
    steps_per_epoch = max(1, -(-len(features) // model.batch_size))
    total_steps = steps_per_epoch * model.epochs
    warmup = int(model.warmup_fraction * total_steps)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    head_dropout = torch.nn.Dropout(model.dropout)
    rng = np.random.default_rng(model.seed)
    target_tensors = [torch.tensor(t, dtype=torch.float32, device=device) for t in targets]
    history, best, best_state, waited = [], None, None, 0
    with progress_bar(total=total_steps, description="fine-tuning", quiet=quiet, unit="batch") as bar:
        for epoch in range(1, model.epochs + 1):
            top.train()
            model.heads_.train()
            order = rng.permutation(len(features))
            epoch_loss = 0.0
            for start in range(0, len(order), model.batch_size):
                batch = order[start:start + model.batch_size]
                logits = _forward_top(model, [features[i] for i in batch], head_dropout)
                loss = sum(weighted_cross_entropy(out, t[batch], w)
                           for out, t, w in zip(logits, target_tensors, weights))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], 1.0)
                optimizer.step()
                scheduler.step()
                epoch_loss += loss.item() * len(batch)
                bar.update(1)
            top.eval()
            model.heads_.eval()
            record = {"epoch": epoch, "loss": epoch_loss / len(features),
                      "seconds": time.perf_counter() - started}
            if validation is not None:
                f1 = _dev_macro_f1(model, dev_features, dev_labels)
                record.update({f"dev_macro_f1_{task}": value for task, value in zip(TASKS, f1)})
                record["dev_macro_f1_mean"] = float(np.mean(f1))
                improved = best is None or record["dev_macro_f1_mean"] > best + 1e-9
                if improved:
                    best, waited = record["dev_macro_f1_mean"], 0
                    best_state = {k: v.clone() for k, v in model._trained_state().items()}
                else:
                    waited += 1
                record["best"] = improved
            history.append(record)
            if not quiet:
                line = f"epoch {epoch}/{model.epochs}: loss {record['loss']:.4f}"
                if validation is not None:
                    line += (", dev macro-F1 " + ", ".join(
                        f"{task} {record[f'dev_macro_f1_{task}']:.3f}" for task in TASKS)
                        + f", mean {record['dev_macro_f1_mean']:.3f}" + (" (best)" if record["best"] else ""))
                left = record["seconds"] / epoch * (model.epochs - epoch)
                line += f" [{record['seconds']:.0f} s, at most {left:.0f} s left]" if epoch < model.epochs \
                    else f" [{record['seconds']:.0f} s]"
                bar.write(line, file=sys.stderr)
            if validation is not None and waited >= model.patience:
                break
    for parameter in model.encoder_.parameters():
        parameter.requires_grad_(False)
    if best_state is not None:
        model.load_trained_state(best_state)
    model.encoder_.eval()
    model.heads_.eval()
    return history

