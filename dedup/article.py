"""The unit of work: one article, validated at the edge.

Everything downstream (normalise, shingle, sign, passages) reads an
:class:`Article`; nothing downstream changes it. ``text`` is kept exactly as
loaded so that passage offsets (``text[start:end]``) point into it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Article", "Skipped", "parse_published"]


def parse_published(value: Any) -> _dt.datetime | None:
    """Parse a publication time: ISO 8601 (``2024-10-31``, ``2024-10-31T14:05:00Z``),
    or the Reuters-21578 form ``26-FEB-1987 15:01:01.79``.

    Naive times are taken as UTC so that every value compares with every other.
    Raises :class:`ValueError` with the offending value when it cannot be read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        parsed = value
    elif isinstance(value, _dt.date):
        parsed = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        found: _dt.datetime | None = None
        try:
            found = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for fmt in ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%d-%b-%Y"):
                try:
                    found = _dt.datetime.strptime(text.title(), fmt)
                    break
                except ValueError:
                    continue
        if found is None:
            raise ValueError(f"published: {value!r} is not an ISO 8601 date or time")
        parsed = found
    else:
        raise ValueError(f"published: expected an ISO 8601 string, got {type(value).__name__}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed


@dataclass(frozen=True, slots=True)
class Article:
    """One news article.

    Parameters
    ----------
    id : str
        Unique within a scan: the path relative to the scanned folder, or the
        ``id`` field of a JSON record.
    text : str
        The article body exactly as loaded (offsets in the report index into it).
    title, outlet, url : str or None
        Optional metadata, kept and reported.
    published : datetime or None
        Publication time (timezone-aware, UTC when the source gave none).
    """

    id: str
    text: str
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: _dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str):
            raise TypeError(f"Article id must be str, got {type(self.id).__name__}")
        if not self.id.strip():
            raise ValueError("Article id must not be empty")
        if not isinstance(self.text, str):
            raise TypeError(f"Article {self.id!r}: text must be str, got {type(self.text).__name__}")
        for name in ("title", "outlet", "url"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"Article {self.id!r}: {name} must be str or None")
        if self.published is not None:
            object.__setattr__(self, "published", parse_published(self.published))

    @classmethod
    def from_record(cls, record: dict[str, Any], default_id: str | None = None) -> Article:
        """Build an article from a JSON object with at least ``text``.

        ``id`` falls back to ``default_id``; ``date`` is accepted for ``published``.
        Raises ``ValueError`` naming the problem (missing text, no id, ...). An
        unreadable date leaves the article undated, the reason in ``extra["date_problem"]``.
        """
        if not isinstance(record, dict):
            raise ValueError(f"expected a JSON object, got {type(record).__name__}")
        text = record.get("text")
        if text is None:
            raise ValueError("missing 'text' field")
        if not isinstance(text, str):
            raise ValueError(f"'text' must be a string, got {type(text).__name__}")
        raw_id = record.get("id", default_id)
        if raw_id is None or str(raw_id).strip() == "":
            raise ValueError("missing 'id' field")
        raw_date = record.get("published", record.get("date"))
        try:
            published = parse_published(raw_date)
            date_problem = None
        except ValueError as problem:
            # A feed's broken date must not cost the article: keep it undated, say why.
            published, date_problem = None, str(problem)
        known = {"id", "text", "title", "outlet", "url", "published", "date"}

        def _opt(name: str) -> str | None:
            value = record.get(name)
            return None if value is None else str(value)

        return cls(
            id=str(raw_id),
            text=text,
            title=_opt("title"),
            outlet=_opt("outlet"),
            url=_opt("url"),
            published=published,
            extra={k: v for k, v in record.items() if k not in known}
            | ({"date_problem": date_problem} if date_problem else {}),
        )


@dataclass(frozen=True)
class Skipped:
    """An input that could not be used, and why. ``line`` is 1-based for JSONL."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"
