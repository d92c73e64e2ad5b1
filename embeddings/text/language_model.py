"""py3langid's identifier, loaded from its package or from a decompressed copy kept in a cache
folder. The only module that imports py3langid.

The package ships its model as an LZMA-compressed .npz (4.6 MB); decompressing it is most of
the 0.4 s a process takes to load the identifier, paid again by every `newsdesk ask`. The first
load with a cache folder writes the decompressed .npz there (68 MB, the same arrays); later
loads read it in a fraction of that. The identifier is built from those arrays exactly as
py3langid 0.4's own loader builds it (the version is pinned in pyproject.toml), so it ranks
languages identically (tests/test_language_model.py).
"""

from __future__ import annotations

import lzma
import os
import shutil
import uuid
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import MissingDependencyError


def load_identifier(languages: Sequence[str], cache: Path | None = None) -> Any:
    """py3langid's LanguageIdentifier (probabilities normalised) restricted to `languages`;
    from `cache` (written there first if missing) when a folder is given."""
    try:
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    except ImportError as error:
        raise MissingDependencyError(
            f"telling English questions from others needs py3langid ({error}); "
            "pip install py3langid"
        ) from None
    if cache is None:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    else:
        with np.load(_decompressed(MODEL_DIR / MODEL_FILE, cache), allow_pickle=False) as model:
            identifier = LanguageIdentifier(
                np.asarray(model["ptc"]),
                np.asarray(model["pc"]),
                model["classes"].tolist(),
                _stdlib_array(model["nextmove"]),
                model["out_feat"].tolist(),
                norm_probs=True,
                tk_row=_stdlib_array(model["nextmove_row"]),
            )
    identifier.set_languages(list(languages))
    return identifier


def _decompressed(source: Path, cache: Path) -> Path:
    """The decompressed copy of `source` in `cache`, named after its size and time so that
    another py3langid's model is never read; written through a temporary name, then renamed,
    so a concurrent or interrupted process never reads half a file."""
    stat = source.stat()
    target = cache / f"py3langid-{stat.st_size}-{stat.st_mtime_ns}.npz"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    scratch = cache / f".py3langid-{uuid.uuid4().hex}.tmp"
    try:
        with lzma.open(source) as compressed, scratch.open("wb") as out:
            shutil.copyfileobj(compressed, out, 1 << 20)
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
    return target


def _stdlib_array(values: npt.NDArray[np.unsignedinteger[Any]]) -> array[int]:
    """An unsigned NumPy array as the stdlib array py3langid walks its automaton with."""
    out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out
