import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.passages import PassageAligner, PassageSet, segment
from dedup.shingle import ShingleHasher
from dedup.story import StoryVectorizer

from .helpers import WIRE


def _check_offsets(text, spans):
    last = 0
    for start, end in spans:
        assert last <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        last = end


def test_blank_lines_and_single_newlines_both_separate_paragraphs():
    text = "First para.\n\nSecond para.\nThird para.\r\n  \nFourth."
    spans = segment(text)
    assert [text[s:e] for s, e in spans] == ["First para.", "Second para.", "Third para.", "Fourth."]


def test_long_paragraphs_split_into_sentences_not_at_abbreviations():
    text = ("The U.S. Secretary met Dr. Kim in Washington. " * 8).strip()
    spans = segment(text, max_chars=100)
    pieces = [text[s:e] for s, e in spans]
    assert len(pieces) == 8
    assert all(p == "The U.S. Secretary met Dr. Kim in Washington." for p in pieces)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400), st.integers(20, 700))
def test_offsets_always_point_at_the_passage(text, max_chars):
    _check_offsets(text, segment(text, max_chars))


def _passage_set(text, vectorizer):
    spans = segment(text)
    texts = [text[s:e] for s, e in spans]
    batch = ShingleHasher(3).transform(texts)
    owner = np.repeat(np.arange(len(texts)), np.diff(batch.offsets))
    doc = ShingleHasher(3).transform([text]).sets()[0]
    return PassageSet(spans, batch.hashes, owner, vectorizer.transform(vectorizer.counts(texts)), doc)


def test_alignment_counts_verbatim_and_rewritten_support():
    added = "A completely different paragraph about gardening tulips, compost and spring rain in the valley."
    rewrite = ("Dockworkers at the harbour walked out on Monday, halting the terminals, "
               "the union said in a statement about wages.")
    copy_a = WIRE + "\n\n" + added
    copy_b = WIRE
    copy_c = rewrite
    vectorizer = StoryVectorizer()
    vectorizer.fit(vectorizer.counts([copy_a, copy_b, copy_c]))
    sets = [_passage_set(t, vectorizer) for t in (copy_a, copy_b, copy_c)]
    alignment = PassageAligner().align(sets)
    support_a = alignment[0].support
    assert support_a[-1] == 0  # the added paragraph: nobody carries it
    assert (support_a[:-1] >= 1).all()  # the wire paragraphs: carried verbatim by b
    assert alignment[0].verbatim[:-1].all() and not alignment[0].verbatim[-1]
