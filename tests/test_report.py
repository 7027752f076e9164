import io
import json

from dedup import Scanner, load_articles
from dedup.report import to_csv, to_json, write_json

from .helpers import SAMPLES


def test_streamed_json_is_the_same_document_as_the_whole_one():
    articles, _ = load_articles(SAMPLES)
    result = Scanner().scan(articles)
    stream = io.StringIO()
    write_json(result, stream)
    assert json.loads(stream.getvalue()) == json.loads(to_json(result))


def test_passages_serialise_their_slice_of_the_article():
    articles, _ = load_articles(SAMPLES)
    result = Scanner().scan(articles)
    texts = {a.id: a.text for a in articles}
    for article in result.to_dict()["articles"]:
        for passage in article["passages"]:
            assert texts[article["id"]][passage["start"] : passage["end"]] == passage["text"]


def test_csv_lists_every_pair_once():
    articles, _ = load_articles(SAMPLES)
    result = Scanner().scan(articles)
    assert len(to_csv(result).strip().splitlines()) == len(result.pairs) + 1
