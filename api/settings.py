"""Settings of the HTTP service, from arguments or the environment (``METERREAD_*``, ``DATABASE_URL``).

No secret lives here: bearer tokens are random and stored hashed in the database.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ENV_PREFIX = "METERREAD_"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name, default)


@dataclass(frozen=True)
class Settings:
    # folder for the embedded database and the photos (./var by default)
    data_dir: Path = Path("var")
    # SQLAlchemy URL; default: SQLite file under data_dir. PostgreSQL: postgresql+psycopg://user:pw@host/db
    database_url: str | None = None
    # photos, crops and debug images, named by sha256 of their content; default: data_dir/photos
    photos_dir: Path | None = None
    max_upload_bytes: int = 15 * 1024 * 1024
    max_upload_pixels: int = 50_000_000
    # a whole e-mail posted by the mail gateway (POST /api/inbound/email): base64 makes a photo a third
    # larger, and a phone may attach several
    max_mail_bytes: int = 40 * 1024 * 1024
    # the authserv-id our receiving mail server writes in Authentication-Results (RFC 8601): only its
    # passing DMARC/DKIM/SPF result lets an e-mailed reading be accepted without review (a From: address is
    # easily forged); None: every e-mailed reading goes to review
    mail_authserv_id: str | None = None
    token_ttl_hours: float = 24 * 7
    # plausibility of a reading against the previous one (same bounds as the recognizer's defaults)
    max_per_day: float = 200.0
    max_consumption_no_dates: float = 5000.0
    # apply Alembic migrations when the application starts
    migrate_on_startup: bool = True
    # argon2 cost (lower it in tests only)
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 64 * 1024
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    # recognizer engine (cnn | tesseract | auto); None: the recognizer's default
    recognizer_engine: str | None = None
    # recognizer worker processes (api/recognition.py); 0: photos are read in the request's thread, in this
    # process (tests, embedding). `meterread serve` sets one per CPU.
    reader_processes: int = 0

    @property
    def db_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # plain postgres URLs (as hosting platforms give them) -> the psycopg 3 driver we ship
            for plain in ("postgres://", "postgresql://"):
                if url.startswith(plain):
                    return "postgresql+psycopg://" + url[len(plain):]
            return url
        return f"sqlite:///{(Path(self.data_dir) / 'meterread.sqlite3').resolve()}"

    @property
    def photos_path(self) -> Path:
        return Path(self.photos_dir) if self.photos_dir else Path(self.data_dir) / "photos"

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """The environment :meth:`from_env` reads back into these settings (the argon2 costs, which only
        tests lower, have no variable). For server worker processes, which build their own settings."""
        env = {ENV_PREFIX + "DATA_DIR": str(self.data_dir)}
        if self.database_url:
            env[ENV_PREFIX + "DATABASE_URL"] = self.database_url
        if self.photos_dir:
            env[ENV_PREFIX + "PHOTOS_DIR"] = str(self.photos_dir)
        for name in ("max_upload_bytes", "max_upload_pixels", "max_mail_bytes", "token_ttl_hours", "max_per_day", "max_consumption_no_dates",
                     "reader_processes"):
            env[ENV_PREFIX + name.upper()] = repr(getattr(self, name))
        env[ENV_PREFIX + "MIGRATE_ON_STARTUP"] = "1" if self.migrate_on_startup else "0"
        if self.recognizer_engine:
            env[ENV_PREFIX + "RECOGNIZER_ENGINE"] = self.recognizer_engine
        if self.mail_authserv_id:
            env[ENV_PREFIX + "MAIL_AUTHSERV_ID"] = self.mail_authserv_id
        if self.cors_origins:
            env[ENV_PREFIX + "CORS_ORIGINS"] = ",".join(self.cors_origins)
        return env

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        values: dict = {}
        if v := _env("DATA_DIR"):
            values["data_dir"] = Path(v)
        if v := (_env("DATABASE_URL") or os.environ.get("DATABASE_URL")):
            values["database_url"] = v
        if v := _env("PHOTOS_DIR"):
            values["photos_dir"] = Path(v)
        for name, conv in (
            ("max_upload_bytes", int),
            ("max_upload_pixels", int),
            ("max_mail_bytes", int),
            ("token_ttl_hours", float),
            ("max_per_day", float),
            ("max_consumption_no_dates", float),
            ("reader_processes", int),
        ):
            if v := _env(name.upper()):
                values[name] = conv(v)
        if v := _env("MIGRATE_ON_STARTUP"):
            values["migrate_on_startup"] = v.lower() not in ("0", "false", "no", "off")
        if v := _env("RECOGNIZER_ENGINE"):
            values["recognizer_engine"] = v
        if v := _env("MAIL_AUTHSERV_ID"):
            values["mail_authserv_id"] = v
        if v := _env("CORS_ORIGINS"):
            values["cors_origins"] = tuple(o.strip() for o in v.split(",") if o.strip())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
