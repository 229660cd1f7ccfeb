"""The accurate model: a whole encoder (all-mpnet-base-v2 by default) fine-tuned with two heads.

The transformer model generalised over the encoder: the same network (mean pooling, one
linear head per task), training loop (``transformer_training``: class-weighted loss or
soft targets, early stopping on dev), temperature calibration and inference paths
(length buckets, int8 linear layers on the CPU). What differs is what fine-tuning changes
and what is stored:

- ``adapter="lora"`` (default): every linear layer of the trained encoder layers gets a
  LoRA adapter of rank ``lora_rank`` (``lora.py``), trained together with the layers'
  biases and LayerNorms and the heads; the base weights stay frozen. The safetensors file
  holds only those tensors (``encoder.layer.N.<path>.lora_a`` (rank, in) and ``lora_b``
  (out, rank), biases, LayerNorms, heads, temperatures; the format is in its metadata and
  in the config's settings), and loading merges ``lora_alpha / lora_rank * lora_b @ lora_a``
  into the pretrained weights, so inference runs on plain (then int8) Linear layers.
  For MPNet at rank 64 that is about 21 MB in float16.
- ``adapter="svd"``: every parameter of the trained layers is fine-tuned (a full fine-tune);
  after training, the change of each linear layer's weight is stored in low rank: its
  truncated SVD at rank ``delta_rank``, as the factors ``lora_a = sqrt(S) V^T`` and
  ``lora_b = U sqrt(S)`` (the LoRA format, with a scale of 1), beside the layers' biases and
  LayerNorms (stored whole). Loading merges them like LoRA adapters, and the trained model
  is given the same merged weights, so it scores as its saved copy does. At rank 112 that
  is about 37 MB for MPNet.
- ``adapter="full"``: every parameter of the trained layers is fine-tuned and stored whole
  (about 170 MB for MPNet): the reference a stored adapter is compared with, not a model to ship.
"""

from __future__ import annotations

from .encoders import MINILM_L6, MPNET_BASE, Encoder
from .transformer import TransformerClassifier

ENCODERS: dict[str, Encoder] = {"mpnet": MPNET_BASE, "minilm": MINILM_L6}
ADAPTERS = ("lora", "svd", "full")
SIZE_LIMIT_BYTES = 40_000_000
"""The most the shipped weights of an accurate model may take."""


class AccurateClassifier(TransformerClassifier):
    """A pretrained encoder (``encoder``: "mpnet" or "minilm") fine-tuned whole, with two linear heads.

    ``trainable_layers`` (None: all) is how many top layers train; ``adapter`` says how
    (see the module's docstring). Other parameters are the transformer model's.
    """

    kind = "accurate"

    def __init__(self, *, encoder: str = "mpnet", adapter: str = "lora", lora_rank: int = 64,
                 lora_alpha: float = 128.0, delta_rank: int = 112, trainable_layers: int | None = None,
                 max_length: int = 128, learning_rate: float = 2e-4, head_learning_rate: float = 1e-3,
                 epochs: int = 3, batch_size: int = 16, pooling: str = "mean", dropout: float = 0.1,
                 weight_decay: float = 0.01, warmup_fraction: float = 0.06,
                 class_weight: str | None = "balanced", patience: int = 2, precision: str = "bf16",
                 weights_dtype: str = "float16", inference_batch_size: int = 32,
                 training_precision: str = "auto", seed: int = 13, device: str = "cpu",
                 name: str = "accurate", version: str = "1.0.0") -> None:
        super().__init__(max_length=max_length, learning_rate=learning_rate,
                         head_learning_rate=head_learning_rate, epochs=epochs, batch_size=batch_size,
                         trainable_layers=trainable_layers, pooling=pooling, dropout=dropout,
                         weight_decay=weight_decay, warmup_fraction=warmup_fraction,
                         class_weight=class_weight, patience=patience, precision=precision,
                         weights_dtype=weights_dtype, inference_batch_size=inference_batch_size,
                         training_precision=training_precision, seed=seed, device=device, name=name,
                         version=version)
        self.encoder = encoder
        self.adapter = adapter
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.delta_rank = delta_rank

    @property
    def base_encoder(self) -> Encoder:  # type: ignore[override]
        """The pretrained encoder named by ``encoder``."""
        return ENCODERS[self.encoder]

    def _check_params(self) -> None:
        super()._check_params()
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {tuple(ENCODERS)}, not {self.encoder!r}")
        if self.adapter not in ADAPTERS:
            raise ValueError(f"adapter must be one of {ADAPTERS}, not {self.adapter!r}")
        if not (isinstance(self.lora_rank, int) and self.lora_rank >= 1 and self.lora_alpha > 0):
            raise ValueError(f"lora_rank must be a positive integer and lora_alpha positive, "
                             f"not {self.lora_rank!r} and {self.lora_alpha!r}")
        if not (isinstance(self.delta_rank, int) and self.delta_rank >= 1):
            raise ValueError(f"delta_rank must be a positive integer, not {self.delta_rank!r}")

    def _fine_tuning(self) -> str:
        layers = f"its top {self.trainable_layers} layers" if self.trainable_layers else "all its layers"
        if self.adapter == "full":
            return f"with {layers} fine-tuned and stored whole"
        if self.adapter == "svd":
            return (f"with {layers} fine-tuned; each linear layer's weight change is stored as its truncated "
                    f"SVD at rank {self.delta_rank} (biases and LayerNorms whole) and merged into the "
                    "pretrained weights when the model loads")
        return (f"fine-tuned through LoRA adapters (rank {self.lora_rank}, alpha {self.lora_alpha:g}) on "
                f"every linear layer of {layers}, with their biases and LayerNorms trained alongside; "
                "only these and the heads are stored, and the adapters are merged into the pretrained "
                "weights when the model loads")

    def _build_network(self) -> None:
        """The transformer's network, with LoRA adapters on the trained layers' linear layers."""
        super()._build_network()
        self.__dict__.pop("adapter_state_", None)
        if self.adapter == "lora":
            from .lora import add_adapters

            for layer in self.encoder_.encoder.layer[self.first_trained_layer:]:
                add_adapters(layer, self.lora_rank, self.lora_alpha)

    def _build_saved_network(self) -> None:
        """The network, with adapters of the stored rank (and a scale of 1) for SVD-stored weight changes."""
        self._build_network()
        if self.adapter == "svd":
            from .lora import add_adapters

            for layer in self.encoder_.encoder.layer[self.first_trained_layer:]:
                add_adapters(layer, self.delta_rank, float(self.delta_rank))

    def _has_adapters(self) -> bool:
        from .lora import LoRALinear

        return any(isinstance(module, LoRALinear) for module in self.encoder_.modules())

    def trained_parameters(self) -> dict:
        """With adapters: the adapters and the trained layers' biases and LayerNorms."""
        parameters = super().trained_parameters()
        if not self._has_adapters():
            return parameters
        return {key: parameter for key, parameter in parameters.items()
                if key.endswith((".lora_a", ".lora_b", ".bias")) or "LayerNorm" in key}

    def _trained_state(self) -> dict:
        """The stored tensors (kept aside once the adapters are merged into the weights)."""
        if "adapter_state_" in self.__dict__:
            return self.adapter_state_
        return super()._trained_state()

    def _to_stored_form(self) -> None:
        """Round to the stored dtype, keep the stored tensors aside, and merge the adapters (for SVD
        storage after training: replace each weight change by its stored low-rank factors first)."""
        if self.adapter == "svd" and not self._has_adapters():
            self._factor_weight_changes()
        super()._to_stored_form()
        if self._has_adapters():
            from .lora import merge_adapters

            self.adapter_state_ = {key: tensor.clone() for key, tensor in super()._trained_state().items()}
            merge_adapters(self.encoder_.encoder)

    def _factor_weight_changes(self) -> None:
        """Turn the fine-tuned linear layers into pretrained weights plus rank-``delta_rank`` adapters
        holding the truncated SVD of each weight change (``weight = pretrained + lora_b @ lora_a``)."""
        import torch

        from .lora import LoRALinear, add_adapters

        _, pretrained = self.base_encoder.load()
        for index in range(self.first_trained_layer, self.encoder_.config.num_hidden_layers):
            layer, original = self.encoder_.encoder.layer[index], pretrained.encoder.layer[index]
            originals = {name: module.weight.detach() for name, module in original.named_modules()
                         if isinstance(module, torch.nn.Linear)}
            add_adapters(layer, self.delta_rank, float(self.delta_rank))
            with torch.no_grad():
                for name, module in layer.named_modules():
                    if isinstance(module, LoRALinear):
                        change = module.weight.detach().float() - originals[name].float()
                        u, s, vh = torch.linalg.svd(change, full_matrices=False)
                        root = s[:self.delta_rank].sqrt()
                        module.lora_a.copy_(root[:, None] * vh[:self.delta_rank])
                        module.lora_b.copy_(u[:, :self.delta_rank] * root[None, :])
                        module.weight.copy_(originals[name])

    def known_limits(self) -> list[str]:
        return ["Slow on the CPU: a 12-layer MPNet-base pass per sentence, about eight times the computation of "
                "the 6-layer MiniLM models; score large batches with the default, or with this model on a GPU "
                "(device='cuda').",
                "The bf16 inference path needs a CPU with AVX512-BF16 or AMX; elsewhere the model runs in fp32, "
                "slower, with the same labels up to rounding.",
                "Fine-tuned on authored sentences; its lead over the default is largest on claim type and on "
                "short registers, and it shares the corpus's blind spots (see annotations/README.md)."]

    def stored_bytes(self) -> int:
        """The bytes the learned tensors take in the saved weights file (without its header)."""
        size = 2 if self.weights_dtype == "float16" else 4
        return sum(tensor.numel() * size for tensor in self._trained_state().values())

    def _weights_metadata(self) -> dict[str, str]:
        if self.adapter == "full":
            return {**super()._weights_metadata(), "adapter": "full: the trained layers' weights, whole"}
        if self.adapter == "svd":
            return {**super()._weights_metadata(),
                    "adapter": f"svd rank={self.delta_rank}: truncated SVD factors of each weight change",
                    "merge": "at load: <linear>.weight += <linear>.lora_b @ <linear>.lora_a; "
                             "biases, LayerNorms and heads replace the base's"}
        return {**super()._weights_metadata(),
                "adapter": f"lora rank={self.lora_rank} alpha={self.lora_alpha:g}",
                "merge": "at load: <linear>.weight += alpha / rank * <linear>.lora_b @ <linear>.lora_a; "
                         "biases, LayerNorms and heads replace the base's"}
