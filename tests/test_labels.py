import numpy as np
import pytest

from dedup.labels import label_passage
from dedup.result import Passage
from dedup.sections import decide, label_passages, merge_sections


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Interview between Time.news Editor and Defense Expert Dr. Emily Tran", "interview"),
        ("Editor: Good morning, Dr. Tran! Thank you for joining us today.", "interview"),
        ("Dr. Tran: Good morning! Absolutely.", "interview"),
        ("Q: What happens next?", "interview"),
        ("You may also like", "boilerplate"),
        ("Leave a Comment", "boilerplate"),
        ("Sun Bulletin — All rights reserved.", "boilerplate"),
        ("(Sources: AFP; Michael Martian and Humeyra Pamuk, Reuters; Matthew Luxmoore, WSJ)", "attribution"),
        ("(Reporting by Pieter Jansen; Editing by Mark Hill)", "attribution"),
        ("Jin-Woo Shin niceshin@donga.com", "byline"),
        ("by time news", "byline"),
        ("TDT, Anna Price", "byline"),
        ("Blinken speaks during a news conference in Washington. Alex Wong/Getty Images/AFP", "caption"),
        ("Dockworkers gather outside the gates. Photo: John Smith/AFP", "caption"),
        ("Sources close to the talks said a deal was near.", None),
        ("The United States expects North Korean soldiers to join the fighting.", None),
        ("WORLD", None),
    ],
)
def test_each_label_kind(text, label):
    assert label_passage(text) == label


def test_generic_speaker_names_count_once_an_interview_is_under_way():
    texts = ["Editor: Welcome.", "Maria Keller: Thank you.", "Editor: Why now?", "Maria Keller: Wages."]
    assert label_passages(texts) == ["interview"] * 4
    assert label_passages(["Maria Keller: Thank you."]) == [None]


def _passages(text, specs, in_cluster=True, verbatim=None):
    """Passages of ``text`` with the verdict of :func:`decide` on the given support and labels."""
    spans, cursor = [], 0
    for piece, _, _ in specs:
        start = text.index(piece, cursor)
        spans.append((start, start + len(piece)))
        cursor = start + len(piece)
    support = np.array([s[1] for s in specs])
    match = np.where(support > 0, 0.9, 0.1)
    added, score, labels = decide([s[2] for s in specs], support, match, in_cluster, verbatim=verbatim)
    return [
        Passage(text, start, end, bool(a), float(sc), label, int(su), float(m))
        for (start, end), a, sc, label, su, m in zip(spans, added, score, labels, support, match, strict=True)
    ]


def test_sections_merge_runs_split_by_kind_and_rank_by_score():
    specs = [
        ("Wire paragraph one.", 2, None),
        ("Interview between Editor and Dr. X", 0, "interview"),
        ("Editor: A question about the story?", 1, "interview"),
        ("An answer continuing without a speaker tag.", 0, None),
        ("Dr. X: Another answer with many words in it to make the section long enough to rank.", 0, "interview"),
        ("You may also like", 0, "boilerplate"),
        ("Leave a Comment", 0, "boilerplate"),
    ]
    text = "\n".join(s[0] for s in specs)
    passages = _passages(text, specs)
    assert [p.added for p in passages] == [False, True, True, True, True, True, True]
    sections = merge_sections(text, passages)
    assert [s.label for s in sections] == ["interview", "boilerplate"]
    interview = sections[0]
    assert interview.text.startswith("Interview between") and interview.text.endswith("rank.")
    assert sections[1].text == "You may also like\nLeave a Comment"
    assert sections[0].score > sections[1].score


def test_articles_outside_clusters_have_no_added_passages():
    text = "Editor: hello there\nLeave a Comment"
    passages = _passages(text, [("Editor: hello there", 0, "interview"), ("Leave a Comment", 0, "boilerplate")],
                         in_cluster=False)
    assert not any(p.added for p in passages)
    assert merge_sections(text, passages) == []


def test_labelled_passage_carried_verbatim_by_another_member_is_not_added():
    text = "(Reporting by A; Editing by B)"
    passages = _passages(text, [(text, 1, "attribution")], verbatim=[True])
    assert not passages[0].added
