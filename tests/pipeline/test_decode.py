"""Bad input for pipeline.decode: each failure is an ImageError with a stable code, fast, with no pixels decoded."""
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from pipeline.decode import DecodeLimits, ImageError, decode


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def gradient(w: int, h: int) -> Image.Image:
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None].repeat(w, 1)
    arr = np.stack([x, y, 255 - x], axis=-1).astype(np.uint8)
    return Image.fromarray(arr)


def png_claiming(width: int, height: int) -> bytes:
    """A small valid PNG whose IHDR is patched to claim width x height (CRC fixed), pixels never allocated."""
    data = bytearray(encode(gradient(40, 40), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def code_of(source, limits=DecodeLimits()) -> str:
    with pytest.raises(ImageError) as info:
        decode(source, limits)
    assert str(info.value) == info.value.message and info.value.message
    return info.value.code


def test_ok_png_and_jpeg_and_webp():
    for fmt in ("PNG", "JPEG", "WEBP"):
        d = decode(encode(gradient(120, 80), fmt))
        assert d.image.shape == (80, 120, 3) and d.image.dtype == np.uint8
        assert d.original_size == (120, 80) and d.scale == 1.0 and d.format == fmt


def test_decode_from_path(tmp_path):
    p = tmp_path / "a.png"
    gradient(64, 48).save(p)
    assert decode(p).size == (64, 48)
    assert decode(str(p)).size == (64, 48)


def test_zero_bytes():
    assert code_of(b"") == "empty"


def test_not_an_image():
    assert code_of(b"hello, this is text and not a photo at all" * 10) == "not_an_image"
    assert code_of(bytes(range(256)) * 20) == "not_an_image"


def test_pdf_renamed_jpg(tmp_path):
    p = tmp_path / "meter.jpg"
    p.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n")
    assert code_of(p) == "not_an_image"


def test_unsupported_format():
    assert code_of(encode(gradient(64, 64), "GIF")) == "unsupported_format"
    assert code_of(encode(gradient(64, 64), "BMP")) == "unsupported_format"


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_jpeg(keep):
    data = encode(gradient(400, 300), "JPEG", quality=90)
    assert code_of(data[: int(len(data) * keep)]) in ("truncated", "not_an_image")


def test_truncated_jpeg_after_header_is_truncated():
    data = encode(gradient(400, 300), "JPEG", quality=90)
    assert code_of(data[: len(data) // 2]) == "truncated"


def test_truncated_png():
    data = encode(gradient(300, 200), "PNG")
    assert code_of(data[: len(data) // 2]) in ("truncated", "not_an_image")


def test_corrupt_png_crc():
    data = bytearray(encode(gradient(64, 64), "PNG"))
    data[29] ^= 0xFF  # IHDR CRC
    assert code_of(bytes(data)) in ("truncated", "not_an_image")


@pytest.mark.parametrize("size", [(20000, 20000), (8000, 8000), (100000, 100000)])
def test_huge_dimensions_rejected_from_header_fast(size):
    data = png_claiming(*size)
    t0 = time.perf_counter()
    assert code_of(data) == "too_many_pixels"
    assert time.perf_counter() - t0 < 0.5


def test_too_many_bytes():
    assert code_of(b"\xff\xd8" + b"\0" * 2000, DecodeLimits(max_bytes=1000)) == "too_large"


def test_too_small():
    assert code_of(encode(gradient(20, 20), "PNG")) == "too_small"


def test_exif_orientation_6_is_applied():
    img = gradient(200, 100)  # stored landscape, displayed portrait
    exif = Image.Exif()
    exif[0x0112] = 6
    d = decode(encode(img, "JPEG", exif=exif.tobytes()))
    assert d.image.shape[:2] == (200, 100)  # rows, cols: rotated
    assert d.original_size == (100, 200)
    assert d.scale == 1.0
    # orientation 6 = rotate 90 degrees clockwise for display: the stored left column becomes the top row
    stored = np.asarray(img)[:, :, ::-1].astype(int)
    assert np.abs(d.image[0, :, :].astype(int) - stored[::-1, 0, :]).mean() < 12


def test_exif_orientation_other_values():
    img = gradient(200, 100)
    for orientation, shape in [(1, (100, 200)), (3, (100, 200)), (8, (200, 100))]:
        exif = Image.Exif()
        exif[0x0112] = orientation
        assert decode(encode(img, "JPEG", exif=exif.tobytes())).image.shape[:2] == shape


def test_large_jpeg_decoded_at_reduced_size_with_scale():
    limits = DecodeLimits()
    d = decode(encode(gradient(4000, 3000), "JPEG", quality=80), limits)
    # the codec's 1/4 scale (1000 px) is close enough to the 1024 asked for: no second resize
    assert limits.draft_floor * limits.work_long_side <= max(d.size) <= limits.work_long_side
    assert max(d.size) == 1000
    assert d.original_size == (4000, 3000)
    assert d.scale == pytest.approx(max(d.size) / 4000, rel=1e-3)
    assert d.size[0] == pytest.approx(4000 * d.scale, abs=1) and d.size[1] == pytest.approx(3000 * d.scale, abs=1)


def test_jpeg_decoded_at_half_when_a_quarter_is_too_small():
    d = decode(encode(gradient(2600, 1950), "JPEG", quality=80))  # 1/4 would be 650 px: 1/2, then resized
    assert max(d.size) == 1024 and d.scale == pytest.approx(1024 / 2600, rel=1e-3)


def test_large_rotated_jpeg_scale():
    exif = Image.Exif()
    exif[0x0112] = 6
    d = decode(encode(gradient(3200, 2400), "JPEG", quality=80, exif=exif.tobytes()), DecodeLimits(work_long_side=1600))
    assert d.original_size == (2400, 3200)
    assert d.size == (1200, 1600)
    assert d.scale == pytest.approx(0.5)


def test_large_png_is_resized_with_scale():
    d = decode(encode(gradient(3200, 1000), "PNG"), DecodeLimits(work_long_side=1600))
    assert d.size == (1600, 500) and d.scale == pytest.approx(0.5)


def test_grayscale_rgba_and_16bit_png():
    assert decode(encode(gradient(64, 64).convert("L"), "PNG")).image.shape == (64, 64, 3)
    assert decode(encode(gradient(64, 64).convert("RGBA"), "PNG")).image.shape == (64, 64, 3)
    arr16 = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    d = decode(encode(Image.fromarray(arr16), "PNG"))
    assert d.image.shape == (64, 64, 3)
    assert d.image[-1, -1, 0] > 200 and d.image[0, 0, 0] < 50  # scaled to 8 bits, not clipped


def test_mpo_phone_photo_is_a_jpeg():
    """Many phones save multi-picture JPEGs, which Pillow opens as format MPO."""
    frames = [gradient(120, 80), gradient(120, 80)]
    buf = io.BytesIO()
    frames[0].save(buf, "MPO", save_all=True, append_images=frames[1:])
    d = decode(buf.getvalue())
    assert d.format == "JPEG" and d.size == (120, 80)


def test_broken_exif_does_not_lose_the_photo():
    data = bytearray(encode(gradient(100, 80), "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05garbage"))
    assert decode(bytes(data)).size == (100, 80)


def test_pixels_in_opencv_channel_order_and_read_only():
    rgb = gradient(96, 64)
    d = decode(encode(rgb, "PNG"))
    assert np.array_equal(d.image, np.asarray(rgb)[:, :, ::-1])  # BGR, lossless: the very pixels
    assert not d.image.flags.writeable  # no stage may change the photo under the others
    with pytest.raises(ValueError):
        d.image[0, 0] = 0
