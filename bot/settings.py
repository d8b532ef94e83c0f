"""Settings from the environment and `.env`: gigroom's own prefixed GIGROOM_, the rest by their usual names."""

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _one_of(*choices: str) -> AfterValidator:
    def check(value: str) -> str:
        if value.upper() not in choices:
            raise ValueError(f"should be one of {', '.join(choices)}")
        return value.upper()
    return AfterValidator(check)


def _web_address(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("should be a web address starting with http:// or https://")
    return value


WebAddress = Annotated[str, AfterValidator(_web_address)]


class Settings(BaseSettings):
    """Impossible values are refused when gigroom starts (the CLI names the setting in one line): a negative
    interval would make a loop spin at 100% CPU, a port outside 0-65535 fails only when the server binds."""

    model_config = SettingsConfigDict(env_prefix="GIGROOM_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///data/gigroom.db", validation_alias=AliasChoices("DATABASE_URL"))
    sqlite_synchronous: Annotated[str, _one_of("FULL", "NORMAL", "EXTRA")] = "FULL"  # never OFF
    files_dir: Path = Path("data/files")
    web_host: str = Field("127.0.0.1", min_length=1)
    web_port: int = Field(8080, ge=0, le=65535)  # 0: any free port
    public_url: WebAddress = "http://localhost:8080"
    sweep_interval: float = Field(10.0, ge=0.01, le=86400)
    relay_interval: float = Field(5.0, ge=0.01, le=86400)
    shell_community: str = Field("local", min_length=1)
    shell_user: str = Field("admin", min_length=1)
    shell_admins: str = "admin"
    log_level: Annotated[str, _one_of("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")] = "WARNING"
    secret_key: SecretStr | None = None  # signs upload links; made once and kept beside the files when unset

    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    slack_client_id: str | None = Field(None, validation_alias=AliasChoices("SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_CLIENT_SECRET"))
    slack_api_url: WebAddress = Field("https://slack.com/api/", validation_alias=AliasChoices("SLACK_API_URL"))
    slack_admins: str = ""  # Slack user ids, comma-separated, who are gigroom admins besides workspace admins
    discord_token: SecretStr | None = Field(None, validation_alias=AliasChoices("DISCORD_TOKEN"))

    @staticmethod
    def env_name(field: str) -> str:
        """The name a setting is read under: GIGROOM_WEB_PORT, or its usual name such as DATABASE_URL."""
        info = Settings.model_fields.get(field)
        alias = info.validation_alias if info else None
        if isinstance(alias, AliasChoices):
            return str(alias.choices[0])
        return f"GIGROOM_{field.upper()}" if info else field

    @property
    def platforms(self) -> list[str]:
        """The chat platforms with credentials set."""
        found = []
        if self.slack_bot_token or self.slack_client_id:
            found.append("slack")
        if self.discord_token:
            found.append("discord")
        return found
