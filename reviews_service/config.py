"""Settings, read from the environment once per process and passed in explicitly."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reviews_service.errors import ReviewsError
from reviews_service.mail import recipients

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development", "placeholder", "xxx"}
DEV_SECRET = "development-only-secret-key"
MIN_SECRET = 16
HOW_TO_MAKE_ONE = "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


class SettingsInvalid(ReviewsError):
    """The environment's settings break a rule: each line names the variable and the rule, never a value."""

    title = "Invalid settings"
    type_slug = "invalid-settings"


class Settings(BaseSettings):
    """Every setting of the service (see the README's settings table)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    env: Literal["development", "test", "production"] = Field("development", alias="REVIEWS_ENV")
    mongodb_url: SecretStr | None = Field(None, alias="MONGODB_URL")  # it may carry a password
    mongodb_db: str = Field("reviews", alias="MONGODB_DB")
    data_dir: str = Field("./data", alias="REVIEWS_DATA_DIR")  # the embedded store's files; ":memory:" keeps none
    admin_token: SecretStr | None = Field(None, alias="REVIEWS_ADMIN_TOKEN")
    secret_key: SecretStr = Field(SecretStr(DEV_SECRET), alias="REVIEWS_SECRET_KEY")
    trustpilot_api_url: str = Field("https://api.trustpilot.com/v1", alias="TRUSTPILOT_API_URL")
    trustpilot_api_key: SecretStr | None = Field(None, alias="TRUSTPILOT_API_KEY")
    trustpilot_api_secret: SecretStr | None = Field(None, alias="TRUSTPILOT_API_SECRET")  # the private API (OAuth)
    kiyoh_api_url: str = Field("https://www.kiyoh.com", alias="KIYOH_API_URL")  # or https://www.klantenvertellen.nl
    kiyoh_api_token: SecretStr | None = Field(None, alias="KIYOH_API_TOKEN")  # the X-Publication-Api-Token
    smtp_url: SecretStr | None = Field(None, alias="SMTP_URL")  # it may carry a password
    digest_recipients: str = Field("", alias="DIGEST_RECIPIENTS")
    digest_time: str = Field("08:00", alias="DIGEST_TIME")
    digest_timezone: str = Field("Europe/Amsterdam", alias="DIGEST_TIMEZONE")
    # one-star alerts (reviews_service.alerts): a signed webhook POST and/or an e-mail, each on when configured
    alert_webhook_url: str = Field("", alias="ALERT_WEBHOOK_URL")
    alert_webhook_secret: SecretStr | None = Field(None, alias="ALERT_WEBHOOK_SECRET")  # signs the body
    alert_recipients: str | None = Field(None, alias="ALERT_RECIPIENTS")  # unset: DIGEST_RECIPIENTS
    mail_from: str = Field("reviews@localhost", alias="MAIL_FROM")  # the From of alerts (and digests)
    public_url: str = Field("http://127.0.0.1:8000", alias="REVIEWS_PUBLIC_URL")  # links in e-mails point here
    alert_every_seconds: float = Field(10.0, gt=0, le=60, alias="REVIEWS_ALERT_EVERY_SECONDS")
    flags_every_minutes: float = Field(15.0, gt=0, alias="REVIEWS_FLAGS_EVERY_MINUTES")  # score drops, bursts
    lease_seconds: float = Field(120.0, gt=0, alias="REVIEWS_LEASE_SECONDS")  # a dead scheduler's jobs wait this
    scheduler_reload_seconds: float = Field(60.0, gt=0, alias="REVIEWS_SCHEDULER_RELOAD_SECONDS")
    scheduler_workers: int = Field(4, ge=1, le=64, alias="REVIEWS_SCHEDULER_WORKERS")  # jobs at once, per process
    # /ready waits for a scheduler's heartbeat; false for a deployment that runs none on purpose (readiness.py)
    ready_scheduler: bool = Field(True, alias="REVIEWS_READY_SCHEDULER")
    max_body_bytes: int = Field(32 * 1024 * 1024, alias="REVIEWS_MAX_BODY_BYTES")  # imports and review batches
    max_json_body_bytes: int = Field(2 * 1024 * 1024, alias="REVIEWS_MAX_JSON_BODY_BYTES")  # other admin calls
    max_public_body_bytes: int = Field(1024 * 1024, alias="REVIEWS_MAX_PUBLIC_BODY_BYTES")  # forms, hooks
    public_posts_per_minute: int = Field(60, alias="REVIEWS_PUBLIC_POSTS_PER_MINUTE")  # per client; 0: no limit
    validate_fetch_seconds: float = Field(10.0, alias="REVIEWS_VALIDATE_FETCH_SECONDS")  # the whole fetch
    validate_fetches: int = Field(4, alias="REVIEWS_VALIDATE_FETCHES")  # URL validations at once
    max_text_chars: int = Field(20_000, alias="REVIEWS_MAX_TEXT_CHARS")
    load_demo: bool = Field(True, alias="REVIEWS_LOAD_DEMO")
    validate_private_urls: bool = Field(False, alias="REVIEWS_VALIDATE_PRIVATE_URLS")
    # invitation-mail: how often the scheduler looks for due invitation e-mails and reminders (at most an hour)
    invitations_every_seconds: float = Field(60.0, gt=0, le=3600, alias="REVIEWS_INVITATIONS_EVERY_SECONDS")
    # review form (reviews_service/api/forms.py): a form's body carries up to 3 photos per product
    max_form_body_bytes: int = Field(25 * 1024 * 1024, ge=64 * 1024, alias="REVIEWS_MAX_FORM_BODY_BYTES")
    form_posts_per_token: int = Field(10, ge=0, le=1000, alias="REVIEWS_FORM_POSTS_PER_TOKEN")  # per 10 min; 0: off
    # photos decoded at once per process (a phone photo costs 0.2 s and up to 64 MB while it is decoded); a form
    # waits up to REVIEWS_PHOTO_WAIT_SECONDS for a place, then asks the buyer to send the photos again
    photo_decodes: int = Field(2, ge=1, le=32, alias="REVIEWS_PHOTO_DECODES")
    photo_wait_seconds: float = Field(20.0, ge=0, le=120, alias="REVIEWS_PHOTO_WAIT_SECONDS")
    # personal data (reviews_service.privacy): invitations are deleted, and reviews lose their e-mail address and order
    # reference, this many days after the order / the review; 0 keeps them. Two years: a warranty's claims period.
    retention_days: int = Field(730, ge=0, le=36_500, alias="REVIEWS_RETENTION_DAYS")
    # logs (reviews_service/logs.py): one JSON object per line, or plain text; unset: json in production only
    log_format: Literal["json", "text"] | None = Field(None, alias="REVIEWS_LOG_FORMAT")
    # GET /metrics asks for `Authorization: Bearer <this>` when set; unset, it answers anyone who reaches the API
    metrics_token: SecretStr | None = Field(None, alias="REVIEWS_METRICS_TOKEN")

    @property
    def embedded(self) -> bool:
        """True when the store runs inside this process (no MONGODB_URL): on disk, or in memory."""
        return not self.mongodb_url

    @property
    def ephemeral(self) -> bool:
        """True when the data lives in this process's memory only (embedded with REVIEWS_DATA_DIR=:memory:)."""
        return self.embedded and self.data_dir.strip() == ":memory:"

    @property
    def alert_addresses(self) -> list[str]:
        """Who gets one-star alerts by e-mail: ALERT_RECIPIENTS, else DIGEST_RECIPIENTS (validated already)."""
        text = self.digest_recipients if self.alert_recipients is None else self.alert_recipients
        return recipients(text)

    @model_validator(mode="after")
    def _alert_rules(self) -> Settings:
        # checked at start-up, so a typo is a clear message then instead of alerts that silently never leave
        rules = []
        url = self.alert_webhook_url.strip()
        if url and not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url):
            rules.append("ALERT_WEBHOOK_URL must be an http:// or https:// URL, e.g. https://hooks.example/reviews")
        secret = self.alert_webhook_secret.get_secret_value() if self.alert_webhook_secret else ""
        if url and len(secret) < MIN_SECRET:
            rules.append(
                f"ALERT_WEBHOOK_SECRET must be set with {MIN_SECRET}+ random characters when ALERT_WEBHOOK_URL is "
                f"set: it signs every alert so the receiver can tell it is ours ({HOW_TO_MAKE_ONE})"
            )
        elif url and secret.strip().lower() in PLACEHOLDER_SECRETS:
            rules.append("ALERT_WEBHOOK_SECRET is a placeholder; use random characters")
        for name, text in (("ALERT_RECIPIENTS", self.alert_recipients), ("DIGEST_RECIPIENTS", self.digest_recipients)):
            try:
                recipients(text or "")
            except ValueError as exc:
                rules.append(f"{name}: {exc}")
        if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", self.public_url.strip()):
            rules.append("REVIEWS_PUBLIC_URL must be the service's http(s) base URL, e.g. https://reviews.example")
        if "@" not in self.mail_from or any(c in self.mail_from for c in "\r\n"):
            rules.append("MAIL_FROM must be an e-mail address, e.g. reviews@flinders.example")
        if rules:
            raise ValueError("; ".join(rules))
        return self

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        # no placeholder secrets, no throw-away store
        if self.env == "production":
            rules = [_secret_rule("REVIEWS_SECRET_KEY", self.secret_key, required=True)]
            rules.append(_secret_rule("REVIEWS_ADMIN_TOKEN", self.admin_token, required=False))
            rules.append(_secret_rule("REVIEWS_METRICS_TOKEN", self.metrics_token, required=False))
            if self.ephemeral:
                rules.append(
                    "REVIEWS_DATA_DIR is :memory: with no MONGODB_URL, a throw-away store that loses every "
                    "review when the process stops; production needs a data directory (e.g. "
                    "REVIEWS_DATA_DIR=/var/lib/reviews) or MONGODB_URL=mongodb://..."
                )
            broken = [rule for rule in rules if rule]
            if broken:
                raise ValueError("; ".join(broken))
        return self


def _secret_rule(name: str, secret: SecretStr | None, required: bool) -> str:
    """Which production rule `secret` breaks ('' if none), in words that never contain its value."""
    value = secret.get_secret_value() if secret is not None else None
    if value is None or value == DEV_SECRET:
        return (
            f"{name} is not set; production needs a random value of {MIN_SECRET}+ characters ({HOW_TO_MAKE_ONE})"
            if required
            else ""
        )
    if value.strip().lower() in PLACEHOLDER_SECRETS:
        return (
            f"{name} is a placeholder such as 'changeme'; production needs a random value of {MIN_SECRET}+ characters"
        )
    if len(value) < MIN_SECRET:
        return f"{name} is shorter than {MIN_SECRET} characters; production needs {MIN_SECRET}+ random characters"
    return ""


def load_settings() -> Settings:
    """Settings from the environment; a broken rule is a SettingsInvalid naming each variable and its rule.

    pydantic's own message quotes the input (`input_value=...`), which would print secrets: it is never shown.
    """
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(part) for part in error.get("loc", ()))
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            lines.append(f"{where}: {message}" if where else message)
        raise SettingsInvalid("invalid settings: " + "; ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return load_settings()
