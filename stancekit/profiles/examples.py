"""Example sentences for each cell of a profile: the few sentences of a group that show a label best.

For a stance or claim type: the group's sentences with that label, most confident first.
For a flag (review, out of scope): the group's flagged sentences, least confident stance first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..labels import TASKS
from .records import FLAGS, LOCATION, PROBLEM, Fields, column_name

if TYPE_CHECKING:
    import pandas

PER_CELL = 3


@dataclass(frozen=True)
class Example:
    """One example sentence: its text, the confidence of the label shown, and where it came from."""

    text: str
    confidence: float
    where: str


Cell = tuple[tuple[str, ...], str, str]
"""(group key, task, label) of a profile cell."""


def pick_examples(frame: "pandas.DataFrame", marked: "pandas.DataFrame", fields: Fields, text_field: str,
                  per_cell: int = PER_CELL) -> dict[Cell, list[Example]]:
    """Up to ``per_cell`` examples for every cell with a sentence in it (records with a problem left out)."""
    good = (marked[PROBLEM] == "").to_numpy()
    view = marked.loc[good, fields.keys].copy()
    source = frame.loc[good]
    view["_text"] = source[text_field].astype(str) if text_field in source else ""
    view["_where"] = (source[LOCATION[0]].astype(str) + ":" + source[LOCATION[1]].astype(str)
                      if all(name in source for name in LOCATION) else [f"row {label!r}" for label in source.index])
    stance_confidence = marked.loc[good, column_name("confidence", "stance")]
    choices = [(task, source[fields.predictions[task]], marked.loc[good, column_name("confidence", task)], False)
               for task in TASKS]
    for flag in FLAGS:
        flagged = marked.loc[good, column_name("flag", flag)] == 1
        choices.append(("flag", flagged.map({True: flag, False: None}), stance_confidence, True))
    examples: dict[Cell, list[Example]] = defaultdict(list)
    for task, labels, confidence, least_first in choices:
        picked = (view.assign(_label=labels, _confidence=confidence).dropna(subset=["_label"])
                  .sort_values("_confidence", ascending=least_first, kind="stable")
                  .groupby([*fields.keys, "_label"], sort=False).head(per_cell))
        for values in picked.to_dict(orient="records"):
            key = tuple(values[name] for name in fields.keys)
            examples[key, task, values["_label"]].append(Example(values["_text"], float(values["_confidence"]),
                                                                 values["_where"]))
    return dict(examples)
