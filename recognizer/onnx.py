"""What both shipped models need: an onnxruntime session on one CPU thread, and the file's sha256."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

# the shipped models: models/ beside the packages in a checkout, and installed as package data beside
# them too (pyproject.toml), so the same path holds in a wheel
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class LazySession:
    """An onnxruntime session opened on first use, once, whichever thread asks first."""

    def __init__(self, model_path: Path, threads: int = 1):
        self.model_path = Path(model_path)
        self.threads = int(threads)
        self._session = None
        self._lock = threading.Lock()

    def get(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = cpu_session(self.model_path, self.threads)
        return self._session


def cpu_session(model_path: Path, threads: int = 1):
    """An onnxruntime session on the CPU, ``threads`` threads for one call (workers are processes)."""
    import onnxruntime as ort

    if not Path(model_path).is_file():
        raise FileNotFoundError(f"model not found: {model_path}")
    so = ort.SessionOptions()
    so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(model_path), sess_options=so, providers=["CPUExecutionProvider"])
