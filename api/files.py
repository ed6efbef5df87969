"""Photos and derived images on disk, named by the sha256 of their content (same photo, same file)."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# the formats a crop or debug overlay may be stored in (recognizer.debug.image_ext of its bytes)
DERIVED_EXTS = ("jpg", "png")


class PhotoStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.{ext}"

    def put(self, data: bytes, ext: str) -> str:
        """Store ``data`` (atomically, once) and return its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest, ext)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get_path(self, sha256: str, ext: str) -> Path | None:
        path = self.path_for(sha256, ext)
        return path if path.exists() else None
