"""Who said what, through the real model, FAISS and BM25 on a small conversation: the answer
turn outranks the question turn, the named speaker's turn outranks the interviewer's, a
multi-paragraph answer is found whole, and the marked sentence holds the answer."""

from __future__ import annotations

import pytest

from embeddings import SentenceTransformerEncoder
from embeddings.index.indexer import build_from_articles
from embeddings.index.stores import open_store
from embeddings.ingest.articles import Article
from embeddings.ranking.search import Searcher
from embeddings.ranking.speaker_intent import asked_speaker, passage_speaker, speaker_match

CALL = Article(
    id="call",
    title="Background Press Call on the Vienna Meeting",
    paragraphs=(
        "MODERATOR: Thanks, everyone, for joining this call on the meetings in Vienna today.",
        "SENIOR ADMINISTRATION OFFICIAL: The National Security Advisor met Director Wang for "
        "eight hours over two days.",
        "MODERATOR: We will now take your questions.",
        "Q Thanks for doing this. Did the issue of the spy balloon come up in the talks, and "
        "did it affect the spy balloon dispute between the two countries?",
        "SENIOR ADMINISTRATION OFFICIAL: Both sides recognized that the unfortunate incident "
        "led to a pause in engagement.",
        "We are seeking to move beyond it, and we restored the normal channels that had gone "
        "quiet for three months.",
        "Q Are you making concessions to China to get these talks going again?",
        "SENIOR ADMINISTRATION OFFICIAL: We do not see dialogue as something you get through "
        "concessions. We are not linking it to anything else.",
    ),
)
PANEL = Article(
    id="storm",
    title="Wikinews asks meteorologists about Cyclone Phailin",
    paragraphs=(
        "Wikinews: Will the cyclone lose strength once it moves over land?",
        "Richman: Yes, the cyclone will lose strength over land, because the warm sea water "
        "that feeds it is gone once it moves inland.",
        "Snow: It will weaken over land, since the rough land slows the winds that the smooth "
        "sea let run.",
    ),
)
INTERVIEW = Article(
    id="ants",
    title="Biologist Nick Bos tells Wikinews about self-medicating ants",
    paragraphs=(
        "Wikinews: Nick Bos, how do ants fight the fungus that infects their nests? Do ants "
        "really medicate themselves against the fungus?",
        "Nick Bos: Infected workers eat food laced with hydrogen peroxide, which kills the "
        "fungus, while healthy workers avoid it because it shortens their lives.",
        "Wikinews: What will you study next?",
        "Nick Bos: Next we look at whether the colony as a whole changes what it collects.",
    ),
)


@pytest.fixture(scope="module")
def searcher(
    encoder: SentenceTransformerEncoder, tmp_path_factory: pytest.TempPathFactory
) -> Searcher:
    index = tmp_path_factory.mktemp("said") / "index"
    store = open_store(index)
    build_from_articles([CALL, PANEL, INTERVIEW], store, encoder)
    return Searcher(store.open_current(encoder.name, encoder.dimension), encoder)


def test_the_answer_turn_beats_its_question_turn_and_shows_what_was_asked(
    searcher: Searcher,
) -> None:
    top = searcher.search("Did the spy balloon come up in the talks?").results[0]
    assert top.text.startswith("SENIOR ADMINISTRATION OFFICIAL: Both sides recognized")
    assert top.asked is not None
    assert "spy balloon" in top.asked
    assert "Thanks for doing this" not in top.asked  # the asking sentences only


def test_a_speaker_question_prefers_the_named_speakers_turn(searcher: Searcher) -> None:
    top = searcher.search("What did Nick Bos say about how ants fight the fungus?").results[0]
    assert top.text.startswith("Nick Bos: Infected workers")
    assert top.asked is not None
    assert top.asked.startswith("Nick Bos, how do ants")


def test_the_named_speaker_wins_among_answers_to_the_same_question(searcher: Searcher) -> None:
    for name in ("Richman", "Snow"):
        top = searcher.search(f"What did {name} say about the cyclone over land?").results[0]
        assert top.text.startswith(f"{name}:")


def test_a_multi_paragraph_answer_is_found_whole(searcher: Searcher) -> None:
    top = searcher.search(
        "According to the senior official, what happened to the channels that had gone quiet?"
    ).results[0]
    assert "led to a pause in engagement" in top.text
    assert "normal channels that had gone quiet" in top.text


def test_the_marked_sentence_holds_the_answer(searcher: Searcher) -> None:
    top = searcher.search("Is Washington making concessions to restart talks with China?").results[
        0
    ]
    assert "through concessions" in top.answer_sentence


def test_speaker_intent_matches_names_and_roles() -> None:
    asked = asked_speaker("What did Jake Sullivan say about export controls?")
    assert asked == {"jake", "sullivan"}
    assert speaker_match(asked, passage_speaker("MR. SULLIVAN: We will update them.", "")) == 0.5
    assert speaker_match(asked, passage_speaker("MR. BREMMER: And chips?", "")) == 0.0
    role = asked_speaker("According to the senior administration official, was it useful?")
    assert speaker_match(role, passage_speaker("It was useful.", CALL.title.replace(
        "on the Vienna Meeting", "by a Senior Administration Official"))) == 1.0  # fmt: skip
    assert asked_speaker("When did the storm reach the coast?") == frozenset()


def test_a_turns_own_speaker_not_the_title_is_who_speaks() -> None:
    asked = asked_speaker("What did Tina McKenzie say about the World Cups?")
    title = "Wikinews interviews Australian wheelchair basketball player Tina McKenzie"
    # The interviewer's statement is not the interviewee's, whatever the title says; her own
    # turn matches, with her name split as the transcript writes it.
    assert speaker_match(asked, passage_speaker("Wikinews: You never won it.", title)) == 0.0
    assert speaker_match(asked, passage_speaker("Tina Mc Kenzie: We won bronze.", title)) == 1.0
    # A passage without a turn label is also the title's.
    assert speaker_match(asked, passage_speaker("The team trains twice a week.", title)) == 1.0
