"""Photos sent by e-mail: the image attachments of a saved message (``.eml``, RFC 5322 with MIME parts).

Customers mail a photo of their meter; a supplier's mailbox export or a mail gateway hands over the raw
message. The standard library's ``email`` package parses it (any transfer encoding, nested multiparts, a
forwarded message attached whole); this module only decides which parts are photos and caps what a
message may make the reader decode.

A part counts as a photo when its MIME type is ``image/*`` or, because some mail programs send every
attachment as ``application/octet-stream``, when its file name has an image suffix. Inline images count
too: phones often put the photo inline in the body.
"""
from __future__ import annotations

import email
import email.policy
import email.utils
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import PurePosixPath

from pipeline.decode import ImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MAX_MESSAGE_BYTES = 60 * 1024 * 1024  # a message this large is not parsed at all
MAX_PHOTOS = 50  # photos taken from one message; a mass mailing of images is not a meter reading


class MailError(ImageError):
    """The message cannot be used: an input that cannot be read, like a photo that cannot be (``code`` for
    machines, ``message`` for people), so whatever turns an ImageError into a row or an HTTP error takes it."""


@dataclass(frozen=True)
class Attachment:
    """One photo of a message: ``name`` unique within the message, ``index`` its place among the photos."""

    index: int
    name: str
    content_type: str
    data: bytes | None  # None where the part was over the size cap (``error`` says so)
    error: str | None = None


@dataclass(frozen=True)
class MailPhotos:
    sender: str | None  # the address of From:, lower case, no display name
    subject: str
    photos: tuple[Attachment, ...]
    sent: datetime | None = None  # the Date: header, where it parses
    message_id: str | None = None  # Message-ID:, what a gateway's retry of the same message repeats
    text: str = ""  # the plain-text body (its first 4,000 characters): a customer may name the meter there
    # Authentication-Results: headers (RFC 8601), as the receiving mail servers added them
    auth_results: tuple[str, ...] = ()


def parse_message(raw: bytes, max_part_bytes: int, max_message_bytes: int = MAX_MESSAGE_BYTES,
                  max_photos: int = MAX_PHOTOS) -> MailPhotos:
    """The photos of a raw message, in the order they appear (parts of an attached message included)."""
    if not raw or not raw.strip():
        raise MailError("empty", "The message is empty.")
    if len(raw) > max_message_bytes:
        raise MailError("too_large", f"The message is over {max_message_bytes / 1e6:.0f} MB; it was not read.")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(msg, EmailMessage) or not (msg.keys() or msg.is_multipart()):
        raise MailError("not_a_message", "This is not an e-mail message.")
    photos: list[Attachment] = []
    taken: set[str] = set()
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = _safe_name(part.get_filename())
        if not (ctype.startswith("image/") or (filename and filename.lower().endswith(IMAGE_SUFFIXES))):
            continue
        if len(photos) >= max_photos:
            break
        index = len(photos)
        name = _unique(filename or f"photo-{index + 1}{_suffix_for(ctype)}", taken)
        try:
            data = part.get_payload(decode=True) or b""
        except Exception:  # a malformed part is that photo's error, not the message's
            data = b""
        if len(data) > max_part_bytes:
            photos.append(Attachment(index, name, ctype, None,
                                     f"The attachment is over {max_part_bytes / 1e6:.0f} MB; it was not read."))
            continue
        photos.append(Attachment(index, name, ctype, data))
    return MailPhotos(_sender(msg), _header(msg, "Subject"), tuple(photos), _sent(msg),
                      _header(msg, "Message-ID") or None, _text(msg), _auth_results(msg))


def _auth_results(msg: EmailMessage) -> tuple[str, ...]:
    try:
        return tuple(str(v) for v in msg.get_all("Authentication-Results", []))
    except Exception:
        return ()


def sender_verified(mail: MailPhotos, authserv_id: str | None) -> bool:
    """Did our own mail server vouch for the sender? An ``Authentication-Results`` header whose authserv-id is
    ``authserv_id`` (the server that received the message: a header of any other id may have come with the
    message itself) with a passing DMARC, DKIM or SPF result. A From: address alone proves nothing."""
    if not authserv_id:
        return False
    want = authserv_id.strip().lower()
    for value in mail.auth_results:
        head, _, results = " ".join(value.split()).partition(";")
        if head.strip().split(" ")[0].lower() != want:
            continue
        if any(f"{method}=pass" in results.lower() for method in ("dmarc", "dkim", "spf")):
            return True
    return False


def _header(msg: EmailMessage, name: str) -> str:
    try:
        return str(msg.get(name, "") or "").strip()
    except Exception:  # a header the parser cannot decode is as good as none
        return ""


def _sent(msg: EmailMessage) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(_header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return None


def _text(msg: EmailMessage) -> str:
    try:
        body = msg.get_body(preferencelist=("plain",))
        return body.get_content()[:4000] if body is not None else ""
    except Exception:  # an undecodable body: the photos still count
        return ""


def _sender(msg: EmailMessage) -> str | None:
    try:
        addresses = msg["From"].addresses if msg["From"] is not None else ()
    except Exception:  # an unparsable From: header leaves the sender unknown
        return None
    for a in addresses:
        if a.addr_spec and "@" in a.addr_spec:
            return a.addr_spec.strip().lower()
    return None


def _safe_name(name: str | None) -> str | None:
    """The attachment's own file name without any folder part ("../../x.jpg" is "x.jpg")."""
    if not name:
        return None
    base = PurePosixPath(name.replace("\\", "/")).name.strip()
    return base or None


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    candidate, k = name, 2
    while candidate in taken:
        candidate = f"{stem}-{k}.{suffix}" if suffix else f"{stem}-{k}"
        k += 1
    taken.add(candidate)
    return candidate


def _suffix_for(ctype: str) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}.get(ctype, "")
