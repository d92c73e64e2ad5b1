"""py3langid's identifier, loaded from its package or from a decompressed copy kept in a cache
folder. The only module that imports py3langid.

The package ships its model as an LZMA-compressed .npz (4.6 MB); decompressing it is most of
the 0.4 s a process takes to load the identifier, paid again by every `newsdesk ask`. The first
load with a cache folder writes the same arrays there uncompressed (68 MB, one .npy record
after another: unlike an .npz, no zip CRC to check on reading); later loads read them in a
tenth of the time. The identifier is built from those arrays exactly as py3langid 0.4's own
loader builds it (the version is pinned in pyproject.toml), so it ranks languages identically
(tests/test_language_model.py).
"""

from __future__ import annotations

import logging
import lzma
import os
import shutil
import tempfile
import uuid
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import MissingDependencyError

logger = logging.getLogger(__name__)


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
    cached = None
    if cache is not None:
        try:
            cached = _decompressed(MODEL_DIR / MODEL_FILE, cache)
        except OSError as error:  # a full or read-only folder costs time, not the answer
            logger.warning("cannot cache the language identifier's model in %s: %s", cache, error)
    if cached is None:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    else:
        with cached.open("rb") as records:
            ptc, pc, classes, nextmove, row, output = (
                np.load(records, allow_pickle=False) for _ in _ARRAYS
            )
        identifier = LanguageIdentifier(
            ptc,
            pc,
            classes.tolist(),
            _stdlib_array(nextmove),
            output.tolist(),
            norm_probs=True,
            tk_row=_stdlib_array(row),
        )
    identifier.set_languages(list(languages))
    return identifier


# The arrays of py3langid's .npz, in the order they are cached.
_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def _decompressed(source: Path, cache: Path) -> Path:
    """The arrays of `source` as .npy records in one file in `cache`, named after the source's
    size and time so that another py3langid's model is never read; written through a temporary
    name, then renamed, so a concurrent or interrupted process never reads half a file."""
    stat = source.stat()
    target = cache / f"py3langid-{stat.st_size}-{stat.st_mtime_ns}.npy"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    scratch = cache / f".py3langid-{uuid.uuid4().hex}.tmp"
    try:
        # Through a temporary file, as py3langid does: the zip reader seeks, and the 68 MB
        # need not all be in memory at once.
        with tempfile.TemporaryFile() as npz, scratch.open("wb") as out:
            with lzma.open(source) as compressed:
                shutil.copyfileobj(compressed, npz, 1 << 20)
            npz.seek(0)
            with np.load(npz, allow_pickle=False) as model:
                for name in _ARRAYS:
                    np.save(out, model[name], allow_pickle=False)
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
    return target


def _stdlib_array(values: npt.NDArray[np.unsignedinteger[Any]]) -> array[int]:
    """An unsigned NumPy array as the stdlib array py3langid walks its automaton with."""
    out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).view(np.uint8).data)
    return out
