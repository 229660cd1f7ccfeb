"""The project's exception and warning types, and the message formats of InputError and SchemeVersionError.

Other messages are written where the error is raised; each is one line that names the
file, record or model concerned and, where there is one, the remedy. A message that names
an argument of the call (an option such as ``resume`` or ``text_field``) writes it in
backquotes, `resume`: the library speaks of its own arguments, and a front end shows
its own name for each with ``spelled`` (the command line: its flags).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping


class StancekitError(Exception):
    """Base class of every error stancekit raises on purpose."""

    def spelled(self, names: Mapping[str, str]) -> str:
        """The message with each backquoted argument name that ``names`` maps replaced by its value
        (the command line passes its flags: ``{"resume": "--resume", ...}``)."""
        message = str(self)
        for argument, name in names.items():
            message = message.replace(f"`{argument}`", name)
        return message


class OptionError(StancekitError, ValueError):
    """Arguments of a call that do not go together, or that a part of stancekit does not offer."""


class InputError(StancekitError, ValueError):
    """A record of an input file cannot be read or does not follow the expected format.

    The message is one line: ``FILE:LINE: FIELD: message`` (LINE and FIELD when known).
    """

    def __init__(self, message: str, *, path: str | Path | None = None,
                 line: int | None = None, field: str | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(format_location(self.path, line, field) + message)


class ModelError(StancekitError):
    """A model cannot be found, is damaged, or does not fit this version of stancekit."""


class SchemeVersionError(ModelError):
    """A model was trained under another version of the label scheme."""

    def __init__(self, model: str, model_version: str, scheme_version: str) -> None:
        super().__init__(
            f"model {model!r} was trained for label scheme {model_version}, "
            f"but this stancekit uses label scheme {scheme_version}; retrain it on this label scheme")


class StancekitWarning(UserWarning):
    """Something the user should know that does not stop the work (the command line shows it as
    ``stancekit: warning: ...``)."""


def format_location(path: str | None, line: int | None, field: str | None) -> str:
    """Return the ``FILE:LINE: FIELD: `` prefix for a message, leaving out unknown parts."""
    parts = ""
    if path is not None:
        parts += path + (f":{line}" if line is not None else "") + ": "
    if field is not None:
        parts += f"{field}: "
    return parts
