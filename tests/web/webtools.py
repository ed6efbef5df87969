"""Support of the browser tests and of scripts/screenshots.py: the app served by uvicorn in a thread on a
free port (temporary data folder, SQLite), a stand-in reader, people and a meter made through the
library (``api.cli``), and headless Chromium launched through Playwright.

The stand-in reader replaces ``recognizer.read_photo`` (via the ``get_reader`` dependency) so what the
pages show does not depend on the recognizer's accuracy: for a photo of ``sample_images/`` it cuts the
digit window out at the corners recorded in ``sample_images/corners.jsonl`` and draws them on a debug
overlay, and returns the reading it is told to.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_images"
PASSWORD = "correct horse battery"

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _executable(path: str | None) -> bool:
    return bool(path) and Path(path).is_file() and os.access(path, os.X_OK)


def find_chromium() -> str | None:
    """$MR_CHROMIUM when set (None if it is not an executable: the tests skip), else a chromium on PATH,
    else Debian's /usr/bin/chromium; None when there is none."""
    explicit = os.environ.get("MR_CHROMIUM")
    if explicit:
        return explicit if _executable(explicit) else None
    for candidate in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if _executable(candidate):
            return candidate
    return None


def launch(playwright, executable: str):
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


# ---- stand-in reader ---------------------------------------------------------------------------------


def _sample_corners() -> dict[str, dict]:
    out = {}
    path = SAMPLES / "corners.jsonl"
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                out[rec["sha256"]] = rec
    return out


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def window_images(data: bytes) -> dict[str, bytes]:
    """Crop and debug overlay of a sample photo from its recorded window corners (whole photo if unknown)."""
    import cv2
    import numpy as np
    from PIL import Image, ImageDraw, ImageOps

    photo = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    rec = _sample_corners().get(hashlib.sha256(data).hexdigest())
    if rec is None:
        return {"crop": _png(photo), "debug": _png(photo)}
    quad = np.array(rec["window"], dtype=np.float32)
    w = int(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])))
    h = int(max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])))
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    crop = cv2.warpPerspective(np.asarray(photo), cv2.getPerspectiveTransform(quad, dst), (w, h))
    debug = photo.copy()
    draw = ImageDraw.Draw(debug)
    draw.polygon([tuple(p) for p in quad.tolist()], outline=(40, 220, 90), width=4)
    n = rec.get("digits") or 0
    for i in range(1, n):  # the digit cells, evenly spaced along the window
        t = i / n
        top = quad[0] + (quad[1] - quad[0]) * t
        bottom = quad[3] + (quad[2] - quad[3]) * t
        draw.line([tuple(top), tuple(bottom)], fill=(255, 200, 40), width=2)
    return {"crop": _png(Image.fromarray(crop)), "debug": _png(debug)}


@dataclass
class StandInReader:
    """Returns ``reading`` with every digit at ``confidence`` except those in ``unsure`` (index -> confidence).
    ``status``/``reason`` as the recognizer would say them; ``reading=None`` for "no digit window";
    ``delay`` seconds of "reading" so the progress indicator can be seen."""

    reading: str | None = "0003.27"
    confidence: float = 0.98
    unsure: dict[int, float] = field(default_factory=dict)
    status: str = "accepted"
    reason: str | None = None
    delay: float = 0.0
    turned: bool = False
    rotation: int = 0
    calls: int = 0

    def set(self, **kwargs) -> "StandInReader":
        defaults = StandInReader()
        for name in ("reading", "confidence", "unsure", "status", "reason", "delay", "turned", "rotation"):
            setattr(self, name, kwargs.pop(name, getattr(defaults, name)))
        assert not kwargs, kwargs
        return self

    def __call__(self, source, **kwargs):
        from recognizer import DigitRead, ReadResult, Register

        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        images = window_images(data) if kwargs.get("with_images") else {}
        if self.reading is None:
            return ReadResult(status="rejected", reading=None, confidence=0.0, registers=(),
                              reason=self.reason, elapsed_ms=1.0, images={"debug": images["debug"]} if images else {})
        whole, _, frac = self.reading.partition(".")
        chars = [(c, False) for c in whole] + [(c, True) for c in frac]
        digits = tuple(
            DigitRead(c, self.unsure.get(i, self.confidence), is_frac) for i, (c, is_frac) in enumerate(chars)
        )
        conf = 1.0
        for d in digits:
            conf *= d.confidence
        reg = Register(reading=self.reading, confidence=conf, digits=digits, kind="drum",
                       window=((0, 0), (1, 0), (1, 1), (0, 1)))
        return ReadResult(status=self.status, reading=self.reading, confidence=conf, registers=(reg,),
                          reason=self.reason, elapsed_ms=1.0, images=images, turned=self.turned,
                          rotation=self.rotation)


# ---- the app, served ---------------------------------------------------------------------------------


@dataclass
class World:
    base_url: str
    customer: str
    reviewer: str
    operator: str
    account: int
    meter: int
    reader: StandInReader
    settings: object


class LiveServer:
    """``create_app`` on a fresh SQLite database in ``data_dir``, served by uvicorn in a daemon thread."""

    def __init__(self, data_dir: Path, *, reader: StandInReader | None = None):
        from api import Settings, create_app
        from api.deps import get_reader

        self.settings = Settings(
            data_dir=data_dir,
            database_url=f"sqlite:///{data_dir / 'meterread.sqlite3'}",
            photos_dir=data_dir / "photos",
            argon2_time_cost=1,
            argon2_memory_cost=8 * 1024,
        )
        self.app = create_app(self.settings)
        self.reader = reader
        if reader is not None:
            self.app.dependency_overrides[get_reader] = lambda: reader
        self._thread = None
        self._server = None
        self.base_url = ""

    def start(self) -> "LiveServer":
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        self._sock = sock
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._sock.close()
        self.app.state.engine.dispose()


def make_world(server: LiveServer, *, integer_digits: int = 4, fractional_digits: int = 2,
               kind: str = "electricity") -> World:
    """An account with one meter, a customer on it, a reviewer and an operator (all with PASSWORD)."""
    from api import cli

    s = server.settings
    account = cli.create_account("ACC-100", "Ada Lovelace", settings=s)
    meter = cli.create_meter("ACC-100", "E-4711", kind, integer_digits, fractional_digits, settings=s)
    cli.create_user("ada@example.org", PASSWORD, "customer", ["ACC-100"], settings=s, name="Ada Lovelace")
    cli.create_user("rita@example.org", PASSWORD, "reviewer", settings=s, name="Rita Reviewer")
    cli.create_user("otto@example.org", PASSWORD, "operator", settings=s, name="Otto Operator")
    return World(base_url=server.base_url, customer="ada@example.org", reviewer="rita@example.org",
                 operator="otto@example.org", account=account, meter=meter, reader=server.reader, settings=s)


def sign_in(page, base_url: str, email: str, password: str = PASSWORD, *, landing: str | None = None) -> None:
    page.goto(base_url + "/")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#signin-submit")
    if landing:
        page.wait_for_url(f"**{landing}")
