"""Typed settings, read once at the edge: command-line flags, then NEWSDESK_* variables, then .env.

Everything below the edge receives plain arguments. The Telegram token is a secret: it never
appears in repr(), logs or error messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from embeddings import DEFAULT_MODEL, NewsdeskError
from embeddings.encoder import Encoder, load_encoder


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # The engine
    data_dir: Path = Path("data")
    index_dir: Path = Path(".newsdesk/index")
    model: str = DEFAULT_MODEL
    # torch: sentence-transformers (any device); onnx / onnx-int8: the same model exported to
    # ONNX Runtime (CPU), cached as a file in encoder_cache (default: <index_dir>/encoders).
    encoder: Literal["torch", "onnx", "onnx-int8"] = "torch"
    device: str | None = None  # e.g. "cuda"; default: the CPU
    encoder_cache: Path | None = None
    max_question_chars: int = Field(default=1000, ge=10)

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
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return frozenset({value})
        return value


def encoder_from(settings: Settings) -> Encoder:
    """The encoder the settings name (an index records it and only loads with the same one)."""
    return load_encoder(
        settings.encoder,
        settings.model,
        device=settings.device,
        cache_dir=settings.encoder_cache or settings.index_dir / "encoders",
    )


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
        raise SettingsError(f"{name}: {first['msg']}") from None
