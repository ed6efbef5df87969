"""Recognition in worker processes: the HTTP process hands each photo to a pool of single-threaded
recognizer processes (``meterread serve`` starts one per CPU) and waits for the result.

Why not uvicorn's own worker processes: they share one listening socket and a keep-alive connection stays
with the process that accepted it, and measured with ``bench/load_service.py`` one of two workers took 92%
of the work from 8 clients while the other idled. A pool takes photos from one queue, first come first
served, so every core reads photos as long as there are photos to read.
"""
from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from recognizer import ReadResult
from recognizer.workers import init_worker

log = logging.getLogger("meterread.api")

def _read(data: bytes, kwargs: dict) -> ReadResult:
    from recognizer import read_photo
    from recognizer.workers import worker_config

    return read_photo(data, config=worker_config(), **kwargs)


def _ready() -> bool:
    return True


class ReaderPool:
    """Called like ``read_photo(data, **kwargs)``; runs it in one of ``processes`` worker processes. A worker
    that dies (a crash in a native library) fails the photo it was reading and the pool is started again."""

    def __init__(self, processes: int, engine: str | None = None):
        self.processes = int(processes)
        self.engine = engine
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawn: the HTTP process has threads by now, and a fork would copy their locks mid-use
        return ProcessPoolExecutor(
            self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker,
            initargs=(self.engine,),
        )

    def warm_up(self) -> None:
        """Start the worker processes (each loads its model as it starts) and wait for an answer; a worker
        still starting then takes photos as soon as it is ready."""
        for future in [self._pool.submit(_ready) for _ in range(self.processes)]:
            future.result()

    def __call__(self, data: bytes, **kwargs) -> ReadResult:
        pool = self._pool
        try:
            return pool.submit(_read, bytes(data), kwargs).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    log.error("a recognizer worker process died; starting the pool again")
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._start()
            raise

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
