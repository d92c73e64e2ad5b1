"""Sentence boundaries that keep names, titles, abbreviations and times whole."""

from __future__ import annotations

import pytest

from embeddings.text.sentences import sentence_spans, split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "President Donald J. Trump met Mr. Xi in the U.S. capital. They talked.",
            ["President Donald J. Trump met Mr. Xi in the U.S. capital.", "They talked."],
        ),
        ("He said “We are ready.” Then he left! Really? Yes.",
         ["He said “We are ready.”", "Then he left!", "Really?", "Yes."]),
        ("It was 5 p.m. on Monday. Fine.", ["It was 5 p.m. on Monday.", "Fine."]),
        ("Growth was 3.5 percent. Wow.", ["Growth was 3.5 percent.", "Wow."]),
        ("Q Thank you.\nTHE PRESIDENT: Yeah", ["Q Thank you.", "THE PRESIDENT: Yeah"]),
        ("中国准备好了。俄罗斯也是！", ["中国准备好了。", "俄罗斯也是！"]),
        ("He said 'no.' and left.", ["He said 'no.' and left."]),
        ("", []),
    ],
)  # fmt: skip
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_spans_point_into_the_text_without_surrounding_space() -> None:
    text = "  First one.   Second one.  "
    assert [text[a:b] for a, b in sentence_spans(text)] == ["First one.", "Second one."]
