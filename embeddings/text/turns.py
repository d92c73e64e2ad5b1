"""Conversation structure: who speaks each turn of a transcript, and which question a turn
answers.

Briefings, press calls and interviews alternate a reporter's question ("Q Did the issue of the
spy balloon come up?", "Wikinews: What ...?", "MR. BREMMER: ...?") and an official's answer
("SENIOR ADMINISTRATION OFFICIAL: I think both sides recognized ..."). The question shares an
editor's words; the answer, which is what the editor wants, often repeats none of them. So an
answer turn is indexed with (the relevant sentences of) its question as context, and the
question turn itself is not indexed on its own when an answer follows it: it leads there.

A turn starts at a labelled paragraph and runs over the unlabelled paragraphs after it, so an
answer over several paragraphs is one answer. Rule-based, like `speakers`: a label counts
when it recurs in the article or is a shouted transcript label ("MR. SULLIVAN:"), and a
speaker asks when it is `Q`, an interviewer ("Wikinews", "AUDIENCE MEMBER") or when most of
its turns hold a question mark (the host of a conversation); a moderator only hands over.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from embeddings.text.sentences import split_sentences

# "MR. SULLIVAN: ...", "SENIOR ADMINISTRATION OFFICIAL: ...", "Wikinews: ...", "Bill: ...";
# or the bare "Q" / "Q." / "Q:" of White House transcripts.
_LABEL = re.compile(r"^\s*([A-Z][\w.’'\-]*(?:\s[A-Z][\w.’'\-]*){0,3}):\s")
_Q = re.compile(r"^\s*(Q)(?:\.|:)?\s+(?=\S)")
_ASKERS = frozenset({"q", "wikinews", "audience member", "reporter", "question"})
_HOSTS = frozenset({"moderator", "aide", "operator"})
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
CONTEXT_WORDS = 45  # the most of a question carried into its answer's passage


@dataclass(frozen=True, slots=True)
class Turn:
    """Paragraphs [first, last) spoken by one speaker; `asks`: a question turn; `answers`:
    the index (in the turn list) of the question turn this one answers."""

    first: int
    last: int
    label: str
    asks: bool
    answers: int | None = None

    @property
    def speaker(self) -> str:
        return speaker_name(self.label)


def speaker_name(label: str) -> str:
    """A label as a name: "MR. SULLIVAN" → "Mr. Sullivan", "Q" → "Q"."""
    if label.isupper() and len(label) > 1:
        return " ".join(w.capitalize() for w in label.split())
    return label


def label_of(paragraph: str) -> str | None:
    """The speaker label a paragraph opens with, if any ("Q" for a bare reporter's Q)."""
    if match := _Q.match(paragraph):
        return match.group(1)
    match = _LABEL.match(paragraph)
    return match.group(1) if match else None


def strip_label(paragraph: str) -> str:
    """The paragraph without its leading speaker label."""
    match = _Q.match(paragraph) or _LABEL.match(paragraph)
    return paragraph[match.end() :] if match else paragraph


def turns(paragraphs: Sequence[str]) -> list[Turn]:
    """The article's turns, or [] when it is not a conversation (fewer than two exchanges)."""
    labels = [label_of(p) for p in paragraphs]
    counts = Counter(x for x in labels if x)
    speaking = {x for x, n in counts.items() if n >= 2 or (x.isupper() and len(x) > 3) or x == "Q"}
    starts = [i for i, x in enumerate(labels) if x in speaking]
    if len(starts) < 3:
        return []
    spans = [(a, b) for a, b in zip(starts, [*starts[1:], len(paragraphs)], strict=True)]
    said = {
        label: [" ".join(paragraphs[a:b]) for a, b in spans if labels[a] == label]
        for label in speaking
    }
    # Who talks most is who is asked; a host who also introduces, thanks and hands over asks
    # in fewer than half their turns, but far more often, and far more briefly, than they do.
    main = max(said, key=lambda label: sum(len(t.split()) for t in said[label]))
    askers = {
        label
        for label, texts in said.items()
        if label.casefold() in _ASKERS
        or (label.casefold() not in _HOSTS and _is_asker(texts, said[main]))
    }
    out: list[Turn] = []
    question: int | None = None
    for a, b in spans:
        label = labels[a] or ""
        asks = label in askers and any("?" in p for p in paragraphs[a:b])
        answers = None
        if asks:
            question = len(out)
        elif label in askers:
            # The asker moved on ("Thanks, Karine.", "Let us turn to the audience."): what
            # follows answers no earlier question of theirs.
            question = None
        elif label.casefold() not in _HOSTS:
            answers = question
        out.append(Turn(a, b, label, asks, answers))
    if not any(t.answers is not None for t in out):
        return []
    return out


def _is_asker(texts: Sequence[str], main: Sequence[str]) -> bool:
    """Whether the speaker of `texts` asks: most of their turns do; or at least a quarter do,
    each a quarter the length of the main speaker's turns or less, as a host's ("MR. HADLEY:
    … How do you frame the policy?")."""
    asking = sum("?" in t for t in texts) / len(texts)
    if asking > 1 / 2:
        return True
    words, main_words = _mean_words(texts), _mean_words(main)
    return texts is not main and asking >= 1 / 4 and words <= main_words / 4


def _mean_words(texts: Sequence[str]) -> float:
    return sum(len(t.split()) for t in texts) / len(texts)


def question_context(question: str, answer: str, limit: int = CONTEXT_WORDS) -> str:
    """The sentences of a question turn that ask something, those sharing most words with the
    answer first, kept in their order and within `limit` words; pleasantries ("Hi. Thanks
    for doing this call.") are left out."""
    sentences = [s for s in split_sentences(strip_label(question)) if s.strip()]
    asking = [s for s in sentences if "?" in s] or sentences[-1:]
    answer_words = {w.casefold() for w in _WORD.findall(answer)}
    ranked = sorted(
        range(len(asking)),
        key=lambda i: -len({w.casefold() for w in _WORD.findall(asking[i])} & answer_words),
    )
    kept: list[int] = []
    used = 0
    for i in ranked:
        size = len(asking[i].split())
        if kept and used + size > limit:
            continue
        kept.append(i)
        used += size
    text = " ".join(asking[i] for i in sorted(kept))
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]) + " …"
