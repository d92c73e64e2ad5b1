"""The reranker's training data: questions paired with the answers that follow them, and no
document of the news sample (the evaluations' corpus) among them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from benchmarks import briefing_pairs

_QUESTIONS = (
    "Can you tell us whether the two sides agreed on export controls this week?",
    "What did the President say to the governor about the storm damage on Monday?",
    "Is the administration planning new sanctions against the shipping companies?",
    "How many people have been evacuated from the coastal towns so far?",
)
_ANSWERS = (
    "They did not agree, but both sides will keep talking about the technology rules next month.",
    "He promised every federal resource the state asks for, starting with the emergency crews.",
    "We are looking at every option and will announce our decisions in the coming days, I think.",
    "About twelve thousand people have left so far, and the shelters still have room for more.",
)


def _briefing(title: str, url: str) -> str:
    turns = ["MS. SMITH: Good afternoon, everyone, and thank you for joining this call today."]
    for question, answer in zip(_QUESTIONS, _ANSWERS, strict=True):
        turns += [f"Q {question}", f"MS. SMITH: {answer}"]
    front = f"---\ntitle: {title}\ndate: '2024-04-02'\nsource_url: {url}\n---\n\n"
    return front + "\n\n".join(turns) + "\n"


def test_questions_pair_with_their_answers_and_the_news_sample_is_left_out(
    tmp_path: Path,
) -> None:
    kept = tmp_path / "2024-04-02-press-briefing-by-ms-smith.md"
    kept.write_text(_briefing("Press Briefing by Ms. Smith", "https://example.gov/a/"))
    by_id = tmp_path / "2024-04-03-background-call.md"
    by_id.write_text(_briefing("Background Call", "https://example.gov/b/"))
    by_url = tmp_path / "2024-04-04-press-gaggle.md"
    by_url.write_text(_briefing("Press Gaggle", "https://example.gov/c/"))
    sample = tmp_path / "news-sample.jsonl"
    records = [
        {"id": "wh-2024-04-03-background-call", "url": "", "title": "Something else"},
        {"id": "elsewhere", "url": "https://example.gov/c", "title": "Another"},
    ]
    sample.write_text("".join(json.dumps(r) + "\n" for r in records))

    found = list(
        briefing_pairs.conversations(
            [kept, by_id, by_url], sample, lambda text: len(text.split()), 256
        )
    )

    assert [c.title for c in found] == ["Press Briefing by Ms. Smith"]
    talk = found[0]
    assert len(talk.pairs) == len(_QUESTIONS)
    for (question, answer), expected in zip(talk.pairs, _ANSWERS, strict=True):
        assert question.endswith("?")
        assert talk.texts[answer].endswith(expected)
    target = tmp_path / "groups.jsonl.gz"
    assert briefing_pairs.write(found, target, pairs=2) == (1, len(_QUESTIONS))
    with gzip.open(target, "rt", encoding="utf-8") as lines:
        assert json.loads(lines.readline())["title"] == talk.title
