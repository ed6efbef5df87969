"""Bad uploads are refused with a message before anything is stored."""
from __future__ import annotations

import pytest
from PIL import Image
import io

from api.models import Draft, Submission
from api_helpers import count_rows, meter_photo, noise_png, stored_files, upload


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
    elif name == "too large (just over)":
        data = meter_photo() + b"\0" * (settings.max_upload_bytes - len(meter_photo()) + 10)
        assert len(data) == settings.max_upload_bytes + 10
    return data, filename, ctype, status


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
def test_bad_upload_is_refused_and_nothing_stored(world, app, settings, fake_reader, name):
    data, filename, ctype, status = _payload(name, settings)
    r = upload(world.client, world.customer, world.meter, data, filename=filename, content_type=ctype)
    assert r.status_code == status, r.text
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


def test_webp_and_jpeg_accepted(world, fake_reader):
    for fmt, ctype in (("WEBP", "image/webp"), ("JPEG", "image/jpeg")):
        r = upload(world.client, world.customer, world.meter, meter_photo(fmt=fmt), content_type=ctype)
        assert r.status_code == 201, r.text
