"""The distilled model: a small MiniLM student of the accurate model, served through ONNX Runtime.

The student is the transformer model's network (mean pooling, one linear head per task) on
``layers`` of all-MiniLM-L6-v2's six layers, evenly spaced from the first to the last
(``kept_layers``), fine-tuned whole. It learns from target probabilities: the teacher's
calibrated probabilities on a large transfer set, mixed with the gold labels where there
are any (``fit`` takes probabilities; see ``stancekit.jobs.distillation``). After training, the
network is exported to ONNX and its matrix multiplications quantized to int8 by ONNX
Runtime (``quantization``); the calibration temperatures are then fitted on dev *through
the ONNX model*, so they calibrate what is served.

A saved student holds the ONNX file, the tokenizer (``tokenizer.json``) and, for the
PyTorch path, the trained layers and heads (safetensors). Scoring on the CPU runs the ONNX
file in ONNX Runtime with the ``tokenizers`` package: neither torch nor transformers is
imported. The PyTorch network is built only when something needs it: further training,
``device="cuda"``, or explanations (occlusion on its fp32 path).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..labels import TASKS
from .base import ModelLoader, Scores, Validation
from .calibration import softmax
from .transformer import TransformerClassifier

ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
QUANTIZATIONS = ("int8", "none")
RUNTIMES = ("onnx", "torch")
_BASE_LAYERS = 6


def kept_layers(layers: int, total: int = _BASE_LAYERS) -> list[int]:
    """The indices of ``layers`` encoder layers spread evenly from the first to the last of ``total``."""
    if not 1 <= layers <= total:
        raise ValueError(f"layers must be between 1 and {total}, not {layers!r}")
    if layers == 1:
        return [total - 1]
    return sorted({round(i * (total - 1) / (layers - 1)) for i in range(layers)})


class DistilledClassifier(TransformerClassifier):
    """A MiniLM student with ``layers`` of MiniLM-L6's layers, served as an ONNX model.

    ``quantization`` is ``int8`` (dynamic quantization of the exported model's matrix
    multiplications, weights per channel) or ``none``; ``runtime`` is ``onnx`` (the served
    path) or ``torch`` (the PyTorch network, with the transformer's ``precision``). Other
    parameters are the transformer model's; all layers kept are fine-tuned.
    """

    kind = "distilled"

    def __init__(self, *, layers: int = 4, quantization: str = "int8", runtime: str = "onnx",
                 max_length: int = 128, learning_rate: float = 1e-4, head_learning_rate: float = 1e-3,
                 epochs: int = 10, batch_size: int = 32, pooling: str = "mean", dropout: float = 0.1,
                 weight_decay: float = 0.01, warmup_fraction: float = 0.06,
                 class_weight: str | None = "sqrt", patience: int = 2, precision: str = "fp32",
                 weights_dtype: str = "float16", inference_batch_size: int = 64,
                 training_precision: str = "auto", seed: int = 13, device: str = "cpu",
                 name: str = "distilled", version: str = "1.0.0") -> None:
        super().__init__(max_length=max_length, learning_rate=learning_rate,
                         head_learning_rate=head_learning_rate, epochs=epochs, batch_size=batch_size,
                         trainable_layers=None, pooling=pooling, dropout=dropout, weight_decay=weight_decay,
                         warmup_fraction=warmup_fraction, class_weight=class_weight, patience=patience,
                         precision=precision, weights_dtype=weights_dtype,
                         inference_batch_size=inference_batch_size, training_precision=training_precision,
                         seed=seed, device=device, name=name, version=version)
        self.layers = layers
        self.quantization = quantization
        self.runtime = runtime

    def _check_params(self) -> None:
        super()._check_params()
        kept_layers(self.layers)
        if self.quantization not in QUANTIZATIONS:
            raise ValueError(f"quantization must be one of {QUANTIZATIONS}, not {self.quantization!r}")
        if self.runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, not {self.runtime!r}")

    def _fine_tuning(self) -> str:
        kept = ", ".join(map(str, kept_layers(self.layers)))
        served = ("ONNX Runtime, matrix multiplications in int8 (dynamic quantization)"
                  if self.quantization == "int8" else "ONNX Runtime in fp32")
        return (f"cut to {self.layers} of its 6 layers (layers {kept}), all fine-tuned, served through {served}")

    def known_limits(self) -> list[str]:
        return ["Distilled: it learned to imitate its teacher on a transfer set (see the training section), "
                "so it inherits the teacher's errors, and it is weakest where the teacher was unsure.",
                "Served in int8 through ONNX Runtime; its explanations come from the same network in fp32 "
                "(PyTorch), whose probabilities differ a little from the served ones: on the test split the "
                "macro-F1 of the two differs by under half a point, and about one sentence in twenty gets "
                "another stance or claim type."]

    # --- the PyTorch network ----------------------------------------------------------

    def _build_network(self) -> None:
        """The transformer's network on the kept layers of the base encoder."""
        import torch

        super()._build_network()
        self.pretrained_layers_ = self.encoder_.config.num_hidden_layers
        keep = kept_layers(self.layers, self.pretrained_layers_)
        self.encoder_.encoder.layer = torch.nn.ModuleList([self.encoder_.encoder.layer[i] for i in keep])
        self.encoder_.config.num_hidden_layers = len(keep)

    def pretrained_layer_count(self) -> int:
        return self.pretrained_layers_

    def _network(self) -> None:
        """Build the PyTorch network of a loaded model from its saved tensors, once (checking its base)."""
        if "encoder_" in self.__dict__:
            return
        folder = self.__dict__.get("loaded_from_")
        if folder is None:
            raise ModelError("the model has no PyTorch network: fit it, or load it from a folder")
        self.base_encoder.check_identity(self._saved_base, folder)
        self._load_network(folder)

    def full_precision(self) -> "DistilledClassifier":
        """A copy on the PyTorch network in fp32, sharing this model's weights (explanations use it)."""
        import copy

        self._network()
        model = copy.copy(self)
        model.__dict__.pop("_shared_by", None)  # the copy is this caller's own; the weights stay shared
        model.runtime, model.precision = "torch", "fp32"
        model._prepare_inference()
        return model

    # --- training ---------------------------------------------------------------------

    def _fit(self, texts: list[str], targets: list[np.ndarray], validation: Validation | None,
             quiet: bool, checkpoint: Path | None = None) -> "DistilledClassifier":
        """Fine-tune (see ``transformer_training``), export to ONNX, then calibrate the served model on dev."""
        self.__dict__.pop("_session", None)
        return super()._fit(texts, targets, validation, quiet, checkpoint)

    def _prepare_serving(self) -> None:
        """Export the trained network to ONNX (quantized unless ``quantization`` is ``none``): calibration
        and inference then run on it."""
        self.onnx_model_ = export_onnx(self, quantize=self.quantization == "int8")

    # --- inference --------------------------------------------------------------------

    def _serves_onnx(self) -> bool:
        return self.runtime == "onnx" and self.device == "cpu"

    def logits(self, texts: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
        """The heads' raw scores, from ONNX Runtime (``runtime="onnx"`` on the CPU) or the PyTorch network."""
        if not self._serves_onnx():
            self._network()
            return super().logits(texts)
        self._check_fitted("onnx_model_")
        logits = [np.zeros((len(texts), len(c)), dtype=np.float32) for c in self.classes_]
        if not texts:
            return logits, np.zeros(0, dtype=bool)
        session = self._onnx_session()
        ids, truncated = self.tokenize(texts)
        for batch, length in self.batches(ids):
            input_ids = np.zeros((len(batch), length), dtype=np.int64)
            mask = np.zeros((len(batch), length), dtype=np.int64)
            for row, index in enumerate(batch):
                input_ids[row, :len(ids[index])] = ids[index]
                mask[row, :len(ids[index])] = 1
            for task, task_logits in enumerate(session.run(None, {"input_ids": input_ids, "attention_mask": mask})):
                logits[task][batch] = task_logits
        return logits, truncated

    def _onnx_session(self):
        session = self.__dict__.get("_session")
        if session is None:
            import onnxruntime

            from .encoders import available_cores

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = available_cores()
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = onnxruntime.InferenceSession(self.onnx_model_, options, providers=["CPUExecutionProvider"])
            self._session = session
        return session

    def _backend_tokenizer(self):
        """The tokenizer, from the PyTorch network's or from the saved ``tokenizer.json``."""
        backend = getattr(self, "_backend", None)
        if backend is None and "tokenizer_" not in self.__dict__:
            from tokenizers import Tokenizer

            backend = Tokenizer.from_str(self._tokenizer_json)
            backend.no_padding()
            backend.enable_truncation(max_length=self.max_length, stride=0, strategy="longest_first")
            self._backend = backend
        return backend or super()._backend_tokenizer()

    def _predict_scores(self, texts: list[str]) -> Scores:
        logits, truncated = self.logits(texts)
        return Scores([softmax(task_logits / self.temperature_[task]) for task, task_logits in zip(TASKS, logits)],
                      truncated)

    # --- saving and loading -----------------------------------------------------------

    def _save_state(self, folder: Path) -> dict:
        """The PyTorch tensors (safetensors), the ONNX model and the tokenizer."""
        fitted = super()._save_state(folder)
        (folder / ONNX_FILE).write_bytes(self.onnx_model_)
        (folder / TOKENIZER_FILE).write_text(self._tokenizer_json_text(), encoding="utf-8")
        return fitted

    def _tokenizer_json_text(self) -> str:
        if "tokenizer_" in self.__dict__:
            return self.tokenizer_.backend_tokenizer.to_str()
        return self._tokenizer_json

    @classmethod
    def _from_saved(cls, folder: Path, config: dict, loader: ModelLoader | None) -> "DistilledClassifier":
        """The served parts only (ONNX model, tokenizer, temperatures); the PyTorch network loads when needed."""
        from safetensors.numpy import load_file

        model = cls._saved_model(config)
        model._check_params()
        try:
            model.onnx_model_ = (folder / ONNX_FILE).read_bytes()
            model._tokenizer_json = (folder / TOKENIZER_FILE).read_text(encoding="utf-8")
            tensors = load_file(str(folder / "weights.safetensors"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{folder}: unreadable distilled model ({exc})") from None
        model.temperature_ = {task: float(tensors[f"temperature.{task}"][0]) for task in TASKS}
        return model


@contextlib.contextmanager
def _exporter_notes_silenced():
    """Keep the exporter's and the quantizer's notes to their developers (missing torchvision, shape
    renaming, a pre-processing tip on the root logger) off the user's terminal; errors still raise."""
    loggers = [logging.getLogger(), logging.getLogger("torch.onnx")]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


def export_onnx(model: TransformerClassifier, quantize: bool) -> bytes:
    """The model's network (encoder, pooling, heads; no temperature) as an ONNX model (``torch.export``
    based exporter, opset 18, one self-contained file); with ``quantize``, ONNX Runtime's dynamic
    quantization turns its matrix multiplications (weights per channel) and embedding lookups into int8."""
    import tempfile

    import torch

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder, self.heads = model.encoder_, model.heads_

        def forward(self, input_ids, attention_mask):
            hidden = model.run_layers(self.encoder.embeddings(input_ids=input_ids), attention_mask, 0,
                                      encoder=self.encoder)
            return tuple(model.head_logits(model.pool(hidden, attention_mask)))

    dims = {0: torch.export.Dim("batch"), 1: torch.export.Dim("tokens")}
    with tempfile.TemporaryDirectory() as folder, _exporter_notes_silenced():
        exported, quantized = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        with torch.no_grad():
            torch.onnx.export(Network().eval(), model.pad([[101, 2000, 2001, 102], [101, 2002, 102]]),
                              str(exported), input_names=["input_ids", "attention_mask"],
                              output_names=[f"{task}_logits" for task in TASKS],
                              dynamic_shapes={"input_ids": dims, "attention_mask": dims}, opset_version=18,
                              dynamo=True, external_data=False, verbose=False)
        if not quantize:
            return exported.read_bytes()
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(exported, quantized, weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Gather"])
        return quantized.read_bytes()
