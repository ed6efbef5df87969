"""Photos from saved e-mails: which parts are photos, their names, the caps, and bad messages."""
from email.message import EmailMessage
from pathlib import Path

import pytest

from recognizer.mail import MailError, parse_message, sender_verified

ROOT = Path(__file__).resolve().parents[2]
PHOTO = (ROOT / "sample_images" / "meter_7_00003.jpg").read_bytes()
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


def message(*attachments, sender="Jane Doe <Jane.Doe@Example.org>", subject="My meter", body="Reading attached.",
            inline: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "readings@supplier.example"
    msg["Subject"] = subject
    msg.set_content(body)
    if inline is not None:
        msg.add_alternative("<p>My meter:</p><img src='cid:photo1'>", subtype="html")
        msg.get_payload()[1].add_related(inline, maintype="image", subtype="jpeg", cid="<photo1>")
    for data, maintype, subtype, filename in attachments:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def test_image_attachments_in_order_with_their_bytes_and_the_sender():
    raw = message((PHOTO, "image", "jpeg", "meter.jpg"), (PDF, "application", "pdf", "bill.pdf"),
                  (PHOTO[::-1], "image", "png", "second.png")).as_bytes()
    got = parse_message(raw, max_part_bytes=10_000_000)
    assert got.sender == "jane.doe@example.org" and got.subject == "My meter"
    assert [(p.index, p.name, p.content_type) for p in got.photos] == [(0, "meter.jpg", "image/jpeg"), (1, "second.png", "image/png")]
    assert got.photos[0].data == PHOTO and got.photos[1].data == PHOTO[::-1]  # base64 decoded, byte for byte


def test_octet_stream_named_as_a_photo_counts_and_a_pdf_named_jpg_is_handed_on_for_the_decoder_to_refuse():
    raw = message((PHOTO, "application", "octet-stream", "IMG_2041.JPG"), (PDF, "application", "octet-stream", "scan.pdf"),
                  (PDF, "application", "octet-stream", "renamed.jpg")).as_bytes()
    photos = parse_message(raw, max_part_bytes=10_000_000).photos
    assert [p.name for p in photos] == ["IMG_2041.JPG", "renamed.jpg"]
    assert photos[1].data == PDF


def test_inline_photo_and_a_forwarded_message_with_its_photo():
    inner = message((PHOTO, "image", "jpeg", "meter.jpg"), sender="someone@else.example")
    outer = message(inline=PHOTO)
    outer.add_attachment(inner)  # forwarded as an attachment: message/rfc822
    got = parse_message(outer.as_bytes(), max_part_bytes=10_000_000)
    assert got.sender == "jane.doe@example.org"  # the one who sent it, not the forwarded message's author
    assert [p.data == PHOTO for p in got.photos] == [True, True]
    assert got.photos[0].name == "photo-1.jpg" and got.photos[1].name == "meter.jpg"


def test_names_are_unique_and_lose_any_folder_part():
    raw = message((PHOTO, "image", "jpeg", "../../etc/meter.jpg"), (PHOTO, "image", "jpeg", "meter.jpg"),
                  (PHOTO, "image", "jpeg", "C:\\Users\\x\\meter.jpg")).as_bytes()
    assert [p.name for p in parse_message(raw, max_part_bytes=10_000_000).photos] == ["meter.jpg", "meter-2.jpg", "meter-3.jpg"]


def test_caps_on_part_size_photo_count_and_message_size():
    raw = message((PHOTO, "image", "jpeg", "big.jpg"), (b"\xff\xd8small", "image", "jpeg", "small.jpg")).as_bytes()
    photos = parse_message(raw, max_part_bytes=1000).photos
    assert photos[0].data is None and "over" in photos[0].error
    assert photos[1].data == b"\xff\xd8small" and photos[1].error is None
    many = message(*[(b"x%d" % i, "image", "jpeg", f"{i}.jpg") for i in range(7)]).as_bytes()
    assert len(parse_message(many, max_part_bytes=1000, max_photos=5).photos) == 5
    with pytest.raises(MailError) as exc:
        parse_message(raw, max_part_bytes=10_000_000, max_message_bytes=1000)
    assert exc.value.code == "too_large"


@pytest.mark.parametrize("raw,code", [(b"", "empty"), (b"  \r\n", "empty"), (PHOTO[:2000], "not_a_message")])
def test_what_is_not_a_message_is_refused(raw, code):
    with pytest.raises(MailError) as exc:
        parse_message(raw, max_part_bytes=10_000_000)
    assert exc.value.code == code and exc.value.message


def test_a_message_without_photos_and_a_broken_from_header():
    raw = message((PDF, "application", "pdf", "bill.pdf"), sender="not an address").as_bytes()
    got = parse_message(raw, max_part_bytes=10_000_000)
    assert got.photos == () and got.sender is None


@pytest.mark.parametrize("headers,verified", [
    (["mx.example; dmarc=pass header.from=example.org"], True),
    (["MX.Example;\r\n dkim=pass header.d=example.org"], True),  # folded, ids compared without case
    (["mx.example 1; spf=pass smtp.mailfrom=example.org"], True),  # authserv-id with a version
    (["mx.example; dkim=fail; spf=none"], False),
    (["other.example; dkim=pass"], False),  # not our server's: it may have come with the message
    (["other.example; dkim=pass", "mx.example; spf=pass"], True),
    ([], False),
])
def test_only_our_servers_passing_result_verifies_the_sender(headers, verified):
    # written as a mail server prepends them, folding included
    raw = b"".join(f"Authentication-Results: {h}\r\n".encode() for h in headers)
    mail = parse_message(raw + message((PHOTO, "image", "jpeg", "m.jpg")).as_bytes(), max_part_bytes=10_000_000)
    assert sender_verified(mail, "mx.example") is verified
    assert sender_verified(mail, None) is False
