"""Settings: flags over environment over .env; the token stays secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, encoder_kind, load_settings


def test_defaults() -> None:
    settings = load_settings()
    assert settings.data_dir == Path("data")
    assert settings.index_dir == Path(".newsdesk/index")
    assert settings.model == "all-MiniLM-L6-v2"
    assert settings.max_question_chars == 1000
    assert settings.admin_ids == frozenset()


def test_flags_beat_environment_which_beats_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text(
        "NEWSDESK_INDEX_DIR=from-dotenv\nNEWSDESK_DATA_DIR=dotenv-data\nNEWSDESK_MODEL=dot\n"
    )
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", "from-env")
    monkeypatch.setenv("NEWSDESK_MODEL", "env-model")
    settings = load_settings(index_dir=Path("from-flag"), model=None)
    assert settings.index_dir == Path("from-flag")
    assert settings.model == "env-model"
    assert settings.data_dir == Path("dotenv-data")


def test_admin_ids_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_ADMIN_IDS", "12, 34,56")
    assert load_settings().admin_ids == frozenset({12, 34, 56})


def test_the_token_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_TELEGRAM_TOKEN", "123:SECRET")
    settings = load_settings()
    assert "SECRET" not in repr(settings)
    assert "SECRET" not in str(settings.telegram_token)
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == "123:SECRET"


def test_a_bad_value_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_ADMIN_IDS", "12,alice")
    with pytest.raises(SettingsError, match="NEWSDESK_ADMIN_IDS"):
        load_settings()


def test_a_username_for_an_admin_id_says_what_an_id_is_and_how_to_find_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSDESK_ADMIN_IDS", "@alice")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("NEWSDESK_ADMIN_IDS: '@alice': admin ids are Telegram's numeric")
    assert "@userinfobot" in message
    assert "pydantic" not in message
    assert "\n" not in message


def test_encoder_and_device_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSDESK_ENCODER")  # set by conftest for the shared fixtures
    assert (load_settings().encoder, load_settings().device) == ("onnx-int8", None)
    monkeypatch.setenv("NEWSDESK_ENCODER", "torch")
    monkeypatch.setenv("NEWSDESK_DEVICE", "cuda")
    settings = load_settings()
    assert (settings.encoder, settings.device) == ("torch", "cuda")
    monkeypatch.delenv("NEWSDESK_ENCODER")
    assert encoder_kind(load_settings()) == "torch"  # a GPU named alone keeps its encoder
    assert encoder_kind(load_settings(device="cpu")) == "onnx-int8"
    monkeypatch.setenv("NEWSDESK_ENCODER", "tensorrt")
    with pytest.raises(SettingsError, match="NEWSDESK_ENCODER"):
        load_settings()
