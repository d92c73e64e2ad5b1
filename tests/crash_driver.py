"""Test-only driver: build an index in a separate process and die at a chosen point.

    python -m tests.crash_driver INDEX_DIR DATA_DIR POINT [--real-model] [--max-file-bytes N]

POINT is where the process SIGKILLs itself (nothing runs after: no finally, no cleanup):
  encoding        after the first text is encoded
  after-metadata  passages.sqlite written, no vector file yet
  after-vectors   both FAISS files written, BM25 and manifest not yet
  before-switch   the new generation is complete (manifest written), CURRENT not replaced
  after-switch    CURRENT replaced, the old generations not yet pruned
  none            run to the end
The kill points hook into the build from outside (progress callback, wrapped functions) so
production code carries no test hooks. With --max-file-bytes the process runs under
RLIMIT_FSIZE, as on a full disk: writes past the limit fail with EFBIG.
Exit status: 0 built, 1 a NewsdeskError (its one-line message on stderr), -9 killed.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
from pathlib import Path
from typing import Any

from embeddings import BuildProgress, Encoder, NewsdeskError
from embeddings.index.directory.generations import IndexDirectory
from embeddings.index.directory.vectors import VectorIndex
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from embeddings.models.tiny import TinyEncoder


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(point: str) -> None:
    """Wrap the store's writers so the process dies right after (or before) the chosen step."""
    if point in ("after-metadata", "after-vectors"):
        save = VectorIndex.save
        saved = []

        def save_then_maybe_die(self: Any, path: Path) -> None:
            if point == "after-metadata":
                _die()  # the first vector file is about to be written: only SQLite exists
            save(self, path)
            saved.append(path)
            if len(saved) == 2:
                _die()

        VectorIndex.save = save_then_maybe_die  # type: ignore[method-assign]
    elif point == "after-switch":
        switch = IndexDirectory.switch

        def switch_then_die(self: Any, generation: Path) -> None:
            switch(self, generation)
            _die()

        IndexDirectory.switch = switch_then_die  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("point")
    parser.add_argument("--real-model", action="store_true")
    parser.add_argument("--max-file-bytes", type=int)
    args = parser.parse_args()
    if args.max_file_bytes:
        # Without this the kernel kills the process (SIGXFSZ) instead of failing the write.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (args.max_file_bytes, args.max_file_bytes))
    encoder: Encoder
    if args.real_model:
        from embeddings import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder()
    else:
        encoder = TinyEncoder()
    _arm(args.point)

    def progress(step: BuildProgress) -> None:
        if args.point == "encoding" and step.stage == "encoding" and step.done > 0:
            _die()
        if args.point == "before-switch" and step.stage == "switching":
            _die()

    try:
        summary = build_index([args.data_dir], open_store(args.index_dir), encoder, progress)
    except NewsdeskError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"built {summary.articles} articles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
