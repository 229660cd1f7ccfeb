"""Low-rank adapters (LoRA) for Linear layers: trained beside frozen weights, then merged into them.

A ``LoRALinear`` computes ``x W^T + b + scale * x A^T B^T`` with ``A`` (rank, in) and
``B`` (out, rank), ``scale = alpha / rank``; ``B`` starts at zero, so training starts
from the pretrained layer. Its weight and bias keep the names of the Linear it wraps,
so a state dict names them as before. ``merge_adapters`` folds ``scale * B A`` into the
weight and puts plain Linear layers back, which the int8 path then quantizes.
"""

from __future__ import annotations

import math

import torch

from .int8 import replace_layers


class LoRALinear(torch.nn.Linear):
    """A Linear layer with a trainable low-rank update of its weight."""

    def __init__(self, linear: torch.nn.Linear, rank: int, alpha: float) -> None:
        torch.nn.Module.__init__(self)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight, self.bias = linear.weight, linear.bias
        self.scale = alpha / rank
        device, dtype = linear.weight.device, linear.weight.dtype
        self.lora_a = torch.nn.Parameter(torch.empty(rank, self.in_features, device=device, dtype=dtype))
        self.lora_b = torch.nn.Parameter(torch.zeros(self.out_features, rank, device=device, dtype=dtype))
        torch.nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale

    def merged(self) -> torch.nn.Linear:
        """A plain Linear layer whose weight holds the update."""
        linear = torch.nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                                 device=self.weight.device, dtype=self.weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(self.weight + self.scale * (self.lora_b @ self.lora_a))
            if self.bias is not None:
                linear.bias.copy_(self.bias)
        return linear


def add_adapters(module: torch.nn.Module, rank: int, alpha: float) -> None:
    """Wrap every ``torch.nn.Linear`` inside ``module`` (in place) in a ``LoRALinear``."""
    replace_layers(module, torch.nn.Linear, lambda linear: LoRALinear(linear, rank, alpha))


def merge_adapters(module: torch.nn.Module) -> None:
    """Replace every ``LoRALinear`` inside ``module`` (in place) by its merged Linear layer."""
    replace_layers(module, LoRALinear, LoRALinear.merged)
