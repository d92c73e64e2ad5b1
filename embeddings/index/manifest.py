"""What every generation records about itself, whichever backend keeps it: the manifest.

The directory backend writes it as manifest.json (with a checksum and stamp of every file,
see `embeddings.index.directory.checksums`); PostgreSQL keeps it as jsonb beside the
generation. Both read it back through `Manifest.from_dict`, so both refuse the same
incompatible indexes with the same words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from embeddings.errors import IndexIncompatibleError

# 2: the manifest holds a checksum of every other file in the generation.
# 3: base and delta segments, files.json, BM25 as term counts, passages.speaker.
FORMAT_VERSION = 3
# Manifests written before the multilingual vectors' size was recorded leave it out; their
# one multilingual model, multilingual-e5-small, makes vectors of this size.
_UNRECORDED_MULTILINGUAL_DIMENSION = 384


@dataclass(frozen=True, slots=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    count: int  # passages
    sentences: int
    articles: int
    created: str
    sources: list[str]
    checksums: dict[str, str]  # path inside the generation → blake2b of its bytes
    # The model behind the multilingual vectors, or None when the index has none.
    multilingual: str | None = None
    # Rows written in each segment, [passages, sentences], dead ones included.
    segments: dict[str, list[int]] = field(default_factory=dict)
    # path → [size, mtime_ns, inode] of each file when its checksum was taken, and when that
    # was: a file still matching its stamp is not read again at load.
    stamps: dict[str, list[int]] = field(default_factory=dict)
    stamped_ns: int = 0
    # The size of the multilingual vectors (None when the index has none).
    multilingual_dimension: int | None = None
    # The passage cutting that wrote it (text.chunking.CHUNKING_VERSION; 0 before it was
    # recorded): a generation cut another way is rebuilt whole, not updated in place.
    chunking: int = 0

    @classmethod
    def from_dict(cls, data: object) -> Manifest:
        """The manifest `data` holds; IndexIncompatibleError for another format or a
        manifest that lacks a field."""
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            found = data.get("format_version") if isinstance(data, dict) else None
            raise IndexIncompatibleError(
                f"the index is format {found!r}; this newsdesk reads format {FORMAT_VERSION}"
            )
        values = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        if values.get("multilingual") and values.get("multilingual_dimension") is None:
            values["multilingual_dimension"] = _UNRECORDED_MULTILINGUAL_DIMENSION
        try:
            return cls(**values)
        except TypeError as error:
            raise IndexIncompatibleError(f"the index manifest lacks {error}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check_model(self, model: str, dimension: int) -> None:
        """IndexIncompatibleError unless the index was built with this model."""
        if self.model != model or self.dimension != dimension:
            raise IndexIncompatibleError(
                f"the index was built with {self.model} ({self.dimension}d) "
                f"but the configured model is {model} ({dimension}d)"
            )
