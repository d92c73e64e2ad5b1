"""What adding one article to an indexed archive costs, next to the cost of embedding it.

Indexes a copy of data/, adds one White House briefing-room article (taken from the archive's
.tar.xz, e.g. ../shared/corpora/wh-briefings.tar.xz), re-indexes, and compares with (a)
re-indexing when nothing changed and (b) encoding just that article's passages and sentences.

    python -m benchmarks.incremental --archive PATH [--member PATH-IN-TARBALL]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from benchmarks.common import SHIPPED_DATA
from embeddings import SentenceTransformerEncoder, parse_file
from embeddings.index.indexer import build_index, sentence_input
from embeddings.index.stores import open_store
from embeddings.text.chunking import chunk_article, model_input

DEFAULT_MEMBER = "./statements-releases/2021-03/2021-03-01-u-s-mexico-joint-declaration.md"


def extract(tarball: Path, member: str, folder: Path) -> Path:
    with tarfile.open(tarball) as archive:
        data = archive.extractfile(member)
        assert data is not None
        target = folder / Path(member).name
        target.write_bytes(data.read())
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, required=True, help="the archive's .tar.xz")
    parser.add_argument("--member", default=DEFAULT_MEMBER, help="file inside the tarball")
    args = parser.parse_args()
    encoder = SentenceTransformerEncoder()
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        index = Path(scratch) / "index"
        shutil.copytree(SHIPPED_DATA, data)
        full = build_index([data], open_store(index), encoder)
        unchanged = build_index([data], open_store(index), encoder)
        added_file = extract(args.archive, args.member, Path(scratch))
        shutil.copy(added_file, data / added_file.name)
        added = build_index([data], open_store(index), encoder)

        [article] = parse_file(added_file).articles
        passages = chunk_article(article, encoder.count_tokens, encoder.max_tokens)
        texts = [model_input(article.title, p.text) for p in passages]
        texts += [
            sentence_input(article.title, p.text[a:b]) for p in passages for a, b in p.sentences
        ]
        started = time.perf_counter()
        encoder.encode(texts)
        embed_seconds = time.perf_counter() - started

    print(f"full build of data/ ({full.articles} articles, {full.passages} passages, "
          f"{full.encoded} texts encoded): {full.seconds:.1f} s")  # fmt: skip
    print(f"re-index, nothing changed ({unchanged.encoded} encoded): {unchanged.seconds:.2f} s")
    print(
        f"re-index after adding {added_file.name!r} ({len(passages)} passages, "
        f"{added.encoded} texts encoded, {added.reused} reused): {added.seconds:.2f} s"
    )
    print(f"encoding that article's {len(texts)} texts alone: {embed_seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
