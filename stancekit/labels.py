"""The label scheme: names and version of the stance and claim-type labels.

The only source of label names is ``annotations/schema.json``; nothing else in
stancekit spells them out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from .paths import schema_path

TASKS: tuple[str, str] = ("stance", "claim_type")
"""The two labels every unit gets, in the order models report them."""


@dataclass(frozen=True)
class LabelScheme:
    """The label sets of one scheme version."""

    version: str
    stances: tuple[str, ...]
    claim_types: tuple[str, ...]

    def labels(self, task: str) -> tuple[str, ...]:
        """Return the label names of ``task`` (``"stance"`` or ``"claim_type"``)."""
        if task == "stance":
            return self.stances
        if task == "claim_type":
            return self.claim_types
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """Return the annotation record's JSON Schema as a dict."""
    with open(schema_path(), encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=1)
def get_scheme() -> LabelScheme:
    """Return the label scheme that this installation of stancekit uses."""
    schema = load_schema()
    properties = schema["properties"]
    return LabelScheme(
        version=schema["schema_version"],
        stances=tuple(properties["stance"]["enum"]),
        claim_types=tuple(properties["claim_type"]["enum"]),
    )
