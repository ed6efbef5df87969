"""The meterread command: read, batch (folders, zips, broken files, streaming rows), eval."""
import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.decode import decode
from recognizer import cli
from recognizer.result import DigitRead, ReadResult, Register

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_images"
REQUIRED = {"file", "status", "reading", "confidence", "registers", "digits", "window", "reason", "elapsed_ms"}
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


def sample_files():
    return sorted(SAMPLES.glob("*.jpg"))


def truth_by_hash():
    with open(SAMPLES / "labels.csv") as fh:
        rows = list(csv.DictReader(fh))
    return {hashlib.sha256((SAMPLES / r["file"]).read_bytes()).hexdigest(): r["reading"] for r in rows}



def _encoded(ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, np.full((20, 40, 3), 128, np.uint8))
    return buf.tobytes()

@pytest.fixture
def fake_read(monkeypatch):
    """read_photo stand-in: real decoding (so bad files fail as they would), the labelled reading as result."""
    truths = truth_by_hash()

    def read_photo(source, *, previous=None, previous_date=None, photo_date=None, meter=None, config=None, with_images=False):
        data = Path(source).read_bytes() if not isinstance(source, (bytes, bytearray)) else bytes(source)
        decoded = decode(data)
        reading = truths.get(hashlib.sha256(data).hexdigest(), "00123.4").split("+")[0]
        if reading.startswith("0000"):  # one wrong read, rejected, for the eval
            reading = "1" + reading[1:]
        quad = ((10.0, 10.0), (200.0, 10.0), (200.0, 60.0), (10.0, 60.0))
        digits = tuple(DigitRead(value=c, confidence=0.97, fractional=i >= len(reading.split(".")[0])) for i, c in enumerate(reading.replace(".", "")))
        images = {"debug": _encoded(".jpg"), "crop": _encoded(".png")} if with_images else {}
        ok = not reading.startswith("1000")
        return ReadResult(
            status="accepted" if ok else "needs_review", reading=reading, confidence=0.97 if ok else 0.4,
            registers=(Register(reading=reading, confidence=0.97, digits=digits, window=quad, kind="drum"),),
            reason=None if ok else "low confidence", elapsed_ms=5.0, images=images,
        )

    monkeypatch.setattr("recognizer.read.read_photo", read_photo)
    return read_photo


def test_read_prints_json_with_required_fields(fake_read, capsys, tmp_path):
    photo = sample_files()[3]
    debug, crop = tmp_path / "d.png", tmp_path / "c.png"
    assert cli.main(["read", str(photo), "--previous", "00100", "--previous-date", "2024-01-01", "--debug-image", str(debug), "--crop", str(crop)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert REQUIRED <= set(out)
    assert out["file"] == str(photo) and out["status"] == "accepted" and out["reading"]
    # the overlay comes as JPEG and is written as the PNG the file name asks for
    assert debug.read_bytes().startswith(b"\x89PNG") and crop.read_bytes().startswith(b"\x89PNG")
    jpg = tmp_path / "d.jpg"
    assert cli.main(["read", str(photo), "--debug-image", str(jpg)]) == 0
    assert jpg.read_bytes().startswith(b"\xff\xd8\xff")


def test_read_bad_file_prints_error_json(capsys, tmp_path):
    p = tmp_path / "doc.jpg"
    p.write_bytes(PDF)
    assert cli.main(["read", str(p)]) == 2
    out = json.loads(capsys.readouterr().out)
    assert REQUIRED <= set(out) and out["status"] == "rejected" and out["error"] == "not_an_image"
    assert cli.main(["read", str(tmp_path / "missing.jpg")]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "not_found"


def make_inputs(tmp_path: Path) -> tuple[Path, Path, set[str]]:
    """A folder (with a subfolder, a broken JPEG, a PDF named .jpg, a .txt) and a zip with the same mix."""
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    files = sample_files()
    shutil.copy(files[3], folder / "a.jpg")
    shutil.copy(files[2], folder / "sub" / "B.JPG")
    (folder / "broken.jpg").write_bytes(files[4].read_bytes()[:300])
    (folder / "doc.jpg").write_bytes(PDF)
    (folder / "notes.txt").write_text("not a photo")
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner/c.jpg", files[5].read_bytes())
        zf.writestr("inner/broken.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
        zf.writestr("renamed.jpg", PDF)
        zf.writestr("bomb.png", b"\0" * 3_000_000)  # compresses to a few KB
        zf.writestr("readme.md", "ignored")
    expected = {"a.jpg", "sub/B.JPG", "broken.jpg", "doc.jpg", "inner/c.jpg", "inner/broken.png", "renamed.jpg", "bomb.png"}
    return folder, archive, expected


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_batch_folder_and_zip(fake_read, tmp_path, suffix, monkeypatch, capsys):
    monkeypatch.setattr(cli, "MAX_MEMBER_BYTES", 1_000_000)
    folder, archive, expected = make_inputs(tmp_path)
    out = tmp_path / f"rows{suffix}"
    assert cli.main(["batch", str(folder), str(archive), "--out", str(out), "--workers", "1"]) == 0
    if suffix == ".jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert all(REQUIRED <= set(r) for r in rows)
    else:
        with open(out) as fh:
            rows = list(csv.DictReader(fh))
        assert list(rows[0]) == list(cli.CSV_FIELDS)
        json.loads(rows[0]["digits"])  # compact JSON
    by_file = {r["file"]: r for r in rows}
    assert set(by_file) == expected and len(rows) == len(expected)
    assert by_file["a.jpg"]["status"] == "accepted" and by_file["inner/c.jpg"]["status"] == "accepted"
    assert by_file["sub/B.JPG"]["reading"]
    errors = {f: by_file[f]["error"] for f in expected if by_file[f]["status"] == "rejected"}
    assert errors == {
        "broken.jpg": "truncated",
        "doc.jpg": "not_an_image",
        "inner/broken.png": "not_an_image",
        "renamed.jpg": "not_an_image",
        "bomb.png": "too_large",
    } or set(errors) == {"broken.jpg", "doc.jpg", "inner/broken.png", "renamed.jpg", "bomb.png"}
    assert all(by_file[f]["reason"] for f in errors)


def test_batch_rows_stream_to_disk(fake_read, tmp_path, monkeypatch):
    """Each row is on disk before the next photo is read."""
    folder, archive, _ = make_inputs(tmp_path)
    out = tmp_path / "rows.jsonl"
    seen = []
    real = cli.read_item

    def spy(item, with_images=False):
        seen.append(len(out.read_text().splitlines()) if out.exists() else 0)
        return real(item, with_images)

    monkeypatch.setattr(cli, "read_item", spy)
    cli.main(["batch", str(folder), "--out", str(out), "--workers", "1"])
    assert seen == list(range(len(seen)))


def test_batch_with_worker_processes(tmp_path):
    """Real read_photo in two processes; whatever it answers, every photo gets one row."""
    folder, archive, expected = make_inputs(tmp_path)
    out = tmp_path / "rows.jsonl"
    assert cli.main(["batch", str(folder), str(archive), "--out", str(out), "--workers", "2"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["file"] for r in rows} == expected
    by_file = {r["file"]: r for r in rows}
    assert by_file["doc.jpg"]["error"] == "not_an_image" and by_file["renamed.jpg"]["status"] == "rejected"


def test_collect_items(tmp_path):
    folder, archive, _ = make_inputs(tmp_path)
    items = cli.collect_items([str(folder), str(archive)])
    names = [i.name for i in items]
    assert "notes.txt" not in names and "readme.md" not in names
    assert sum(i.member is not None for i in items) == 4


def write_labels(tmp_path: Path) -> Path:
    d = tmp_path / "set"
    (d / "img").mkdir(parents=True)
    with open(SAMPLES / "labels.csv") as fh:
        rows = list(csv.DictReader(fh))
    with open(d / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["file", "reading", "meter_kind", "window", "source"])
        w.writeheader()
        for r in rows[:5]:
            shutil.copy(SAMPLES / r["file"], d / "img" / r["file"])
            w.writerow({**r, "file": f"img/{r['file']}"})
        w.writerow({"file": "img/unlabelled.jpg", "reading": "", "meter_kind": "gas", "window": "", "source": "other"})
        shutil.copy(SAMPLES / rows[6]["file"], d / "img" / "unlabelled.jpg")
    return d / "labels.csv"


def test_eval_prints_table_and_report(fake_read, tmp_path, capsys):
    labels = write_labels(tmp_path)
    report = tmp_path / "report"
    out = tmp_path / "eval.jsonl"
    assert cli.main(["eval", str(labels), "--workers", "1", "--report", str(report), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "overall" in text and "synthetic-drum" in text and "synthetic-lcd" in text and "other" in text
    assert "int exact" in text and "threshold" in text
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 6 and all("score" in r for r in rows)
    wrong = [r for r in rows if r["score"]["cause"]]
    assert wrong  # the fake misreads readings with four leading zeros
    html = (report / "index.html").read_text()
    assert "window not found (1)" in html  # the fake window misses the labelled box
    assert "not accepted (no label)" in html
    assert list((report / "images").glob("*_debug.jpg")) and list((report / "images").glob("*_crop.png"))


def test_eval_digits_reads_the_crops_with_the_model_given(capsys, tmp_path):
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "digits"
    assert cli.main(["eval-digits", str(fixtures / "labels.csv")]) == 0
    out = capsys.readouterr().out
    assert "haverland" in out and "%" in out
    # another model: a classifier that is not there fails loudly instead of scoring the shipped one
    with pytest.raises(Exception):
        cli.main(["eval-digits", str(fixtures / "labels.csv"), "--model", str(tmp_path / "missing.onnx")])
    assert cli.main(["eval-digits", str(fixtures / "labels.csv"), "--source", "nowhere"]) == 0
    assert "haverland" not in capsys.readouterr().out
    # a label audit leaves its crops out and says how many
    first = next(csv.DictReader(open(fixtures / "labels.csv")))["file"]
    (tmp_path / "audit.csv").write_text(f"file,label,shows,note\n{first},0,8,test\n")
    assert cli.main(["eval-digits", str(fixtures / "labels.csv"), "--exclude", str(tmp_path / "audit.csv")]) == 0
    out = capsys.readouterr().out
    assert "19/19" in out and "found wrong (--exclude): 1" in out


def test_service_commands_optional(monkeypatch):
    """`read` works even when the api package fails to import."""
    monkeypatch.setitem(sys.modules, "api.cli", None)  # import raises ImportError
    parser = cli.build_parser()
    assert parser.parse_args(["read", "x.jpg"]).command == "read"


ENTRY = ROOT / ".venv" / "bin" / "meterread"


@pytest.mark.skipif(not ENTRY.exists(), reason="meterread is not installed in .venv")
def test_installed_entry_point(tmp_path):
    p = tmp_path / "doc.jpg"
    p.write_bytes(PDF)
    proc = subprocess.run([str(ENTRY), "read", str(p)], capture_output=True, text=True, timeout=120)
    out = json.loads(proc.stdout)
    assert proc.returncode == 2 and REQUIRED <= set(out) and out["error"] == "not_an_image"
    proc = subprocess.run([str(ENTRY), "read", str(sample_files()[0])], capture_output=True, text=True, timeout=120)
    out = json.loads(proc.stdout)
    assert REQUIRED <= set(out) and out["file"] == str(sample_files()[0])


def test_batch_reads_the_photos_of_saved_emails(fake_read, tmp_path, monkeypatch):
    from email.message import EmailMessage

    monkeypatch.setattr(cli, "MAX_MEMBER_BYTES", 1_000_000)
    files = sample_files()

    def mail(*parts):
        msg = EmailMessage()
        msg["From"], msg["Subject"] = "customer@example.org", "meter reading"
        msg.set_content("photo attached")
        for data, mime, name in parts:
            maintype, subtype = mime.split("/")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg.as_bytes()

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "one.eml").write_bytes(mail((files[3].read_bytes(), "image/jpeg", "meter.jpg"),
                                         (PDF, "application/pdf", "bill.pdf"),
                                         (PDF, "application/octet-stream", "scan.jpg"),
                                         (b"\0" * 2_000_000, "image/png", "huge.png")))
    (inbox / "no-photo.eml").write_bytes(mail((PDF, "application/pdf", "bill.pdf")))
    (inbox / "empty.eml").write_bytes(b"")
    direct = tmp_path / "forwarded.eml"
    direct.write_bytes(mail((files[5].read_bytes(), "image/jpeg", "IMG_1.jpg"), (files[2].read_bytes(), "image/jpeg", "IMG_1.jpg")))
    out = tmp_path / "rows.jsonl"
    assert cli.main(["batch", str(inbox), str(direct), "--out", str(out), "--workers", "1"]) == 0
    rows = {r["file"]: r for r in map(json.loads, out.read_text().splitlines())}
    truths = truth_by_hash()
    assert set(rows) == {"one.eml/meter.jpg", "one.eml/scan.jpg", "one.eml/huge.png", "no-photo.eml", "empty.eml",
                         f"{direct}/IMG_1.jpg", f"{direct}/IMG_1-2.jpg"}
    # each photo read from its own attachment's bytes: the reading is the one labelled for that file
    assert rows["one.eml/meter.jpg"]["reading"] == truths[hashlib.sha256(files[3].read_bytes()).hexdigest()].split("+")[0]
    assert rows[f"{direct}/IMG_1-2.jpg"]["reading"] == truths[hashlib.sha256(files[2].read_bytes()).hexdigest()].split("+")[0]
    assert {f: rows[f]["error"] for f in rows if rows[f]["status"] == "rejected"} == {
        "one.eml/scan.jpg": "not_an_image", "one.eml/huge.png": "too_large", "no-photo.eml": "no_photo", "empty.eml": "empty"}
    assert "attach" in rows["no-photo.eml"]["reason"]


def test_an_oversized_saved_email_is_refused_unread(fake_read, tmp_path, monkeypatch):
    from recognizer import mail

    monkeypatch.setattr(mail, "MAX_MESSAGE_BYTES", 10_000)
    big = tmp_path / "big.eml"
    big.write_bytes(b"From: a@b.example\r\nSubject: x\r\n\r\n" + b"x" * 20_000)
    read = []
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or b"")  # must not be called for it
    out = tmp_path / "rows.jsonl"
    assert cli.main(["batch", str(big), "--out", str(out), "--workers", "1"]) == 0
    row = json.loads(out.read_text())
    assert row["status"] == "rejected" and row["error"] == "too_large" and big not in read


def test_read_an_email_answers_with_its_surest_photo(fake_read, capsys, tmp_path):
    from email.message import EmailMessage

    truths = truth_by_hash()
    files = sample_files()
    unsure = next(f for f in files if truths[hashlib.sha256(f.read_bytes()).hexdigest()].startswith("0000"))
    sure = next(f for f in files if not truths[hashlib.sha256(f.read_bytes()).hexdigest()].startswith("0000"))
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "customer@example.org", "reading"
    msg.set_content("two photos")
    for data, mime, name in ((PDF, "application/octet-stream", "scan.jpg"), (unsure.read_bytes(), "image/jpeg", "blurry.jpg"),
                             (sure.read_bytes(), "image/jpeg", "sharp.jpg")):
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    eml = tmp_path / "m.eml"
    eml.write_bytes(msg.as_bytes())
    assert cli.main(["read", str(eml)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["file"] == f"{eml}/sharp.jpg" and out["status"] == "accepted"
    only_pdf = tmp_path / "pdf.eml"
    only_pdf.write_bytes(msg.as_bytes().replace(b"blurry.jpg", b"x.bin").replace(b"sharp.jpg", b"y.bin")
                         .replace(b"image/jpeg", b"application/zip"))
    assert cli.main(["read", str(only_pdf)]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "not_an_image"
