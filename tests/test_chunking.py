"""Paragraphs become passages that serve retrieval."""

from __future__ import annotations

import pytest

from embeddings.ingest.articles import Article
from embeddings.models.tiny import TinyEncoder
from embeddings.text.chunking import MIN_WORDS, TokenCounter, _split_words, chunk_article


def words(text: str) -> int:
    """A stand-in tokenizer: one token per word (chunking logic, not the model, is tested)."""
    return len(text.split())


def article(*paragraphs: str, title: str = "T") -> Article:
    return Article(id="a", title=title, paragraphs=paragraphs)


LONG = "This paragraph has plenty of words to stand on its own as a passage."


def test_short_paragraphs_join_the_next_one_and_a_short_tail_joins_the_previous() -> None:
    passages = chunk_article(article("Yeah.", LONG, LONG + " Again.", "Sincerely,"), words, 256)
    assert [p.text for p in passages] == [f"Yeah.\n{LONG}", f"{LONG} Again.\nSincerely,"]
    assert [p.position for p in passages] == [0, 1]


def test_a_run_of_short_paragraphs_becomes_one_passage() -> None:
    short = ["Q Where were you?", "A At home.", "Q All day?", "A Yes, all day long."]
    [passage] = chunk_article(article(*short), words, 256)
    assert passage.text == "\n".join(short)
    assert len(passage.text.split()) >= MIN_WORDS


def test_paragraphs_without_words_are_dropped() -> None:
    assert [p.text for p in chunk_article(article("###", "* * *", LONG, "—"), words, 256)] == [LONG]


def test_long_paragraphs_split_on_sentences_into_balanced_pieces_that_fit() -> None:
    sentences = [f"Sentence number {i} says something about the budget." for i in range(30)]
    paragraph = " ".join(sentences)
    passages = chunk_article(article(paragraph, title="Budget talks"), words, 100)
    assert len(passages) == 3
    assert " ".join(p.text for p in passages) == paragraph
    assert all(words("Budget talks\n" + p.text) <= 100 for p in passages)
    sizes = [words(p.text) for p in passages]
    assert max(sizes) - min(sizes) <= 16  # balanced, no stub at the end


def test_a_single_sentence_longer_than_the_window_is_cut_on_words() -> None:
    passages = chunk_article(article("word " * 250), words, 100)
    assert all(words("T\n" + p.text) <= 100 for p in passages)
    assert sum(words(p.text) for p in passages) == 250


def test_exact_duplicate_passages_inside_an_article_are_kept_once() -> None:
    other = "Another paragraph with quite enough words in it."
    passages = chunk_article(article(LONG, other, LONG), words, 256)
    assert [p.text for p in passages] == [LONG, "Another paragraph with quite enough words in it."]


def test_passages_carry_sentence_spans() -> None:
    [passage] = chunk_article(
        article("One sentence here. And a second one follows it."), words, 256
    )
    assert [passage.text[a:b] for a, b in passage.sentences] == [
        "One sentence here.",
        "And a second one follows it.",
    ]


def _split_words_quadratic(sentence: str, count_tokens: TokenCounter, budget: int) -> list[str]:
    """The cut before it was made linear (it re-measured the whole rest for every piece):
    the reference its pieces must still match."""
    words_ = sentence.split()
    pieces: list[str] = []
    start = 0
    while start < len(words_):
        end = len(words_)
        while end > start + 1 and count_tokens(" ".join(words_[start:end])) > budget:
            end = start + max(1, int((end - start) * 0.8))
        pieces.append(" ".join(words_[start:end]))
        start = end
    return pieces


@pytest.mark.parametrize("budget", [1, 2, 7, 50, 126])
def test_cutting_on_words_gives_the_same_pieces_as_before(budget: int) -> None:
    counters = [words, TinyEncoder().count_tokens]
    texts = [
        "word " * 250,
        " ".join(f"w{i} — long-hyphenated-{i} x" for i in range(400)),
        LONG * 40,
        "single",
        "Supercalifragilistic " * 3,
    ]
    for count in counters:
        for text in texts:
            assert _split_words(text, count, budget) == _split_words_quadratic(text, count, budget)
