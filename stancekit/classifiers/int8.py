"""Int8 inference for the encoder's linear layers: weights per output channel, activations per token.

Each token's activations get their own scale and zero point, so a text's result never
depends on the other texts of its batch (integer products are exact).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable


@lru_cache(maxsize=1)
def _int8_linear_class():
    import torch

    class Int8Linear(torch.nn.Module):
        """A Linear layer in int8: weights per output channel, activations per token.

        Activations are quantized asymmetrically, so the mostly positive GELU outputs use
        the whole int8 range.
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


def replace_layers(module, kind: type, make: Callable) -> None:
    """Replace every submodule of ``module`` that is a ``kind`` (in place) by ``make(submodule)``."""
    for name, child in module.named_children():
        if isinstance(child, kind):
            setattr(module, name, make(child))
        else:
            replace_layers(child, kind, make)


def quantize_linears(module) -> None:
    """Replace every ``torch.nn.Linear`` inside ``module`` (in place) by its int8 version."""
    import torch

    replace_layers(module, torch.nn.Linear, _int8_linear_class())
