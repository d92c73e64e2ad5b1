"""What an index holds and which models' vectors it has: `newsdesk stats --json` prints it and
`newsdesk serve` logs it at start, so an operator sees what is being served."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from embeddings import Engine


def index_info(settings: Settings, engine: Engine) -> dict[str, Any]:
    """The served index, as plain JSON-able values."""
    stats = engine.stats()
    m = stats.manifest
    multilingual = engine.multilingual.name if engine.multilingual is not None else None
    return {
        "backend": settings.backend,
        "index": engine.store.describe().removeprefix("the index in "),
        "generation": stats.generation,
        "built": m.created,
        "articles": m.articles,
        "passages": m.count,
        "sentences": m.sentences,
        "first_date": stats.first_date,
        "last_date": stats.last_date,
        "newest_title": stats.newest_title,
        "disk_bytes": stats.disk_bytes,
        "by_source": stats.by_source,
        "models": [
            {"role": "english", "model": m.model, "dimension": m.dimension, "vectors": True},
            {
                "role": "multilingual",
                "model": m.multilingual or multilingual,
                "dimension": m.multilingual_dimension,
                "configured": multilingual is not None,
                "vectors": m.multilingual is not None,
            },
        ],
    }


def serving_line(info: dict[str, Any]) -> str:
    """One log line: backend, index, size, models and whether their vectors are present."""
    english, other = info["models"]
    if other["vectors"]:
        languages = f"multilingual vectors present ({other['model']})"
    elif other["configured"]:
        languages = (
            "multilingual vectors absent: questions in other languages need `newsdesk index`"
        )
    else:
        languages = "multilingual model off (NEWSDESK_MULTILINGUAL=false)"
    return (
        f"serving the {info['backend']} index {info['index']} (generation {info['generation']}): "
        f"{info['articles']:,} articles, {info['passages']:,} passages; "
        f"model {english['model']}; {languages}"
    )
