"""Parse one untrusted file in a child process under a time and a memory limit.

An upload comes from a chat: whatever slipped past the parsers' own caps (a pathological
regular expression, a decompression or expansion nobody foresaw) must cost the bot a refusal,
not its memory or its event loop. The child sets its own address-space limit (setting it from
the parent would need a pre-exec hook, unsafe in a process with threads), parses, and prints
the articles as JSON; the parent kills it at the deadline.

Run as `python -m embeddings.ingest.sandbox PATH ARTICLE_ID MEMORY_BYTES` (by `parse_bounded`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from embeddings.errors import ParseError
from embeddings.ingest.articles import Article, ParsedFile, parse_file

PARSE_SECONDS = 60.0
PARSE_MEMORY = 3 * 1024**3  # address space, imports included (about 1 GB of it)
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def parse_bounded(
    path: Path,
    article_id: str,
    seconds: float = PARSE_SECONDS,
    memory_bytes: int = PARSE_MEMORY,
) -> ParsedFile:
    """`parse_file(path, article_id)` run in a child process; ParseError when it fails, runs
    past `seconds` or needs more than `memory_bytes` of address space."""
    command = [sys.executable, "-m", __name__, str(path), article_id, str(memory_bytes)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=seconds,
            env={**os.environ, **_ONE_THREAD},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ParseError(f"it took longer than {seconds:.0f} s to read") from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = None
    if done.returncode != 0 or not isinstance(answer, dict):
        limit = f"{memory_bytes / 1024**3:.1f} GB"
        raise ParseError(f"it could not be read within the limits ({limit} of memory)")
    if "error" in answer:
        raise ParseError(str(answer["error"]))
    articles = [Article(**{**a, "paragraphs": tuple(a["paragraphs"])}) for a in answer["articles"]]
    return ParsedFile(path, articles, list(answer["problems"]))


def _main(path: str, article_id: str, memory_bytes: str) -> None:
    limit = int(memory_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        parsed = parse_file(Path(path), article_id)
    except (ParseError, OSError) as error:
        answer: dict[str, object] = {"error": str(error)}
    else:
        answer = {
            "articles": [dataclasses.asdict(a) for a in parsed.articles],
            "problems": parsed.problems,
        }
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    _main(*sys.argv[1:4])
