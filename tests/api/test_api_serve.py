"""`meterread serve`: its defaults (HTTP process, one recognizer process per CPU, one thread each), the
settings its worker processes rebuild from the environment, and the recognizer process pool."""
from __future__ import annotations

import io
import os
import signal
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api import Settings, cli, create_app
from api.recognition import ReaderPool
from api.services import validate_photo
from api_helpers import upload
from recognizer import read_photo

SAMPLE = Path(__file__).resolve().parents[2] / "sample_images" / "meter_7_00003.jpg"


@pytest.fixture
def environ(monkeypatch):
    """os.environ as a copy for the test: serve() writes the workers' settings and thread variables to it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERREAD_") and k not in cli.THREAD_VARIABLES}
    monkeypatch.setattr(os, "environ", env)
    return env


@pytest.fixture
def uvicorn_runs(monkeypatch) -> list:
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_defaults_to_one_recognizer_process_per_cpu(monkeypatch, environ, uvicorn_runs, tmp_path):
    monkeypatch.setattr(cli, "cpu_count", lambda: 4)
    assert cli.main(["serve", "--port", "8123", "--data-dir", str(tmp_path)]) == 0
    (app, kw), = uvicorn_runs
    assert kw["port"] == 8123 and "workers" not in kw  # one HTTP process
    assert app.state.settings.reader_processes == 4
    assert Path(app.state.settings.data_dir) == tmp_path
    for name in cli.THREAD_VARIABLES:  # the recognizer processes start with these
        assert environ[name] == "1"


def test_readers_split_over_http_workers_and_can_be_set(monkeypatch, environ):
    monkeypatch.setattr(cli, "cpu_count", lambda: 4)
    base = Settings()
    assert cli.serve_settings(base, workers=2).reader_processes == 2
    assert cli.serve_settings(base, workers=8).reader_processes == 1
    assert cli.serve_settings(base, readers=3).reader_processes == 3
    assert cli.serve_settings(base, readers=0).reader_processes == 0  # read in the request threads
    environ["METERREAD_READER_PROCESSES"] = "1"
    assert cli.serve_settings(Settings.from_env()).reader_processes == 1


def test_several_http_workers_get_the_settings_and_a_migrated_database(monkeypatch, environ, uvicorn_runs, tmp_path):
    monkeypatch.setattr(cli, "cpu_count", lambda: 2)
    assert cli.main(["serve", "--workers", "2", "--data-dir", str(tmp_path)]) == 0
    (app, kw), = uvicorn_runs
    assert app == "api.asgi:app" and kw["workers"] == 2
    settings = Settings.from_env()  # what each worker builds
    assert settings.data_dir == tmp_path and settings.reader_processes == 1
    assert settings.migrate_on_startup is False  # migrated once, before the workers start
    assert (tmp_path / "meterread.sqlite3").is_file()


def test_settings_survive_the_environment(environ):
    settings = Settings(
        data_dir=Path("/srv/meterread"), database_url="postgresql+psycopg://u:p@db/m", photos_dir=Path("/srv/photos"),
        max_upload_bytes=1234, max_upload_pixels=5678, token_ttl_hours=1.5, max_per_day=9.5,
        max_consumption_no_dates=99.0, migrate_on_startup=False, recognizer_engine="tesseract",
        cors_origins=("https://a.example", "https://b.example"), reader_processes=3,
    )
    environ.update(settings.to_env())
    assert Settings.from_env() == settings


def test_long_thin_photos_pass_validation():
    """The check decodes at a small size; a very long thin photo must not shrink to nothing."""
    for size in [(9000, 32), (32, 9000), (100_000, 32)]:
        buf = io.BytesIO()
        Image.new("RGB", size, (200, 200, 200)).save(buf, "PNG")
        assert validate_photo(buf.getvalue(), settings=Settings()) == "png"


def test_uploads_are_read_in_the_recognizer_processes(settings):
    """With reader_processes the app reads photos in its pool: the same draft as read_photo in process."""
    from api import store
    from api.security import hash_password

    app = create_app(settings.with_(reader_processes=1))
    with TestClient(app) as client:
        assert isinstance(app.state.readers, ReaderPool)
        with app.state.sessionmaker() as s:
            account = store.create_account(s, number="P-1", name="Pool")
            meter = store.create_meter(s, account_id=account.id, serial="P-M", kind="water", integer_digits=5,
                                       fractional_digits=3)
            store.create_user(s, email="pool@example.org", password_hash=hash_password("long enough pw", settings=settings),
                              role="customer", account_ids=[account.id])
            s.commit()
            meter_id = meter.id
        tok = client.post("/api/auth/token", data={"username": "pool@example.org", "password": "long enough pw"})
        headers = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        data = SAMPLE.read_bytes()
        r = upload(client, headers, meter_id, data)
        assert r.status_code == 201, r.text
        expected = read_photo(data)
        draft = r.json()
        assert draft["status"] == expected.status
        assert [d["value"] for d in draft["digits"]] == [d.value for d in expected.digits]
        assert client.get(draft["crop_url"], headers=headers).status_code == 200
    assert app.state.readers is None  # stopped with the app


def test_a_dead_recognizer_process_fails_one_photo_and_the_pool_restarts():
    pool = ReaderPool(1)
    try:
        pool.warm_up()
        for pid in list(pool._pool._processes):
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            pool(SAMPLE.read_bytes())
        assert pool(SAMPLE.read_bytes()).status in ("accepted", "needs_review", "rejected")
    finally:
        pool.shutdown()
