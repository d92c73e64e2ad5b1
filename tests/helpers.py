"""Constants and small helpers the tests share."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
WANG_YI_QUESTION = "What did Wang Yi say about the UN?"
WANG_YI_UN = (
    "Wang Yi said China and Russia, as permanent members of the UN Security Council, "
    "bear a very important responsibility for peace in the world."
)


def write(folder: Path, name: str, text: str) -> Path:
    """Write an article file (creating folders) and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
