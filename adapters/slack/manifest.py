"""gigroom's Slack app manifest (adapters/slack/manifest.yml, shipped in the package), read for what the code needs."""

from functools import cache
from importlib.resources import files
from typing import Any

import yaml


@cache
def manifest() -> dict[str, Any]:
    """The whole manifest, as Slack's manifest schema has it."""
    found = yaml.safe_load(files("adapters.slack").joinpath("manifest.yml").read_text(encoding="utf-8"))
    if not isinstance(found, dict):
        raise ValueError("adapters/slack/manifest.yml is not a Slack app manifest")
    return found


def bot_scopes() -> list[str]:
    """The bot scopes asked for at install."""
    return list(manifest()["oauth_config"]["scopes"]["bot"])


def slash_commands() -> list[str]:
    return [entry["command"] for entry in manifest()["features"].get("slash_commands", [])]


def bot_events() -> list[str]:
    return list(manifest()["settings"]["event_subscriptions"]["bot_events"])
