"""stancekit: label sentences about Iranian politics by source stance and propaganda-claim type.

    >>> from stancekit import classify
    >>> classify("The martyr Soleimani is alive forever.").stance
    'regime'

Heavy libraries (torch, transformers, scikit-learn, pandas) load only when used.

The package is laid out by layer, each importing only the layers below it:

- foundation modules (``labels``, ``errors``, ``paths``, ``files``, ``progress``,
  ``prediction``, ``artifacts``, ``metrics``);
- ``io`` (reading and writing records) and ``data`` (labeled data and the text it is made of);
- ``classifiers`` (the models), then ``registry`` (model kinds and loaded models);
- ``evaluation`` (scores and reports) and ``views`` (the table view and the HTML page);
- ``jobs`` (scoring, the local and Dask engines, reports, training);
- ``profiles`` (label shares per outlet and period) and ``annotation`` (the annotation loop);
- ``api`` (this package's functions) and ``cli`` (the command line) on top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["classify", "classify_document", "classify_frame", "classify_dask", "load_model", "profile",
           "profile_changes", "Prediction", "DocumentPrediction", "__version__"]

if TYPE_CHECKING:
    from .api import classify, classify_document, classify_frame
    from .jobs.dask_engine import classify_dask
    from .prediction import DocumentPrediction, Prediction
    from .profiles.api import profile, profile_changes
    from .registry import load_model

_LAZY = {"classify": "api", "classify_document": "api", "classify_frame": "api", "classify_dask": "jobs.dask_engine",
         "load_model": "registry", "profile": "profiles.api", "profile_changes": "profiles.api",
         "Prediction": "prediction", "DocumentPrediction": "prediction"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'stancekit' has no attribute {name!r}")
