"""The other forms of English irregular verbs, for BM25.

A question asks "Who did Wang Yi meet?" or "What did the official find notable?"; the article
says "met" and "found". Stemming joins "meets" and "meeting" but not "met", so the word that
answers never matched. Regular verbs need nothing here ("visited" stems like "visit").

Left out: forms that in news text are mostly another word ("left" as in politics, "lay", "ground",
"bound", "rose", "saw", "felt"), forms equal to their base ("put", "set", "hit"), and forms of
verbs the lexical index drops as stopwords ("said", "told", "was", "did", "had").
"""

from __future__ import annotations

import re
from functools import cache

# base form, then its past and participle forms (one of them when they are the same word)
_VERBS = """
arise arose arisen; awake awoke awoken; bear bore borne; begin began begun; bend bent;
bite bitten; bleed bled; blow blew blown; break broke broken; breed bred; bring brought;
build built; buy bought; catch caught; choose chose chosen; cling clung; creep crept; dig dug;
draw drew drawn; drive drove driven; eat ate eaten; fall fell fallen; fight fought; find found;
flee fled; fly flew flown; forbid forbade forbidden; forget forgot forgotten;
forgive forgave forgiven; freeze froze frozen; give gave given; grow grew grown; hang hung;
hear heard; hide hid hidden; hold held; keep kept; kneel knelt; know knew known; lead led;
lend lent; lose lost; meet met; mislead misled; overcome overcame; oversee oversaw overseen;
overtake overtook overtaken; overthrow overthrew overthrown; pay paid; prove proven; ride rode
ridden; ring rang rung; rise risen; run ran; see seen; seek sought; sell sold; send sent;
shake shook shaken; shine shone; shoot shot; show shown; shrink shrank shrunk; sing sang sung;
sink sank sunk; sit sat; sleep slept; slide slid; speak spoke spoken; speed sped; spend spent;
spin spun; spring sprang sprung; stand stood; steal stole stolen; stick stuck; sting stung;
strike struck stricken; strive strove striven; swear swore sworn; sweep swept; swim swam swum;
swing swung; take took taken; teach taught; tear tore torn; think thought; throw threw thrown;
undergo underwent undergone; understand understood; undertake undertook undertaken;
uphold upheld; wake woke woken; wear wore worn; weave wove woven; weep wept; win won;
withdraw withdrew withdrawn; withhold withheld; withstand withstood; write wrote written
"""


_DID = re.compile(r"\bdid(?:n['’]?t)?\b", re.IGNORECASE)


def asks_in_past(question: str) -> bool:
    """Whether the question asks in the past with "did" ("Who did Wang Yi meet?"), so its
    verbs are in their base form and the answer has them in the past. Other questions keep
    their words: "prepared to give" is not answered by "gave"."""
    return _DID.search(question) is not None


@cache
def verb_groups() -> tuple[tuple[str, ...], ...]:
    """Each irregular verb's forms, base form first."""
    return tuple(tuple(group.split()) for group in _VERBS.split(";"))
