"""`.env.example` names every setting gigroom reads, by the name gigroom reads it under."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_the_example_env_file_lists_every_setting() -> None:
    listed = {line.split("=", 1)[0] for line in (Path(__file__).parents[2] / ".env.example").read_text().splitlines()
              if line and not line.startswith("#")}
    expected = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        expected.add(alias.choices[0] if alias is not None else f"GIGROOM_{name.upper()}")  # type: ignore[union-attr]
    assert expected == listed


IMPOSSIBLE = [("web_port", "abc"), ("web_port", 65536), ("web_port", -1), ("sweep_interval", -1),
              ("sweep_interval", 0), ("relay_interval", -1), ("relay_interval", 0), ("sqlite_synchronous", "OFF"),
              ("log_level", "LOUD"), ("public_url", "localhost:8080"),
              ("web_host", ""), ("shell_community", ""), ("shell_user", "")]


@pytest.mark.parametrize(("field", "value"), IMPOSSIBLE)
def test_an_impossible_setting_is_refused_at_start_naming_it(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**{field: value})
    assert [error["loc"][0] for error in refused.value.errors()] == [field]


def test_a_negative_sweep_interval_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """It made the timer loop spin at 100% CPU."""
    monkeypatch.setenv("GIGROOM_SWEEP_INTERVAL", "-1")
    with pytest.raises(ValidationError, match="sweep_interval"):
        Settings()


@pytest.mark.parametrize(("field", "value"), [("web_port", 0), ("web_port", 65535), ("sweep_interval", 0.5),
                                              ("sqlite_synchronous", "normal"), ("log_level", "debug"),
                                              ("public_url", "https://gig.example.com")])
def test_possible_settings_at_the_edges_are_taken(field: str, value: object) -> None:
    Settings(**{field: value})


def test_every_setting_has_the_name_it_is_read_under() -> None:
    assert Settings.env_name("web_port") == "GIGROOM_WEB_PORT"
    assert Settings.env_name("database_url") == "DATABASE_URL"
