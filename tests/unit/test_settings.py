"""`.env.example` names every setting gigroom reads, by the name gigroom reads it under."""

from pathlib import Path

from bot.settings import Settings


def test_the_example_env_file_lists_every_setting() -> None:
    listed = {line.split("=", 1)[0] for line in (Path(__file__).parents[2] / ".env.example").read_text().splitlines()
              if line and not line.startswith("#")}
    expected = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        expected.add(alias.choices[0] if alias is not None else f"GIGROOM_{name.upper()}")  # type: ignore[union-attr]
    assert expected == listed
