"""Every knob of a scan, defined and validated once.

:class:`Params` is what :class:`~dedup.pipeline.Scanner`, the CLI, the README
table and the benchmarks read their defaults from. It is a frozen value:
changing a setting means making a new one (``params.replace(derived=0.3)``),
so nothing built from an old value can go stale. An index stores it
(:meth:`Params.to_dict`) and refuses to open with different matching
parameters (:meth:`Params.matching`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Params"]


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class Params:
    """The parameters of a scan (defaults are the measured choices; see README)."""

    shingle_size: int = field(default=3, metadata=_doc("words per shingle"))
    num_perm: int = field(default=128, metadata=_doc("MinHash permutations"))
    seed: int = field(default=1, metadata=_doc("MinHash seed (datasketch-compatible)"))
    lsh_threshold: float = field(default=0.2, metadata=_doc("Jaccard where LSH candidates start"))
    max_bucket: int = field(
        default=1000, metadata=_doc("LSH buckets with more articles pair their first article with each other one only")
    )
    max_exact_group: int = field(
        default=50, metadata=_doc("exact-duplicate groups larger than this list pairs to their first member only")
    )
    winnow_k: int = field(default=5, metadata=_doc("words per k-gram of passage fingerprints (winnowing)"))
    winnow_window: int = field(
        default=10, metadata=_doc("winnowing window: a shared run of k + window - 1 words shares a fingerprint")
    )
    winnow_min_shared: int = field(default=2, metadata=_doc("passage fingerprints a pair must share to be a candidate"))
    winnow_max_df: int = field(
        default=50, metadata=_doc("passage fingerprints in more copy families than this are clutter (dropped)")
    )
    winnow_max_bucket: int = field(
        default=500, metadata=_doc("passage fingerprints in more articles than this are templates (skipped)")
    )
    min_run_words: int = field(
        default=25, metadata=_doc("words of one shared run that show copying whatever the figures or dates")
    )
    near_duplicate: float = field(default=0.7, metadata=_doc("Jaccard for `near_duplicate`"))
    derived: float = field(default=0.2, metadata=_doc("containment, either direction, for `derived`"))
    min_shared: int = field(default=10, metadata=_doc("shingles a non-exact verbatim pair must share"))
    min_figures: int = field(default=3, metadata=_doc("figures both texts need before the figures check applies"))
    min_figure_share: float = field(
        default=0.5, metadata=_doc("share of the smaller figure set the other must hold (else a template)")
    )
    same_story: float | None = field(
        default=0.3, metadata=_doc("TF-IDF cosine for `same_story`; None turns the tier off")
    )
    story_neighbours: int = field(default=10, metadata=_doc("neighbours examined per article (same-story tier)"))
    story_min_terms: int = field(default=3, metadata=_doc("weighted terms a same-story pair must share"))
    window_days: float | None = field(
        default=2.0, metadata=_doc("dated articles further apart are never same-story candidates; None: no window")
    )
    story_window: int = field(
        default=400, metadata=_doc("tokens per window of long articles (same-story search compares windows too)")
    )
    n_features: int = field(default=1 << 20, metadata=_doc("hash space of TF-IDF terms"))
    max_df: float = field(default=0.01, metadata=_doc("terms in more than this share of articles get no weight"))
    max_df_floor: int = field(default=50, metadata=_doc("... and in more than this many articles"))
    full_idf_docs: int = field(default=1000, metadata=_doc("scans of this many articles use the full IDF"))
    min_density: float = field(
        default=0.5, metadata=_doc("share of linked member pairs two clusters need to merge (anti-chaining)")
    )
    story_resolution: float = field(
        default=0.05,
        metadata=_doc("CPM resolution of stories: a story's families must link with this weighted density"),
    )
    passages: bool = field(default=True, metadata=_doc("run passage attribution (added sections, wire core)"))
    passage_containment: float = field(default=0.5, metadata=_doc("passage shingle containment for verbatim support"))
    passage_cosine: float = field(default=0.2, metadata=_doc("passage TF-IDF cosine for rewritten support"))
    passage_min_terms: int = field(default=5, metadata=_doc("weighted terms a passage needs before its cosine counts"))
    passage_members: int = field(default=50, metadata=_doc("members each passage is aligned with (large clusters)"))
    max_passage_chars: int = field(default=600, metadata=_doc("lines longer than this are split into sentences"))
    batch_size: int = field(default=2000, metadata=_doc("articles fingerprinted at once (memory, not results)"))
    workers: int = field(
        default=0, metadata=_doc("processes for fingerprints and passages (0: one per idle core; not results)")
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "passages":
                if not isinstance(value, bool):
                    raise TypeError(f"passages must be a bool, got {value!r}")
                continue
            if value is None and f.name in _OPTIONAL:
                continue
            if f.name in _INTS:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise TypeError(f"{f.name} must be an int, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise TypeError(f"{f.name} must be a finite number, got {value!r}")
            low, high, what = _RANGES[f.name]
            if not low <= value <= high:
                raise ValueError(f"{f.name} must be {what}, got {value!r}")
        if self.same_story is not None and not 0.0 < self.same_story < 1.0:
            raise ValueError(f"same_story must be in (0, 1) or None, got {self.same_story!r}")
        if not 0.0 < self.lsh_threshold < 1.0:
            raise ValueError(f"lsh_threshold must be in (0, 1), got {self.lsh_threshold!r}")

    def replace(self, **changes: Any) -> Params:
        """A copy with some parameters changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Params:
        """Parameters from :meth:`to_dict` output; unknown names are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown parameters: {', '.join(unknown)}")
        return cls(**values)

    def matching(self) -> dict[str, Any]:
        """The parameters stored prints and links depend on (``batch_size`` and the
        attribution settings do not change them)."""
        return {k: v for k, v in self.to_dict().items() if k not in _NOT_MATCHING}

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """``(name, default, meaning)`` of every parameter, in order (README table, CLI help)."""
        return [(f.name, f.default, f.metadata.get("doc", "")) for f in fields(cls)]


    @classmethod
    def markdown(cls) -> str:
        """The README's parameter table (``python -c "from dedup import Params; print(Params.markdown())"``)."""
        rows = ["| parameter | default | CLI | meaning |", "|---|---|---|---|"]
        for name, default, doc in cls.describe():
            shown = f"{default:,}" if type(default) is int and default >= 10_000 else default
            rows.append(f"| `{name}` | {shown} | {_CLI.get(name, '')} | {doc} |")
        return "\n".join(rows) + "\n"


_CLI = {
    name: f"`--{name.replace('_', '-')}`"
    for name in ("shingle_size", "num_perm", "seed", "lsh_threshold", "near_duplicate", "derived", "min_shared",
                 "min_density", "workers")
} | {
    "same_story": "`--same-story`, `--no-same-story`",
    "window_days": "`--window-days`, `--no-window`",
    "passages": "`--no-passages`",
}
_OPTIONAL = {"same_story", "window_days"}
_INTS = {
    "shingle_size", "num_perm", "seed", "max_bucket", "max_exact_group", "min_shared", "min_figures", "winnow_k",
    "winnow_window", "winnow_min_shared", "winnow_max_df", "winnow_max_bucket", "min_run_words",
    "story_neighbours", "story_min_terms", "story_window", "n_features", "max_df_floor", "full_idf_docs",
    "passage_min_terms", "passage_members", "max_passage_chars", "batch_size", "workers",
}
_UNIT = (0.0, 1.0, "in [0, 1]")
_POSITIVE = (1, 1 << 62, "a positive int")
_RANGES: dict[str, tuple[float, float, str]] = {
    "shingle_size": (1, 64, "an int in 1..64"),
    "num_perm": (1, 4096, "an int in 1..4096"),
    "seed": (0, (1 << 32) - 1, "an int in 0..2**32-1"),
    "lsh_threshold": _UNIT,
    "max_bucket": (2, 1 << 62, "at least 2"),
    "max_exact_group": (2, 1 << 62, "at least 2"),
    "near_duplicate": (1e-9, 1.0, "in (0, 1]"),
    "derived": (1e-9, 1.0, "in (0, 1]"),
    "min_shared": _POSITIVE,
    "min_figures": _POSITIVE,
    "min_figure_share": _UNIT,
    "same_story": _UNIT,
    "story_neighbours": _POSITIVE,
    "story_min_terms": (0, 1 << 62, "a non-negative int"),
    "window_days": (0.0, math.inf, "non-negative days or None"),
    "n_features": (16, 1 << 31, "an int in 16..2**31"),
    "winnow_k": (1, 64, "an int in 1..64"),
    "winnow_window": (1, 127, "an int in 1..127"),
    "winnow_min_shared": _POSITIVE,
    "winnow_max_df": _POSITIVE,
    "winnow_max_bucket": (2, 1 << 62, "at least 2"),
    "min_run_words": _POSITIVE,
    "story_window": (20, 1 << 62, "at least 20"),
    "max_df": (1e-9, 1.0, "in (0, 1]"),
    "max_df_floor": (0, 1 << 62, "a non-negative int"),
    "full_idf_docs": (2, 1 << 62, "at least 2"),
    "min_density": (1e-9, 1.0, "in (0, 1]"),
    "story_resolution": (1e-9, 1.0, "in (0, 1]"),
    "passage_containment": _UNIT,
    "passage_cosine": _UNIT,
    "passage_min_terms": (0, 1 << 62, "a non-negative int"),
    "passage_members": _POSITIVE,
    "max_passage_chars": (20, 1 << 62, "at least 20"),
    "batch_size": _POSITIVE,
    "workers": (0, 4096, "an int in 0..4096"),
}
_NOT_MATCHING = {
    "batch_size", "workers", "passages", "passage_containment", "passage_cosine", "passage_min_terms",
    "passage_members", "max_passage_chars",
}
