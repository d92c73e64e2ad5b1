"""Quotes that leave their speaker implicit get the speaker named earlier in the article."""

from __future__ import annotations

import pytest

from embeddings.ingest.articles import Article
from embeddings.text.chunking import chunk_article, model_input
from embeddings.text.speakers import named_speaker, speakers


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("China is ready, Wang Yi, director of the Office, said on Tuesday.", "Wang Yi"),
        ("Wang Yi said China and Russia bear a responsibility.", "Wang Yi"),
        (
            '"We will act," said Secretary of State Antony Blinken.',
            "Secretary of State Antony Blinken",
        ),
        ("The tax is unfair, according to Maria Rossi.", "Maria Rossi"),
        ('"It is necessary," he said.', None),
        ("The minister said the plan was sound.", None),
        ("I’ve said it before and I will say it again.", None),
    ],
)
def test_named_speaker_finds_the_person_not_the_pronoun_or_the_role(
    text: str, speaker: str | None
) -> None:
    assert named_speaker(text) == speaker


def test_a_pronoun_attributed_quote_inherits_the_last_named_speaker() -> None:
    paragraphs = [
        "Wang Yi, director of the Office, said on Tuesday that China is ready.",
        '"We are ready to join forces with the Russian side," he said.',
        "The weather in Moscow was cold for the season and nobody minded it.",
        '"It is necessary to unlock the potential of this mechanism."',
    ]
    assert speakers(paragraphs) == [None, "Wang Yi", None, "Wang Yi"]


def test_transcript_turns_carry_their_label_onto_unlabelled_paragraphs() -> None:
    paragraphs = [
        "MR. HADLEY: Let me begin by asking about your meeting.",
        "MR. SULLIVAN: Well, first, we had a very nice meal.",
        "You know, this is my third round of conversations with Wang Yi.",
        "Wikinews: Is the video public?",
        "Wikinews: And the software?",
    ]
    assert speakers(paragraphs)[:3] == [None, None, "Mr. Sullivan"]


def test_a_lone_heading_with_a_colon_is_not_a_speaker() -> None:
    assert speakers(["Note: the figures are provisional.", "They were revised in May."]) == [
        None,
        None,
    ]


def test_the_passage_model_input_names_the_implicit_speaker() -> None:
    article = Article(
        id="a",
        title="China and Russia",
        paragraphs=(
            "Wang Yi said on Tuesday that China is ready to work with Russia on security.",
            '"It is necessary to unlock the potential of this mechanism," he said.',
        ),
    )
    first, second = chunk_article(article, lambda text: len(text.split()), 256)
    assert first.speaker is None
    assert second.speaker == "Wang Yi"
    assert model_input(article.title, second.text, second.speaker) == (
        'China and Russia\nWang Yi: "It is necessary to unlock the potential of this '
        'mechanism," he said.'
    )
