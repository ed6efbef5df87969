"""Setting up a process that reads photos: one thread for the numerical libraries, the recognizer
configured once and its models loaded before the first photo. Used by the batch and eval workers of the
command line and by the service's recognizer processes."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the configuration imports the image stages: loaded in init_worker, not on import
    from .config import RecognizerConfig

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_CONFIG: RecognizerConfig | None = None  # this worker process's configuration (None: the defaults)


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def one_thread_per_process() -> None:
    """Numerical libraries on one thread each (unless the environment says otherwise): parallelism comes
    from worker processes, one per core, and threads on top would only contend. The variables reach
    processes started after this; OpenCV is set here for this process (the recognizer's onnxruntime
    sessions already run on one thread)."""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    try:
        import cv2

        cv2.setNumThreads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    except Exception:  # pragma: no cover - OpenCV missing or odd value: its default
        pass


def init_worker(engine: str | None, reader_model: str | None = None) -> None:
    """Once per worker process: one thread, the recognizer configured and its models loaded."""
    global _CONFIG
    from .config import RecognizerConfig

    one_thread_per_process()
    options = {"engine": engine} if engine else {}
    if reader_model:
        options["reader_model"] = Path(reader_model)
    _CONFIG = RecognizerConfig(**options) if options else None
    _warm_up()


def worker_config() -> RecognizerConfig | None:
    """The configuration :func:`init_worker` set in this process."""
    return _CONFIG


def _warm_up() -> None:
    """Read one blank photo and one blank strip, so that the pipeline's modules and the reader's model are
    loaded and run once before the first real photo."""
    import cv2
    import numpy as np

    from .config import RecognizerConfig
    from .read import engine_reader, read_photo

    ok, png = cv2.imencode(".png", np.full((64, 96, 3), 200, np.uint8))
    try:
        read_photo(png.tobytes(), config=_CONFIG)
        engine_reader(_CONFIG or RecognizerConfig()).read([np.full((48, 160, 3), 255, np.uint8)])
    except Exception:  # warming up is an optimisation: the first photo loads the models then
        pass
