import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.normalize import normalize, token_text
from dedup.params import Params
from dedup.passages import ClusterPassages, PassageAligner, segment
from dedup.shingle import ShingleHasher
from dedup.story import Idf, term_counts

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


def _idf(texts):
    return Idf.fit(_counts(texts), Params())


def _counts(texts):
    return term_counts([token_text(normalize(t)) for t in texts])


def _cluster(texts, idf):
    spans = [segment(t) for t in texts]
    pieces = [t[s:e] for t, sp_ in zip(texts, spans, strict=True) for s, e in sp_]
    batch = ShingleHasher(3).transform(pieces)
    owner = np.repeat(np.arange(len(pieces)), np.diff(batch.offsets))
    member = np.repeat(np.arange(len(texts)), [len(s) for s in spans])
    docs = ShingleHasher(3).transform(texts).sets()
    return ClusterPassages(member, batch.hashes, owner, idf.transform(_counts(pieces)), docs)


def test_alignment_counts_verbatim_and_rewritten_support():
    added = "A completely different paragraph about gardening tulips, compost and spring rain in the valley."
    rewrite = ("Havenmark dockworkers walked out on Monday, halting every container terminal, "
               "the Havenmark union said in a statement about wages and automation.")
    texts = [WIRE + "\n\n" + added, WIRE, rewrite]
    alignment = PassageAligner().align(_cluster(texts, _idf(texts)))
    support_a = alignment[0].support
    assert support_a[-1] == 0  # the added paragraph: nobody carries it
    assert (support_a[:-1] >= 1).all()  # the wire paragraphs: carried verbatim by b
    assert alignment[0].verbatim[:-1].all() and not alignment[0].verbatim[-1]
    # the rewrite is carried by the wire's first paragraph in other words, not verbatim
    assert alignment[2].support[0] >= 1 and not alignment[2].verbatim[0]
    # each supported passage names the member with the best evidence for it
    assert (alignment[0].matched[:-1] == 1).all() and alignment[0].matched[-1] == -1


def test_alignment_with_more_members_than_the_reference_limit():
    texts = [WIRE] * 5 + [WIRE + "\n\nAn extra line that nobody else has at all, about tulips."]
    alignment = PassageAligner(max_members=3).align(_cluster(texts, _idf(texts)))
    assert len(alignment) == 6
    assert alignment[-1].support[-1] == 0 and (alignment[-1].support[:-1] >= 2).all()


def test_hard_wrapped_text_keeps_its_paragraphs_whole():
    text = (
        "Showers continued throughout the week in\n"
        "the Bahia cocoa zone, alleviating the drought since early\n"
        "January and improving prospects for the coming temporao,\n"
        "Comissaria Smith said in its weekly review.\n"
        "    The dry period means the temporao will be late this\n"
        "year, and arrivals for the week were 155,221 bags of\n"
        "60 kilos, traders said.\n"
    )
    pieces = [text[s:e] for s, e in segment(text)]
    assert len(pieces) == 2
    assert pieces[0].startswith("Showers") and pieces[0].endswith("weekly review.")
    assert pieces[1].startswith("The dry period") and pieces[1].endswith("traders said.")


def test_one_line_paragraphs_and_headings_are_not_taken_for_wrapping():
    text = "A headline without a stop\nFirst paragraph ends here.\nSecond one too.\nInterview with Dr. X\nQ: Why?\n"
    assert len(segment(text)) == 5


def test_huge_clusters_get_verbatim_support_only(monkeypatch):
    import dedup.passages as passages

    texts = [WIRE + "\n\nA paragraph nobody else has, about tulips and rain.", WIRE]
    full = PassageAligner().align(_cluster(texts, _idf(texts)))
    monkeypatch.setattr(passages, "MAX_PASSAGE_PAIRS", 10)
    bounded = PassageAligner().align(_cluster(texts, _idf(texts)))
    # verbatim support is unchanged; only the rewritten (cosine) evidence is skipped
    assert (bounded[0].verbatim == full[0].verbatim).all() and (bounded[0].support[:-1] >= 1).all()
    assert bounded[0].support[-1] == 0
