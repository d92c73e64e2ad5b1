"""`newsdesk ask` imports only what answering needs: each pin below was a tenth of a second or
more of every question's wait (docs/speed-and-scale.md, "The ask path")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# torch: the ONNX encoders need none; scipy (through bm25s): BM25 wanted only its stopwords;
# httpx: only fetching feeds uses it.
NOT_FOR_ASKING = ("torch", "scipy", "bm25s", "httpx")


def test_the_ask_command_imports_nothing_it_does_not_use() -> None:
    code = (
        "import sys; from bot.cli.commands import _parser;"
        "_parser().parse_args(['ask', 'What did Wang Yi say?']);"
        f"print(' '.join(m for m in {NOT_FOR_ASKING!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""
