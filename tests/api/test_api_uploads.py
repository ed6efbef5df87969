"""Bad uploads are refused with a message before anything is stored."""
from __future__ import annotations

import pytest
from PIL import Image
import io

from api.models import Draft, Submission
from api_helpers import count_rows, jpeg_with_size, meter_photo, noise_png, png_bomb, stored_files, upload


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (100, 100), (1, 2, 3)).save(buf, "GIF")
    return buf.getvalue()


BAD_UPLOADS = {
    "not an image": (b"hello, this is a text file\n" * 20, "meter.jpg", "image/jpeg", 415),
    "empty": (b"", "meter.jpg", "image/jpeg", 422),
    "pdf renamed jpg": (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n", "meter.jpg", "image/jpeg", 415),
    "gif": (None, "meter.gif", "image/gif", 415),
    "truncated jpeg": (None, "meter.jpg", "image/jpeg", 422),
    "tiny image": (None, "meter.png", "image/png", 422),
    "too large (declared)": (None, "meter.png", "image/png", 413),
    "too large (just over)": (None, "meter.jpg", "image/jpeg", 413),
    # below: never a 500, whatever the bytes
    "zero bytes, no type": (b"", "photo", "application/octet-stream", 422),
    "pdf as octet-stream": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 500, "scan.pdf", "application/octet-stream", 415),
    "jpeg header, garbage body": (None, "meter.jpg", "image/jpeg", 422),
    "png bomb 100000x100000": (None, "meter.png", "image/png", 413),
    "png 64 megapixels": (None, "meter.png", "image/png", 413),
    "jpeg claiming 65000x65000": (None, "meter.jpg", "image/jpeg", 413),
}


def _payload(name: str, settings):
    data, filename, ctype, status = BAD_UPLOADS[name]
    if name == "gif":
        data = _gif()
    elif name == "truncated jpeg":
        data = meter_photo()[:1500]
    elif name == "tiny image":
        buf = io.BytesIO()
        Image.new("RGB", (16, 16)).save(buf, "PNG")
        data = buf.getvalue()
    elif name == "too large (declared)":
        data = noise_png((400, 400))
        assert len(data) > settings.max_upload_bytes + 64 * 1024
    elif name == "jpeg header, garbage body":
        data = meter_photo()[:600] + bytes(range(256)) * 20
    elif name == "png bomb 100000x100000":
        data = png_bomb(100_000, 100_000)
    elif name == "png 64 megapixels":  # over the 50 MP limit, under Pillow's own bomb threshold
        data = png_bomb(8000, 8000, bit_depth=8, color_type=2)
    elif name == "jpeg claiming 65000x65000":
        data = jpeg_with_size(meter_photo(), 65000, 65000)
    elif name == "too large (just over)":
        data = meter_photo() + b"\0" * (settings.max_upload_bytes - len(meter_photo()) + 10)
        assert len(data) == settings.max_upload_bytes + 10
    return data, filename, ctype, status


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
def test_bad_upload_is_refused_and_nothing_stored(world, app, settings, fake_reader, name):
    data, filename, ctype, status = _payload(name, settings)
    assert len(data) < 2_000_000
    r = upload(world.client, world.customer, world.meter, data, filename=filename, content_type=ctype)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    assert stored_files(settings) == []
    assert count_rows(app, Draft) == 0 and count_rows(app, Submission) == 0
    assert fake_reader.calls == []


def test_pdf_message_says_pdf(world, settings):
    data, filename, ctype, _ = _payload("pdf renamed jpg", settings)
    r = upload(world.client, world.customer, world.meter, data, filename=filename, content_type=ctype)
    assert "PDF" in r.json()["detail"] and r.json()["code"] == "not_an_image"


def test_missing_file_is_422(world):
    r = world.client.post(f"/api/meters/{world.meter}/photos", headers=world.customer, data={"register": "T1"})
    assert r.status_code == 422 and "file" in r.json()["detail"]


def test_good_photo_is_stored_once_by_content_hash(world, app, settings, fake_reader):
    import hashlib

    data = meter_photo(fmt="PNG")
    d1 = upload(world.client, world.customer, world.meter, data, filename="a.png", content_type="image/png").json()
    d2 = upload(world.client, world.customer, world.meter, data, filename="b.png", content_type="image/png").json()
    assert d1["id"] != d2["id"]
    sha = hashlib.sha256(data).hexdigest()
    photos = [p for p in stored_files(settings) if p.suffix == ".png" and p.stem == sha]
    assert len(photos) == 1 and photos[0].read_bytes() == data
    r = world.client.get(d1["photo_url"], headers=world.customer)
    assert r.status_code == 200 and r.content == data and r.headers["content-type"] == "image/png"
    assert count_rows(app, Draft) == 2


def test_a_draft_says_when_the_photo_was_read_turned_over(world, fake_reader):
    assert upload(world.client, world.customer, world.meter, meter_photo()).json()["turned"] is False
    fake_reader.turned = True
    draft = upload(world.client, world.customer, world.meter, meter_photo()).json()
    assert draft["turned"] is True
    again = world.client.get(f"/api/drafts/{draft['id']}", headers=world.customer)
    assert again.status_code == 200 and again.json()["turned"] is True
    fake_reader.rotation = 90  # taken sideways
    assert upload(world.client, world.customer, world.meter, meter_photo()).json()["rotation"] == 90


def test_webp_and_jpeg_accepted(world, fake_reader):
    for fmt, ctype in (("WEBP", "image/webp"), ("JPEG", "image/jpeg")):
        r = upload(world.client, world.customer, world.meter, meter_photo(fmt=fmt), content_type=ctype)
        assert r.status_code == 201, r.text


def _odd_photos() -> dict:
    import numpy as np

    base = Image.open(io.BytesIO(meter_photo()))

    def enc(im, fmt, **kw):
        buf = io.BytesIO()
        im.save(buf, fmt, **kw)
        return buf.getvalue()

    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    animated = io.BytesIO()
    base.save(animated, "WEBP", save_all=True, append_images=[base.rotate(10)])
    return {
        "cmyk jpeg": enc(base.convert("CMYK"), "JPEG"),
        "grey jpeg": enc(base.convert("L"), "JPEG"),
        "progressive jpeg with exif rotation": enc(base, "JPEG", progressive=True, exif=exif.tobytes()),
        "16-bit png": enc(Image.fromarray(np.asarray(base.convert("L")).astype(np.uint16) * 256), "PNG"),
        "palette png": enc(base.convert("P"), "PNG"),
        "1-bit png": enc(base.convert("1"), "PNG"),
        "rgba png": enc(base.convert("RGBA"), "PNG"),
        "strip 3000x40": enc(base.resize((3000, 40)), "JPEG"),
        "all black": enc(Image.new("RGB", (640, 480)), "JPEG"),
        "animated webp": animated.getvalue(),
    }


def test_odd_but_valid_photos_get_a_draft_from_the_real_recognizer(world, settings):
    """Unusual encodings go through the real recognizer: a draft (perhaps unread) or a 4xx, never a 500."""
    for name, data in _odd_photos().items():
        r = upload(world.client, world.customer, world.meter, data)
        assert r.status_code == 201 or 400 <= r.status_code < 500, (name, r.status_code, r.text)
        body = r.json()
        if r.status_code == 201:
            assert body["status"] in ("accepted", "needs_review", "rejected"), name
            assert world.client.get(body["photo_url"], headers=world.customer).status_code == 200, name
        else:
            assert isinstance(body["detail"], str) and body["detail"], name


def test_upload_without_length_stops_being_read_at_the_limit(world, app, settings):
    """A chunked upload (no Content-Length) is cut off once past the limit: 413, nothing spooled whole."""
    import asyncio
    import json

    chunk = 64 * 1024
    head = (b'--XX\r\nContent-Disposition: form-data; name="file"; filename="m.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n" + meter_photo())
    state = {"sent": 0, "messages": []}

    async def receive():
        if state["sent"] == 0:
            body = head
        elif state["sent"] > 100 * settings.max_upload_bytes:
            return {"type": "http.request", "body": b"\r\n--XX--\r\n", "more_body": False}
        else:
            body = b"\0" * chunk
        state["sent"] += len(body)
        return {"type": "http.request", "body": body, "more_body": True}

    async def send(message):
        state["messages"].append(message)

    token = world.customer["Authorization"].encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": f"/api/meters/{world.meter}/photos", "raw_path": f"/api/meters/{world.meter}/photos".encode(),
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"authorization", token),
                    (b"content-type", b"multipart/form-data; boundary=XX"), (b"transfer-encoding", b"chunked")],
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in state["messages"] if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in state["messages"] if m["type"] == "http.response.body")
    assert start["status"] == 413, body
    assert json.loads(body)["code"] == "too_large"
    assert state["sent"] < settings.max_upload_bytes + 64 * 1024 + 2 * chunk + len(head)
    assert stored_files(settings) == [] and count_rows(app, Draft) == 0


def test_storage_failure_is_a_json_500_and_leaves_no_draft(world, app, settings, fake_reader):
    from fastapi.testclient import TestClient

    from api.deps import get_photo_store

    class FullDisk:
        def put(self, data, ext):
            raise OSError(28, "No space left on device")

    app.dependency_overrides[get_photo_store] = lambda: FullDisk()
    try:
        c = TestClient(app, raise_server_exceptions=False)
        r = upload(c, world.customer, world.meter)
    finally:
        app.dependency_overrides.pop(get_photo_store, None)
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "Something went wrong on the server; please try again later.", "code": "internal"}
    assert count_rows(app, Draft) == 0
