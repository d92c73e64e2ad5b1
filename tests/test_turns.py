"""Conversation structure: turns, who asks, which question each answer answers, and what an
answer turn is indexed with."""

from __future__ import annotations

from embeddings.ingest.articles import Article
from embeddings.ranking.speaker_intent import asked_speaker, passage_speaker, speaker_match
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


def test_a_reporters_closing_words_are_not_the_officials() -> None:
    """A reporter's turn that asks nothing is no answer and stands as its own passage: it is
    the reporter's, not that of the official who spoke last. Crosstalk, short lines only, is
    no passage at all."""
    briefing = (
        "MS. JEAN-PIERRE: Good afternoon, everyone. We have a lot to cover today, so let me start.",
        "Q Will the House pass the supplemental before the deadline next week?",
        "MS. JEAN-PIERRE: We believe it will, and we have said so for weeks now to anyone asking.",
        "Q Does the President plan to travel to the border this week or next week?",
        "MS. JEAN-PIERRE: I do not have anything to share on his schedule at this time.",
        "Q Thanks, Karine. We will follow up with your office on the supplemental vote later.",
        "MS. JEAN-PIERRE: Go ahead — sorry.",
        "Q And just to be clear, I asked about this because the vote —",
        "MS. JEAN-PIERRE: Yeah.",
        "Q Thanks, Karine.",
        "2:37 P.M. EDT",
    )
    title = "Press Briefing by Press Secretary Karine Jean-Pierre"
    passages = chunk_article(Article("b", title, briefing), words, 256)
    [closing] = [p for p in passages if "Thanks, Karine" in p.text]
    assert closing.text == briefing[5]
    assert closing.speaker is None  # its label says who speaks
    asked = asked_speaker("What did Karine Jean-Pierre say about the supplemental?")
    assert asked
    assert speaker_match(asked, passage_speaker(closing.text, title, closing.speaker)) == 0.0
    [answer] = [p for p in passages if "we have said so" in p.text]
    assert speaker_match(asked, passage_speaker(answer.text, title, answer.speaker)) > 0.0
    crosstalk = ("2:37", "Go ahead", "just to be clear", "Yeah")
    assert not any(words in p.text for p in passages for words in crosstalk)


def test_a_host_who_mostly_introduces_and_thanks_still_asks() -> None:
    """A host's questions are a minority of their turns (welcomes, thanks, handing over), but
    they are questions: the guest's answer is indexed with them, and never they alone."""
    answer = (
        "MR. SULLIVAN: Our goal is not to hold back the Chinese economy. We want to manage the "
        "competition responsibly, keep channels of communication open at every level, and work "
        "with allies on the rules that matter to our security and to theirs. "
    )
    conversation = (
        "MR. HADLEY: Welcome, everyone, and thank you for joining us this evening.",
        "MR. SULLIVAN: Thank you, Steve. " + answer[len("MR. SULLIVAN: ") :] * 2,
        "MR. HADLEY: How do you frame the goal of the policy toward China?",
        answer,
        "MR. HADLEY: Good. Let us turn to the audience now. Yes, ma'am, in the back.",
        "MR. SULLIVAN: " + answer[len("MR. SULLIVAN: ") :] * 2,
        "MR. HADLEY: And what about Taiwan, briefly?",
        "MR. SULLIVAN: On Taiwan, we oppose unilateral changes to the status quo by either side.",
        "MR. HADLEY: Thank you all for coming tonight.",
    )
    found = turns(conversation)
    asking = [t for t in found if t.asks]
    assert [t.first for t in asking] == [2, 6]
    assert [t.answers for t in found if t.first == 3] == [found.index(asking[0])]
    passages = chunk_article(Article("c", "Remarks and Q&A", conversation), words, 256)
    assert not any(p.text.startswith("MR. HADLEY: How do you frame") for p in passages)
    [led] = [p for p in passages if p.text.startswith("How do you frame the goal")]
    assert "Our goal is not to hold back" in led.text
    # The answer to the audience, after the host moved on, is led by no question of theirs.
    assert [p.text.split("\n")[0] for p in passages if "Taiwan" in p.text] == [
        "And what about Taiwan, briefly?"
    ]
