"""Settings from the environment and `.env`: gigroom's own prefixed GIGROOM_, the rest by their usual names."""

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GIGROOM_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///data/gigroom.db", validation_alias=AliasChoices("DATABASE_URL"))
    sqlite_synchronous: str = "FULL"
    files_dir: Path = Path("data/files")
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_url: str = "http://localhost:8080"
    sweep_interval: float = 10.0
    relay_interval: float = 5.0
    shell_community: str = "local"
    shell_user: str = "admin"
    shell_admins: str = "admin"
    log_level: str = "WARNING"
    secret_key: SecretStr | None = None  # signs upload links; made once and kept beside the files when unset

    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    slack_client_id: str | None = Field(None, validation_alias=AliasChoices("SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_CLIENT_SECRET"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=AliasChoices("SLACK_API_URL"))
    slack_admins: str = ""  # Slack user ids, comma-separated, who are gigroom admins besides workspace admins
    discord_token: SecretStr | None = Field(None, validation_alias=AliasChoices("DISCORD_TOKEN"))

    @property
    def platforms(self) -> list[str]:
        """The chat platforms with credentials set."""
        found = []
        if self.slack_bot_token or self.slack_client_id:
            found.append("slack")
        if self.discord_token:
            found.append("discord")
        return found
