"""CLI verbs, migrations, settings, value helpers."""
from __future__ import annotations

import argparse
import io
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from api import Settings, cli, create_app
from api.db import make_engine, migrate
from api.models import Base
from api.readings import ValueFormatError, check_plausibility, normalize_value
from api_helpers import upload


def test_migrations_match_the_models(settings):
    engine = make_engine(settings.db_url)
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_cli_functions_and_demo(settings):
    assert cli.init_db(settings=settings) == settings.db_url
    acc = cli.create_account("A-77", "Grace", settings=settings)
    meter = cli.create_meter("A-77", "E-77", "electricity", 6, 1, ["T1", "T2"], settings=settings)
    cli.create_user("grace@example.org", "long enough pw", "customer", ["A-77"], settings=settings)
    cli.create_user("boss@example.org", "long enough pw", "operator", settings=settings)
    with pytest.raises(SystemExit):
        cli.create_account("A-77", "again", settings=settings)
    with pytest.raises(SystemExit):
        cli.create_meter("NOPE", "E-78", "electricity", 6, settings=settings)
    with pytest.raises(SystemExit):
        cli.create_user("x@example.org", "long enough pw", "king", settings=settings)
    out = io.StringIO()
    info = cli.demo(settings=settings, out=out)
    assert "customer@demo.meterread" in out.getvalue()
    again = cli.demo(settings=settings, out=io.StringIO())  # idempotent: same account and meter, new passwords
    assert again["meter_id"] == info["meter_id"]

    with TestClient(create_app(settings)) as c:
        tok = c.post("/api/auth/token", data={"username": "grace@example.org", "password": "long enough pw"}).json()
        grace = {"Authorization": f"Bearer {tok['access_token']}"}
        meters = c.get("/api/meters", headers=grace).json()
        assert [(m["id"], m["serial"], [r["name"] for r in m["registers"]]) for m in meters] == [(meter, "E-77", ["T1", "T2"])]
        assert c.get(f"/api/accounts/{acc}", headers=grace).json()["name"] == "Grace"
        demo_customer = again["users"]["customer"]
        tok = c.post("/api/auth/token", data={"username": demo_customer["email"], "password": demo_customer["password"]})
        assert tok.status_code == 200
        headers = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        assert upload(c, headers, again["meter_id"]).status_code == 201


def test_add_subcommands(settings, capsys):
    parser = argparse.ArgumentParser(prog="meterread")
    cli.add_subcommands(parser.add_subparsers(dest="command"))
    db = ["--database-url", settings.db_url, "--data-dir", str(settings.data_dir)]
    for argv in (
        ["init-db", *db],
        ["create-account", "B-1", "Bea", *db],
        ["create-meter", "B-1", "G-1", "--kind", "gas", "--integer-digits", "5", "--fractional-digits", "3", *db],
        ["create-user", "bea@example.org", "--password", "long enough pw", "--account", "B-1", *db],
        ["demo", *db],
    ):
        args = parser.parse_args(argv)
        assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "meter G-1 created" in out and "operator@demo.meterread" in out
    args = parser.parse_args(["serve", "--port", "9999"])
    assert args.func.__name__ == "_cmd_serve" and args.port == 9999 and args.host == "127.0.0.1"


def test_settings_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("METERREAD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("METERREAD_DATABASE_URL", raising=False)
    monkeypatch.setenv("METERREAD_MAX_UPLOAD_BYTES", "1234")
    s = Settings.from_env()
    assert s.db_url == f"sqlite:///{(tmp_path / 'meterread.sqlite3').resolve()}"
    assert s.photos_path == tmp_path / "photos" and s.max_upload_bytes == 1234
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@h/db")
    assert Settings.from_env().db_url == "postgresql+psycopg://u:p@h/db"
    assert Settings().db_url.endswith("var/meterread.sqlite3")
    assert Settings(database_url="postgresql://u:p@h/db").db_url == "postgresql+psycopg://u:p@h/db"


def test_create_app_builds_nothing_at_import():
    import importlib

    import api.app

    importlib.reload(api.app)
    assert not hasattr(api.app, "app") and not hasattr(api.app, "engine")


@pytest.mark.parametrize("raw,expected", [
    ("414.676", "00414.676"), ("00414,676", "00414.676"), ("414", "00414.000"), (" 7.5 ", "00007.500"),
    ("414.6760", "00414.676"), ("0", "00000.000"),
])
def test_normalize_value(raw, expected):
    assert normalize_value(raw, integer_digits=5, fractional_digits=3) == expected


@pytest.mark.parametrize("raw", ["", "abc", "1.2.3", "-5", "123456", "1.2345", "4 14"])
def test_normalize_value_refuses(raw):
    with pytest.raises(ValueFormatError):
        normalize_value(raw, integer_digits=5, fractional_digits=3)


def test_plausibility_rules():
    kw = dict(integer_digits=5, max_per_day=200.0, max_consumption_no_dates=5000.0)
    d0, d1 = date(2024, 1, 1), date(2024, 1, 31)
    assert check_plausibility("00414.676", previous=None, previous_date=None, reading_date=d1, **kw).ok
    ok = check_plausibility("00500.000", previous="00400.000", previous_date=d0, reading_date=d1, **kw)
    assert ok.ok and ok.consumption == 100.0 and ok.days == 30
    assert not check_plausibility("00399.000", previous="00400.000", previous_date=d0, reading_date=d1, **kw).ok
    roll = check_plausibility("00001.000", previous="99999.000", previous_date=d0, reading_date=d1, **kw)
    assert roll.ok and roll.rollover and roll.consumption == 2.0
    assert not check_plausibility("09000.000", previous="00400.000", previous_date=d0, reading_date=d1, **kw).ok
    assert not check_plausibility("09000.000", previous="00400.000", previous_date=None, reading_date=None, **kw).ok
    assert not check_plausibility("00500.000", previous="00400.000", previous_date=d1, reading_date=d0, **kw).ok


def test_commands_do_not_print_the_database_password(tmp_path, capsys):
    settings = Settings(data_dir=tmp_path, argon2_time_cost=1, argon2_memory_cost=8 * 1024)
    assert cli._shown("postgresql+psycopg://mr:s3cret@db.example:5432/mr") == "postgresql+psycopg://mr:***@db.example:5432/mr"
    cli.demo(settings=settings)
    out = capsys.readouterr().out
    assert "Database: sqlite:///" in out and "s3cret" not in out


def test_receive_mail_reads_a_piped_message_with_the_real_recognizer(settings, tmp_path, capsys, monkeypatch):
    """`meterread receive-mail -` as a mail server would call it: the demo customer mails a photo of the demo
    meter (the project's synthetic meter 7, 5+3 digits); the reply and the submission come back."""
    from email.message import EmailMessage
    from pathlib import Path

    cli.demo(settings=settings, out=io.StringIO())
    photo = (Path(__file__).resolve().parents[2] / "sample_images" / "meter_7_00003.jpg").read_bytes()
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "customer@demo.meterread", "reading", "<m1@demo.meterread>"
    msg.set_content("photo attached")
    msg.add_attachment(photo, maintype="image", subtype="jpeg", filename="meter.jpg")
    got = cli.receive_mail(msg.as_bytes(), settings=settings)
    assert got["status"] in ("accepted", "in_review", "not_read") and got["message"]
    if got["status"] == "not_read":
        assert got["submission_id"] is None and got["draft_id"]
    else:
        assert got["submission_id"] and got["reading"].count(".") == 1  # normalised to the meter's 5+3 digits
    assert cli.receive_mail(msg.as_bytes(), settings=settings)["replayed"] is (got["status"] != "not_read")
    stranger = msg.as_bytes().replace(b"customer@demo.meterread", b"who@else.example")
    with pytest.raises(SystemExit, match="unknown_sender"):
        cli.receive_mail(stranger, settings=settings)
    # the verb itself, reading the message from standard input
    eml = tmp_path / "m.eml"
    eml.write_bytes(msg.as_bytes().replace(b"<m1@", b"<m2@"))
    parser = argparse.ArgumentParser()
    cli.add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["receive-mail", str(eml), "--data-dir", str(settings.data_dir)])
    monkeypatch.setenv("METERREAD_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("METERREAD_PHOTOS_DIR", str(settings.photos_path))
    assert args.func(args) == 0
    assert '"meter_serial"' in capsys.readouterr().out
