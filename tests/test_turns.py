"""Conversation structure: turns, who asks, which question each answer answers, and what an
answer turn is indexed with."""

from __future__ import annotations

from embeddings.ingest.articles import Article
from embeddings.text.chunking import chunk_article
from embeddings.text.turns import label_of, question_context, strip_label, turns

BRIEFING = (
    "MODERATOR: Thanks for joining. Our speaker is a senior administration official.",
    "SENIOR ADMINISTRATION OFFICIAL: Thanks. The two sides met for eight hours in Vienna.",
    "MODERATOR: We will open it up to questions now.",
    "Q Hi, thanks for doing this. Did the issue of the balloon come up at all?",
    "SENIOR ADMINISTRATION OFFICIAL: Both sides recognized the incident led to a pause.",
    "We are now seeking to move beyond it and restore normal channels of communication.",
    "Q Will the two presidents speak soon?",
    "SENIOR ADMINISTRATION OFFICIAL: President Biden stands ready to speak to President Xi.",
)


def words(text: str) -> int:
    return len(text.split())


def test_labels_include_the_bare_q_of_white_house_transcripts() -> None:
    assert label_of("Q Did it come up?") == "Q"
    assert label_of("MR. SULLIVAN: Yes.") == "MR. SULLIVAN"
    assert label_of("Wikinews: Why ants?") == "Wikinews"
    assert label_of("Quiet streets filled the city.") is None
    assert strip_label("MR. SULLIVAN: Yes, we did.") == "Yes, we did."


def test_turns_know_who_asks_and_which_question_each_answer_answers() -> None:
    found = turns(BRIEFING)
    assert [(t.first, t.last, t.label, t.asks, t.answers) for t in found] == [
        (0, 1, "MODERATOR", False, None),
        (1, 2, "SENIOR ADMINISTRATION OFFICIAL", False, None),
        (2, 3, "MODERATOR", False, None),
        (3, 4, "Q", True, None),
        (4, 6, "SENIOR ADMINISTRATION OFFICIAL", False, 3),  # two paragraphs: one answer
        (6, 7, "Q", True, None),
        (7, 8, "SENIOR ADMINISTRATION OFFICIAL", False, 5),
    ]
    assert found[4].speaker == "Senior Administration Official"


def test_an_interviewer_is_the_speaker_whose_turns_ask() -> None:
    interview = ("Wikinews: Why ants?", "Nick Bos: They fight parasites.",
                 "Wikinews: And bees?", "Nick Bos: Bees too, in their own way.")  # fmt: skip
    assert [(t.asks, t.answers) for t in turns(interview)] == [
        (True, None), (False, 0), (True, None), (False, 2)
    ]  # fmt: skip


def test_prose_with_a_stray_label_is_no_conversation() -> None:
    assert turns(("Update: the road is open.", "Traffic moved again by noon.", "Note: x.")) == []


def test_question_context_keeps_what_was_asked_and_drops_pleasantries() -> None:
    asked = question_context(BRIEFING[3], BRIEFING[4])
    assert asked == "Did the issue of the balloon come up at all?"


def test_an_answer_turn_is_one_passage_led_by_its_question_and_the_question_is_none() -> None:
    passages = chunk_article(Article("b", "Press call", BRIEFING), words, 256)
    texts = [p.text for p in passages]
    assert not any(t.startswith("Q ") for t in texts)  # question turns fold into answers
    [answer] = [p for p in passages if "pause" in p.text]
    question = "Did the issue of the balloon come up at all?"
    assert answer.text == f"{question}\n{BRIEFING[4]}\n{BRIEFING[5]}"
    # Its sentences are the answer's only: the question is context, never the marked sentence.
    assert answer.sentences[0][0] == len(question) + 1
    assert all(question not in answer.text[a:b] for a, b in answer.sentences)
