"""stancekit: label sentences about Iranian politics by source stance and propaganda-claim type.

    >>> from stancekit import classify
    >>> classify("The martyr Soleimani is alive forever.").stance
    'regime'

Heavy libraries (torch, transformers, scikit-learn, pandas) load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["classify", "classify_document", "classify_frame", "load_model", "profile", "profile_changes", "Prediction",
           "DocumentPrediction", "__version__"]

if TYPE_CHECKING:
    from .api import classify, classify_document, classify_frame
    from .prediction import DocumentPrediction, Prediction
    from .profiles.api import profile, profile_changes
    from .registry import load_model

_LAZY = {"classify": "api", "classify_document": "api", "classify_frame": "api", "load_model": "registry",
         "profile": "profiles.api", "profile_changes": "profiles.api", "Prediction": "prediction",
         "DocumentPrediction": "prediction"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'stancekit' has no attribute {name!r}")
