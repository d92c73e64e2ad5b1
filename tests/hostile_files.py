"""Hostile article files, generated (never stored), for the tests and benchmarks.hostile."""

from __future__ import annotations

import resource
import subprocess
import sys

ALIAS_LEVELS = 9


def alias_bomb_markdown() -> str:
    """Front matter whose `title` expands to 10**9 strings through nine levels of aliases
    (the billion-laughs attack in YAML: a few hundred bytes)."""
    lines = ["---", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, ALIAS_LEVELS):
        refs = ",".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines += [f"title: *a{ALIAS_LEVELS - 1}", "---", "", "Body text of the article."]
    return "\n".join(lines) + "\n"


def huge_integer_json() -> str:
    """A record holding an integer of more digits than Python converts (4,300)."""
    return '{"title": "Numbers", "text": "A record with a huge number.", "n": ' + "9" * 5000 + "}"


def deep_json(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


def deep_yaml_markdown(depth: int = 20_000) -> str:
    return f"---\ntitle: {'[' * depth}{']' * depth}\n---\n\nBody text of the article.\n"


def single_line_article(megabytes: float) -> str:
    """An article of one unpunctuated line of varied words."""
    words: list[str] = []
    size, number = 0, 0
    while size < megabytes * 1_000_000:
        word = f"word{number % 9973}"
        words.append(word)
        size += len(word) + 1
        number += 1
    return "title One long line\n\n" + " ".join(words) + "\n"


def run_bounded(
    code: str, memory_bytes: int = 2 * 1024**3, seconds: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -c code` under an address-space and CPU-time limit, so that a regression
    fails a test instead of taking the machine down."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        cpu = int(seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=seconds,
        preexec_fn=limit,
        check=False,
    )
