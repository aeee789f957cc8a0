"""Settings, read from the environment once per process and passed in explicitly."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development", "placeholder", "xxx"}
DEV_SECRET = "development-only-secret-key"


class Settings(BaseSettings):
    """Every setting of the service (see the README's settings table)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    env: Literal["development", "test", "production"] = Field("development", alias="REVIEWS_ENV")
    mongodb_url: str | None = Field(None, alias="MONGODB_URL")
    mongodb_db: str = Field("reviews", alias="MONGODB_DB")
    admin_token: SecretStr | None = Field(None, alias="REVIEWS_ADMIN_TOKEN")
    secret_key: SecretStr = Field(SecretStr(DEV_SECRET), alias="REVIEWS_SECRET_KEY")
    trustpilot_api_url: str = Field("https://api.trustpilot.com/v1", alias="TRUSTPILOT_API_URL")
    trustpilot_api_key: SecretStr | None = Field(None, alias="TRUSTPILOT_API_KEY")
    smtp_url: str | None = Field(None, alias="SMTP_URL")
    digest_recipients: str = Field("", alias="DIGEST_RECIPIENTS")
    digest_time: str = Field("08:00", alias="DIGEST_TIME")
    digest_timezone: str = Field("Europe/Amsterdam", alias="DIGEST_TIMEZONE")
    max_body_bytes: int = Field(32 * 1024 * 1024, alias="REVIEWS_MAX_BODY_BYTES")  # imports and review batches
    max_json_body_bytes: int = Field(2 * 1024 * 1024, alias="REVIEWS_MAX_JSON_BODY_BYTES")  # other admin calls
    max_public_body_bytes: int = Field(1024 * 1024, alias="REVIEWS_MAX_PUBLIC_BODY_BYTES")  # forms, hooks
    public_posts_per_minute: int = Field(60, alias="REVIEWS_PUBLIC_POSTS_PER_MINUTE")  # per client; 0: no limit
    validate_fetch_seconds: float = Field(10.0, alias="REVIEWS_VALIDATE_FETCH_SECONDS")  # the whole fetch
    validate_fetches: int = Field(4, alias="REVIEWS_VALIDATE_FETCHES")  # URL validations at once
    max_text_chars: int = Field(20_000, alias="REVIEWS_MAX_TEXT_CHARS")
    load_demo: bool = Field(True, alias="REVIEWS_LOAD_DEMO")
    validate_private_urls: bool = Field(False, alias="REVIEWS_VALIDATE_PRIVATE_URLS")

    @property
    def embedded(self) -> bool:
        """True when data lives in this process's memory (no MONGODB_URL)."""
        return not self.mongodb_url

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env == "production":
            key = self.secret_key.get_secret_value()
            if key == DEV_SECRET or key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < 16:
                raise ValueError(
                    "REVIEWS_SECRET_KEY is unset or a placeholder; set a random value of 16+ characters "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) in production"
                )
            token = self.admin_token.get_secret_value() if self.admin_token else None
            if token is not None and (token.strip().lower() in PLACEHOLDER_SECRETS or len(token) < 16):
                raise ValueError("REVIEWS_ADMIN_TOKEN is a placeholder; use 16+ random characters in production")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
