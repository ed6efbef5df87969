#!/usr/bin/env python3
"""Load the photo upload endpoint of `meterread serve` with `hey` and compare with read_photo in process.

    python bench/load_service.py [PHOTOS_DIR] [--duration 10] [--concurrency 1,2,4,8] [--workers N]

Starts `meterread serve` on a free loopback port with SQLite in a temporary data dir (nothing else is
needed: the schema is created at startup), creates an account, a meter and a customer with the CLI
verbs, logs in for a bearer token, then runs Debian's `hey` (apt-get install hey) against
``POST /api/meters/{id}/photos`` -- the endpoint that decodes, runs the recognizer, stores the photo and
its images and writes a draft -- once per photo and concurrency level, each run for ``--duration``
seconds on one multipart body built here (hey sends one body per run). Photos: one from every source
folder of ../shared/data/photos when present (the middle file of each, sorted), else sample_images/.

Prints, per concurrency level and per photo: requests/s sustained, p50/p95/p99 latency and errors;
and the single-thread in-process rate of recognizer.read.read_photo on the same photo bytes, measured in
the same run, with the ratio service rate / in-process rate. Exits 1 if any request failed (a status
other than 201, or a draft the server wrote that the client never got; hey's CSV lists responses only,
so drafts in the database are counted after every run).
"""
from __future__ import annotations

import os

_ENV = dict(os.environ)  # what the server gets: not the thread settings this process gives itself below
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # the baseline is one thread, like each service worker

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IMAGE_SUFFIXES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
BOUNDARY = "meterread-load-7MA4YWxkTrZu0gW"
EMAIL, PASSWORD = "load@bench.meterread", "bench-password-1"
TARGET_RATE, TARGET_P95_MS, TARGET_CLIENTS = 30.0, 300.0, 8


# ---- photos and bodies -----------------------------------------------------------------------------


def default_photos_dir() -> Path:
    shared = ROOT.parent / "shared" / "data" / "photos"
    return shared if shared.is_dir() else ROOT / "sample_images"


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def pick_photos(folder: Path, limit: int) -> list[Path]:
    """The middle photo of every source folder (first-level subfolders), else ``limit`` spread evenly."""
    sources = sorted(d for d in folder.iterdir() if d.is_dir() and _images(d))
    if sources:
        picked = [(imgs := _images(d))[len(imgs) // 2] for d in sources]
    else:
        imgs = _images(folder)
        picked = [imgs[int(i * len(imgs) / limit)] for i in range(min(limit, len(imgs)))]
    return picked[:limit]


def multipart_body(photo: Path) -> bytes:
    data = photo.read_bytes()
    if BOUNDARY.encode() in data:  # pragma: no cover - a 30-byte random string in a photo
        raise SystemExit(f"the multipart boundary occurs in {photo}")
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{photo.name}\"\r\n"
        f"Content-Type: {IMAGE_SUFFIXES[photo.suffix.lower()]}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


# ---- in-process baseline ---------------------------------------------------------------------------


def baseline_ms(photos: list[Path], seconds: float) -> dict[Path, dict]:
    """Median ms of read_photo per photo (one thread, warm), with and without the images the service asks for."""
    import cv2

    cv2.setNumThreads(1)
    from recognizer.read import read_photo

    out = {}
    for photo in photos:
        data = photo.read_bytes()
        read_photo(data, with_images=True)  # models loaded, caches warm
        row = {}
        for key, images in (("plain", False), ("images", True)):
            times: list[float] = []
            end = time.perf_counter() + seconds / 2
            while time.perf_counter() < end or len(times) < 5:
                t0 = time.perf_counter()
                read_photo(data, with_images=images)
                times.append((time.perf_counter() - t0) * 1000)
            row[key] = statistics.median(times)
        out[photo] = row
    return out


# ---- the service -----------------------------------------------------------------------------------


def meterread_cmd() -> list[str]:
    script = Path(sys.executable).with_name("meterread")
    return [str(script)] if script.exists() else [sys.executable, "-m", "recognizer.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(data_dir: Path) -> dict:
    env = {k: v for k, v in _ENV.items() if not k.startswith("METERREAD_") and k != "DATABASE_URL"}
    env["METERREAD_DATA_DIR"] = str(data_dir)
    return env


def run_cli(args: list[str], env: dict) -> str:
    proc = subprocess.run(meterread_cmd() + args, env=env, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        raise SystemExit(f"meterread {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def wait_healthy(base: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"meterread serve exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"meterread serve did not answer /api/health within {timeout:.0f} s")


def login(base: str) -> str:
    form = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
    with urllib.request.urlopen(urllib.request.Request(base + "/api/auth/token", data=form), timeout=30) as r:
        return json.load(r)["access_token"]


def upload_once(url: str, token: str, body: bytes) -> dict:
    req = urllib.request.Request(url, data=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"upload failed: {exc.code} {exc.read()[:300]!r}") from exc


def drafts_in(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM drafts").fetchone()[0]
    finally:
        con.close()


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


def server_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of the server process and of each of its descendants (the workers)."""
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        try:
            out[p] = _cpu_s(p)
            todo += _children(p)
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return out


def machine_busy_s() -> float:
    """CPU seconds all CPUs of the machine spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def worker_pids(pid: int) -> list[int]:
    """The server's multiprocessing children (recognizer processes, or uvicorn's HTTP workers), or the
    server itself when it has none."""
    found = []
    for c in _children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes():
                found.append(c)
        except FileNotFoundError:
            continue
    return found or [pid]


# ---- hey -------------------------------------------------------------------------------------------


@dataclass
class Run:
    photo: Path
    clients: int
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    missing: int = 0  # drafts written by the server that the client did not get as a 201
    server_cpu_s: float = 0.0
    main_cpu_s: float = 0.0  # the process `meterread serve` started (HTTP, with --workers 1)
    worker_cpu_s: list[float] = field(default_factory=list)  # per worker process, busiest first
    hey_cpu_s: float = 0.0
    other_cpu_s: float = 0.0  # the rest of the machine (another engineer's training...) during the run

    @property
    def ok(self) -> int:
        return self.statuses.get(201, 0)

    @property
    def errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code != 201) + self.missing


def run_hey(url: str, token: str, body_file: Path, clients: int, seconds: float) -> tuple[list[float], dict[int, int], float]:
    cmd = [
        "hey", "-z", f"{seconds:g}s", "-c", str(clients), "-m", "POST", "-D", str(body_file),
        "-T", f"multipart/form-data; boundary={BOUNDARY}", "-H", f"Authorization: Bearer {token}",
        "-t", "60", "-o", "csv", url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"hey failed ({proc.returncode}): {proc.stderr.strip()}")
    latencies, statuses, end = [], {}, 0.0
    for row in csv.DictReader(io.StringIO(proc.stdout)):
        rt, code, offset = float(row["response-time"]), int(row["status-code"]), float(row["offset"])
        latencies.append(rt * 1000)
        statuses[code] = statuses.get(code, 0) + 1
        end = max(end, offset + rt)
    return latencies, statuses, end or seconds


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


# ---- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("photos", nargs="?", type=Path, default=None, help="folder of photos (default ../shared/data/photos, else sample_images)")
    p.add_argument("--limit", type=int, default=6, help="at most this many photos (one per source folder)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load per photo and concurrency level")
    p.add_argument("--concurrency", default="1,2,4,8", help="concurrent clients, comma-separated")
    p.add_argument("--workers", type=int, default=None, help="`meterread serve --workers` (HTTP processes; default: the command's)")
    p.add_argument("--readers", type=int, default=None, help="`meterread serve --readers` (recognizer processes; default: the command's)")
    p.add_argument("--baseline-seconds", type=float, default=3.0, help="seconds of in-process read_photo per photo")
    p.add_argument("--keep", action="store_true", help="keep the temporary data dir and the server log")
    args = p.parse_args(argv)

    if shutil.which("hey") is None:
        print("hey not found: apt-get install -y hey (Debian's HTTP load generator)", file=sys.stderr)
        return 2
    folder = args.photos or default_photos_dir()
    photos = pick_photos(folder, args.limit)
    if not photos:
        print(f"no photos in {folder}", file=sys.stderr)
        return 2
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    print(f"{len(photos)} photos from {folder}; {os.cpu_count()} CPUs; load average before: "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}")

    t0, busy0, me0 = time.monotonic(), machine_busy_s(), time.process_time()
    base_ms = baseline_ms(photos, args.baseline_seconds)
    base_others = max(0.0, machine_busy_s() - busy0 - (time.process_time() - me0)) / (time.monotonic() - t0)

    tmp = Path(tempfile.mkdtemp(prefix="meterread-load-"))
    env = service_env(tmp)
    data_opt = ["--data-dir", str(tmp)]
    run_cli(["init-db", *data_opt], env)
    run_cli(["create-account", "LOAD-1", "Load test", *data_opt], env)
    run_cli(["create-meter", "LOAD-1", "LOAD-M-1", "--kind", "water", "--integer-digits", "5",
             "--fractional-digits", "3", *data_opt], env)
    run_cli(["create-user", EMAIL, "--password", PASSWORD, "--role", "customer", "--account", "LOAD-1", *data_opt], env)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), *data_opt]
    if args.workers is not None:
        serve += ["--workers", str(args.workers)]
    if args.readers is not None:
        serve += ["--readers", str(args.readers)]
    log_path = tmp / "serve.log"
    log = open(log_path, "w")
    server = subprocess.Popen(meterread_cmd() + serve, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                              start_new_session=True)
    runs: list[Run] = []
    try:
        wait_healthy(base, server)
        token = login(base)
        meter_id = json.load(urllib.request.urlopen(urllib.request.Request(
            base + "/api/meters", headers={"Authorization": f"Bearer {token}"}), timeout=30))[0]["id"]
        url = f"{base}/api/meters/{meter_id}/photos"
        bodies = {}
        for i, photo in enumerate(photos):
            bodies[photo] = tmp / f"body{i}.multipart"
            bodies[photo].write_bytes(multipart_body(photo))
            upload_once(url, token, bodies[photo].read_bytes())  # the endpoint answers 201 on this photo
        workers = worker_pids(server.pid)
        print(f"meterread {' '.join(serve)}: {len(workers)} worker process(es) under the main one; "
              f"warming up {max(levels)} clients for 3 s")
        run_hey(url, token, bodies[photos[0]], max(levels), 3)  # every worker has loaded its models
        db = tmp / "meterread.sqlite3"
        for clients in levels:
            for photo in photos:
                before, cpu0 = drafts_in(db), server_cpu(server.pid)
                kids0, busy0, me0 = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy_s(), time.process_time()
                lat, statuses, elapsed = run_hey(url, token, bodies[photo], clients, args.duration)
                kids1, busy1, me1 = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy_s(), time.process_time()
                run = Run(photo, clients, lat, statuses, elapsed)
                cpu1 = server_cpu(server.pid)
                run.server_cpu_s = sum(cpu1.values()) - sum(cpu0.get(p, 0.0) for p in cpu1)
                run.main_cpu_s = cpu1.get(server.pid, 0.0) - cpu0.get(server.pid, 0.0)
                run.worker_cpu_s = sorted((cpu1.get(w, 0.0) - cpu0.get(w, 0.0) for w in workers), reverse=True)
                run.hey_cpu_s = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
                run.other_cpu_s = max(0.0, (busy1 - busy0) - run.server_cpu_s - run.hey_cpu_s - (me1 - me0))
                run.missing = max(0, drafts_in(db) - before - run.ok)
                runs.append(run)
                if server.poll() is not None:
                    raise SystemExit(f"meterread serve exited with {server.returncode} during the load")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)  # the server's own session: it and its workers
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, 9)
        log.close()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    report(runs, photos, levels, base_ms, folder, base_others)
    print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
          + (f"; data dir and server log kept in {tmp}" if args.keep else ""))
    failed = sum(r.errors for r in runs)
    if failed:
        codes: dict[int, int] = {}
        for r in runs:
            for code, n in r.statuses.items():
                if code != 201:
                    codes[code] = codes.get(code, 0) + n
        print(f"FAILED: {failed} request(s) failed (status counts {codes}, "
              f"{sum(r.missing for r in runs)} without a response)", file=sys.stderr)
        return 1
    return 0


def split(runs: list[Run]) -> str:
    shares = [[w / sum(r.worker_cpu_s) for w in r.worker_cpu_s] for r in runs if sum(r.worker_cpu_s) > 0]
    if not shares or len(shares[0]) < 2:
        return "-"
    return "/".join(f"{100 * statistics.mean(s[i] for s in shares):.0f}" for i in range(len(shares[0])))


def report(runs: list[Run], photos: list[Path], levels: list[int], base_ms: dict, folder: Path,
           base_others: float) -> None:
    name = {ph: str(ph.relative_to(folder)) if ph.is_relative_to(folder) else ph.name for ph in photos}
    width = max(len(n) for n in name.values())
    # the in-process figure matching a run of equal time on every photo: the mean of the per-photo rates
    base_rate = statistics.mean(1000 / base_ms[ph]["plain"] for ph in photos)
    base_rate_img = statistics.mean(1000 / base_ms[ph]["images"] for ph in photos)
    print("\nin-process read_photo, one thread (median ms; rate = 1000 / median):")
    for ph in photos:
        b = base_ms[ph]
        print(f"  {name[ph]:{width}s}  {b['plain']:6.1f} ms ({1000 / b['plain']:5.1f}/s)   "
              f"with the debug and crop images the service asks for: {b['images']:6.1f} ms")
    print(f"  mean rate over the photos: {base_rate:.1f}/s ({base_rate_img:.1f}/s with images); "
          f"others' CPU meanwhile: {base_others:.2f} cores")

    print("\nservice, all photos together (each photo for the same time):")
    print(f"  {'clients':>7s} {'req/s':>7s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} {'errors':>6s} "
          f"{'requests':>8s} {'ratio':>6s}  CPU ms/req: {'server':>6s} {'main':>5s} {'hey':>5s}  worker CPU split  others' CPU")
    summary = {}
    for c in levels:
        rs = [r for r in runs if r.clients == c]
        lat = [x for r in rs for x in r.latencies_ms]
        n = sum(r.ok for r in rs)
        rate = n / sum(r.elapsed_s for r in rs)
        summary[c] = (rate, pct(lat, 95))
        print(f"  {c:7d} {rate:7.1f} {pct(lat, 50):7.0f} {pct(lat, 95):7.0f} {pct(lat, 99):7.0f} "
              f"{sum(r.errors for r in rs):6d} {sum(len(r.latencies_ms) for r in rs):8d} {rate / base_rate:5.2f}x "
              f"{'':12s}{1000 * sum(r.server_cpu_s for r in rs) / max(n, 1):6.1f} {1000 * sum(r.main_cpu_s for r in rs) / max(n, 1):5.1f} "
              f"{1000 * sum(r.hey_cpu_s for r in rs) / max(n, 1):5.2f}  "
              f"{split(rs):>16s}  {sum(r.other_cpu_s for r in rs) / sum(r.elapsed_s for r in rs):5.2f} cores")
    print("  ratio = service req/s / in-process single-thread read_photo rate; CPU ms/req: the server's processes in\n"
          "  all, its main process alone, the load generator; worker CPU split: each worker process's share of\n"
          "  their CPU time, busiest first; others' CPU: what the rest of the machine used meanwhile (0 = quiet)")

    print("\nper photo:")
    print(f"  {'photo':{width}s} {'clients':>7s} {'req/s':>7s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} {'errors':>6s} {'ratio':>6s}")
    for ph in photos:
        for r in (r for r in runs if r.photo == ph):
            rate = r.ok / r.elapsed_s
            print(f"  {name[ph]:{width}s} {r.clients:7d} {rate:7.1f} {pct(r.latencies_ms, 50):7.0f} "
                  f"{pct(r.latencies_ms, 95):7.0f} {pct(r.latencies_ms, 99):7.0f} {r.errors:6d} "
                  f"{rate / (1000 / base_ms[ph]['plain']):5.2f}x")

    if TARGET_CLIENTS in summary:
        rate, p95 = summary[TARGET_CLIENTS]
        verdict = "met" if rate >= TARGET_RATE and p95 < TARGET_P95_MS else "NOT met"
        print(f"\ntarget (issue 6: >= {TARGET_RATE:.0f} req/s, p95 < {TARGET_P95_MS:.0f} ms at {TARGET_CLIENTS} clients): "
              f"{verdict} ({rate:.1f} req/s, p95 {p95:.0f} ms)")


if __name__ == "__main__":
    sys.exit(main())
