"""Follow-up questions rewritten with the previous question's speaker and topic
(embeddings.text.followup), and complete questions left alone."""

from __future__ import annotations

import pytest

from embeddings.text.followup import resolve_followup

SULLIVAN = "What did Jake Sullivan say about export controls?"
WANG_YI = "What did Wang Yi say about the UN?"


@pytest.mark.parametrize(
    ("previous", "question", "understood"),
    [
        (WANG_YI, "And what did he say about Ukraine?", "What did Wang Yi say about Ukraine?"),
        (SULLIVAN, "what about Russia?", "What did Jake Sullivan say about Russia?"),
        (WANG_YI, "what about Russia?", "What did Wang Yi say about Russia?"),
        (SULLIVAN, "And Russia?", "What did Jake Sullivan say about Russia?"),
        (SULLIVAN, "How about China?", "What did Jake Sullivan say about China?"),
        (SULLIVAN, "What did his team say?", "What did Jake Sullivan’s team say?"),
        (SULLIVAN, "When did he say that?", "When did Jake Sullivan say that?"),
        (SULLIVAN, "Why?", "What did Jake Sullivan say about export controls, why?"),
        (SULLIVAN, "And in 2022?", "What did Jake Sullivan say about export controls, in 2022?"),
        (SULLIVAN, "When did that start?", "When did export controls start?"),
        (SULLIVAN, "And what did Psaki say?", "What did Psaki say about export controls?"),
        (
            "What did the senior official say about Bangkok?",
            "Did she mention Vienna?",
            "Did the senior official mention Vienna?",
        ),
        (
            "How did the Wikinews story describe the earthquake in Turkey?",
            "what about Syria?",
            "How did the Wikinews story describe the earthquake in Syria?",
        ),
    ],
)
def test_follow_ups_read_with_the_previous_question(
    previous: str, question: str, understood: str
) -> None:
    assert resolve_followup(question, previous) == understood


@pytest.mark.parametrize(
    "question",
    [
        "What did Biden say about his trip to Kyiv?",  # names its own speaker
        "So what did the Fed decide about interest rates in 2023?",
        "How many moons does Jupiter have?",
        "How old was Abraham Lincoln when he died?",  # "he" is the person it names
        "What did Wang Yi say about the UN?",
        "Is it true that Biden visited Kyiv in February?",
        "Who won the election in Nigeria and what did observers report?",
    ],
)
def test_complete_questions_are_left_alone(question: str) -> None:
    assert resolve_followup(question, SULLIVAN) is None


def test_nothing_to_resolve_against() -> None:
    assert resolve_followup("what about Russia?", "") is None
    assert resolve_followup("", SULLIVAN) is None
