"""Dates of records: parse the common written forms, and name the period (day, week, ...) a date falls in.

Accepted: ISO 8601 dates and date-times (``2025-03-14``, ``2025-03-14T10:30:00Z``,
``2025-03-14 10:30+03:30``, ``20250314T103000Z``, ISO weeks such as ``2025-W11-5``), an
ISO date-time followed by ``UTC`` or ``GMT``, RFC 2822 dates as in RSS and e-mail
(``Fri, 14 Mar 2025 10:30:00 +0000``), written-out dates (``14 March 2025``,
``March 14, 2025``, ``Mar 14, 2025``), ``2025/03/14``, and date or datetime objects (Parquet
timestamps). Times with a zone are converted to UTC before their period is taken; times
without one are taken as written. Numbers and day/month orders such as ``03/04/2025`` are
refused: they are ambiguous.
"""

from __future__ import annotations

import email.utils
import re
from datetime import date, datetime, timezone

EVERY = ("day", "week", "month", "quarter", "year")
"""The period lengths a profile can group by."""
_ZONE_NAME = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)
_WRITTEN_FORMS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%Y/%m/%d")
# the standard library covers these forms exactly; dateutil's parser would also accept
# fragments such as "5" or "May" as dates of the current month, which hides bad data


def parse_date(value: object) -> datetime:
    """The date-time that ``value`` stands for (UTC when it has a zone); ValueError naming the value if none."""
    if isinstance(value, datetime):
        return _in_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise ValueError(f"expected a date as text, got {type(value).__name__} {value!r}")
    text = value.strip()
    try:
        return _in_utc(datetime.fromisoformat(_ZONE_NAME.sub("+00:00", text) if text[:4].isdigit() else text))
    except ValueError:
        pass
    try:
        return _in_utc(email.utils.parsedate_to_datetime(text))
    except (ValueError, TypeError, IndexError):
        pass
    for form in _WRITTEN_FORMS:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    raise ValueError(f"cannot read {value!r} as a date (use ISO 8601, such as 2025-03-14 or 2025-03-14T10:30:00Z)")


def _in_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def period_label(moment: datetime, every: str) -> str:
    """The name of the period of length ``every`` that ``moment`` falls in; names sort in time order.

    day ``2025-03-14``, week ``2025-W11`` (ISO weeks, from Monday), month ``2025-03``,
    quarter ``2025-Q1``, year ``2025``.
    """
    if every == "day":
        return moment.strftime("%Y-%m-%d")
    if every == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if every == "month":
        return moment.strftime("%Y-%m")
    if every == "quarter":
        return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
    if every == "year":
        return str(moment.year)
    raise ValueError(f"unknown period {every!r}; expected one of {', '.join(EVERY)}")
