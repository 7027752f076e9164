"""From aligned passages to ranked, labelled added sections.

A passage is *added* when no other cluster member carries it, when its form
marks it as the outlet's own (an interview turn restating the story, a
caption, a byline) and no member carries it verbatim, or when it recurs in
the outlet's other articles (boilerplate). Its score combines two independent kinds of evidence
as a noisy-or,

.. math:: s = 1 - (1 - \\nu)(1 - \\lambda),

with novelty :math:`\\nu = 1 - \\text{match}` (how little of it any other member
carries) and :math:`\\lambda` the strength of its form (:data:`~dedup.labels.LABEL_EVIDENCE`).

Neighbouring added passages of one kind merge into a section; unlabelled
passages between interview turns belong to the interview. A section scores the
length-weighted mean of its passages times :math:`w / (w + 20)` for its
:math:`w` words, so a long generated interview outranks a stray short line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .labels import LABEL_EVIDENCE, label_passage
from .result import Passage, Section

__all__ = ["decide", "label_passages", "merge_sections"]

_WORDS_HALF = 20.0
_MIN_UNLABELLED_WORDS = 3


def label_passages(texts: Sequence[str]) -> list[str | None]:
    """Labels by form; once two turns are seen, generic 'Name: ...' openings count as turns too."""
    labels = [label_passage(t) for t in texts]
    turns = [i for i, label in enumerate(labels) if label == "interview"]
    if len(turns) >= 2:
        for i in range(turns[0], len(texts)):
            if labels[i] is None:
                labels[i] = label_passage(texts[i], generic_turn=True)
    return labels


def decide(
    labels: Sequence[str | None],
    support: np.ndarray,
    match: np.ndarray,
    in_cluster: bool,
    recurring: np.ndarray | None = None,
    verbatim: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Whether each passage of one article is added, its score and its final label.

    A passage recurring in the outlet's other stories is ``boilerplate``. A
    labelled passage (caption, byline, interview turn...) is added unless another
    member carries it *verbatim*: its words may echo the story, its form does not.
    """
    n = len(labels)
    recurring = np.zeros(n, bool) if recurring is None else np.asarray(recurring, dtype=bool)
    verbatim = np.zeros(n, bool) if verbatim is None else np.asarray(verbatim, dtype=bool)
    final = [label or ("boilerplate" if recurs else None) for label, recurs in zip(labels, recurring, strict=True)]
    evidence = np.array([LABEL_EVIDENCE.get(label or "", 0.0) for label in final], dtype=float)
    novelty = 1.0 - np.clip(np.asarray(match, dtype=float), 0.0, 1.0)
    score = 1.0 - (1.0 - novelty) * (1.0 - evidence)
    if not in_cluster:
        return np.zeros(n, bool), score, final
    labelled = np.array([label is not None for label in final], dtype=bool)
    added = (np.asarray(support) == 0) | recurring | (labelled & ~verbatim)
    return added, score, final


def merge_sections(text: str, passages: Sequence[Passage]) -> list[Section]:
    """Maximal runs of added passages of one kind, sorted by score, highest first."""
    runs: list[list[Passage]] = []
    kind: str | None = None  # the run's kind (:func:`_run_kind`): its first label, as joining keeps it
    for passage in passages:
        if not passage.added:
            runs.append([])
            continue
        current = runs[-1] if runs else []
        joins = bool(current) and (
            passage.label == kind or (kind == "interview" and passage.label is None)
        )
        if joins:
            current.append(passage)
        else:
            runs.append([passage])
            kind = passage.label
    sections = [_section(text, piece) for run in runs if run for piece in _split_tail(run)]
    # a stray line of a few words says nothing unless its form names what it is (a byline, a credit)
    sections = [s for s in sections if s.label is not None or len(s.text.split()) > _MIN_UNLABELLED_WORDS]
    return sorted(sections, key=lambda s: (-s.score, s.start))


def _run_kind(run: list[Passage]) -> str | None:
    labels = {p.label for p in run}
    if "interview" in labels:
        return "interview"
    return run[0].label if run else None


def _split_tail(run: list[Passage]) -> list[list[Passage]]:
    """Unlabelled passages after an interview's last turn are not part of it."""
    if _run_kind(run) != "interview":
        return [run]
    last = max(i for i, p in enumerate(run) if p.label == "interview")
    return [run[: last + 1], run[last + 1 :]] if last + 1 < len(run) else [run]


def _section(text: str, run: list[Passage]) -> Section:
    words = np.array([len(p.text.split()) for p in run], dtype=float)
    scores = np.array([p.score for p in run])
    total = float(words.sum())
    mean = float((scores * words).sum() / total) if total else float(scores.mean())
    start, end = run[0].start, run[-1].end
    return Section(
        text=text[start:end],
        start=start,
        end=end,
        score=mean * total / (total + _WORDS_HALF),
        label=_run_kind(run),
    )
