"""Helpers of the HTTP service tests: photos made with Pillow, a fake reader, request shortcuts."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from api import Settings
from recognizer import DigitRead, ReadResult, Register

PASSWORD = "correct horse battery"


def meter_photo(value: str = "00414676", size=(480, 200), fmt="JPEG") -> bytes:
    """A plausible-looking meter face: a dark window with white digits on a grey body, plus noise."""
    rng = np.random.default_rng(len(value) + size[0])
    body = (rng.normal(150, 12, (size[1], size[0], 3))).clip(0, 255).astype(np.uint8)
    im = Image.fromarray(body)
    draw = ImageDraw.Draw(im)
    x0, y0 = size[0] // 8, size[1] // 3
    cell = (size[0] * 3 // 4) // len(value)
    draw.rectangle([x0 - 4, y0 - 4, x0 + cell * len(value) + 4, y0 + cell + 12], fill=(20, 20, 20))
    for i, ch in enumerate(value):
        draw.text((x0 + i * cell + cell // 3, y0 + cell // 3), ch, fill=(240, 240, 240))
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def noise_png(size=(400, 400)) -> bytes:
    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def png_bomb(width: int, height: int, bit_depth: int = 1, color_type: int = 0) -> bytes:
    """A small PNG file whose header claims ``width`` x ``height`` pixels (a decompression bomb): valid
    signature, IHDR and CRCs, a little compressed pixel data, IEND. Nothing this size is ever allocated here."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = 1 + (width * bit_depth * (3 if color_type == 2 else 1) + 7) // 8
    idat = zlib.compress(b"\0" * row * 64, 9)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a JPEG) with the frame header (SOF) rewritten to claim ``width`` x ``height``."""
    out = bytearray(data)
    i = 2
    while i + 9 < len(out):
        assert out[i] == 0xFF, "not a JPEG marker"
        marker, length = out[i + 1], int.from_bytes(out[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            out[i + 5:i + 7] = height.to_bytes(2, "big")
            out[i + 7:i + 9] = width.to_bytes(2, "big")
            return bytes(out)
        i += 2 + length
    raise ValueError("no SOF marker")


def png_bytes(size=(64, 32), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()



@dataclass
class FakeReader:
    """Stands in for recognizer.read_photo: returns a fixed ReadResult, records its calls."""

    reading: str | None = "00414.670"
    status: str = "accepted"
    confidence: float = 0.97
    reason: str | None = None
    images: bool = True
    turned: bool = False
    rotation: int = 0
    calls: list = field(default_factory=list)

    def __call__(self, source, **kwargs) -> ReadResult:
        self.calls.append(kwargs)
        digits = ()
        if self.reading:
            whole, _, frac = self.reading.partition(".")
            digits = tuple(DigitRead(d, self.confidence, False) for d in whole) + tuple(
                DigitRead(d, self.confidence, True) for d in frac
            )
        reg = Register(reading=self.reading, confidence=self.confidence, digits=digits,
                       window=((10, 10), (100, 10), (100, 40), (10, 40)), kind="drum")
        return ReadResult(
            status=self.status, reading=self.reading, confidence=self.confidence,
            registers=(reg,) if self.reading else (), reason=self.reason, elapsed_ms=1.0,
            images={"crop": png_bytes(), "debug": png_bytes(color=(30, 200, 30))} if self.images else {},
            turned=self.turned, rotation=self.rotation,
        )


def auth(client: TestClient, email: str, password: str = PASSWORD) -> dict:
    r = client.post("/api/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@dataclass
class World:
    """Two accounts with a water meter each, a customer on each, a reviewer."""

    client: TestClient
    operator: dict
    account: int
    meter: int
    customer: dict
    customer_id: int
    other_account: int
    other_meter: int
    other_customer: dict
    reviewer: dict


def make_meter(client, operator, account_id, serial, kind="water", integer_digits=5, fractional_digits=3,
               registers=("T1",)) -> int:
    r = client.post("/api/meters", headers=operator, json={
        "account_id": account_id, "serial": serial, "kind": kind, "integer_digits": integer_digits,
        "fractional_digits": fractional_digits, "registers": list(registers)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def make_user(client, operator, email, role="customer", account_ids=()) -> int:
    r = client.post("/api/users", headers=operator, json={
        "email": email, "password": PASSWORD, "role": role, "account_ids": list(account_ids)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def upload(client, headers, meter_id, data=None, filename="meter.jpg", content_type="image/jpeg", **form):
    data = meter_photo() if data is None else data
    return client.post(f"/api/meters/{meter_id}/photos", headers=headers,
                       files={"file": (filename, data, content_type)}, data=form)


def count_rows(app, model) -> int:
    with app.state.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(model))


def stored_files(settings: Settings) -> list:
    """Every file under the photos folder and the data folder (where nothing but photos is written)."""
    found = []
    for root in {settings.photos_path, settings.data_dir}:
        if root.exists():
            found += [p for p in root.rglob("*") if p.is_file() and not p.name.startswith("meterread.sqlite3")]
    return sorted(set(found))
