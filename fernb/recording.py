"""Recorded profiles (DESIGN.md, "Profiles"): run chapters in ``long`` (SynthFER on this CPU, hours, in the
background, resumable) or ``full`` (a GPU within a time budget) and keep what they report under
``results/<chapter>/<profile>/`` (:func:`fernb.results.record`).

    python -m fernb.book record 09_lfer_ldl 05_resemotenet --background      # long, detached, resumable
    python -m fernb.book record-gpu 05_resemotenet 09_lfer_ldl --budget-s 480  # full, on a GPU, in 8 minutes
    python -m fernb.book record-gpu 00_quickstart --dry-run --budget-s 60      # the same script, smoke, on a CPU

Each chapter runs through the book's own command, ``python -m fernb.book run CHAPTER -p profile P --record``, in a
process of its own (a budget can stop it; this module drives the runner and does not import it).
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from fernb import paths
from fernb.profiles import RECORDED

ROOT = paths.REPO


def _run_command(name: str, profile: str, params: dict | None = None, force: bool = False,
                 log: bool = False) -> list[str]:
    args = [sys.executable, "-m", "fernb.book", "run", name, "-p", "profile", profile, "--record"]
    for k, v in (params or {}).items():
        args += ["-p", k, str(v)]
    return args + (["--force"] if force else []) + (["--log"] if log else [])


def record_chapters(names: list[str], profile: str = "long", force: bool = False) -> list[Path]:
    """Run ``names`` in ``profile`` one after another and record each under ``results/<chapter>/<profile>/``.
    One recording at a time (a lock under ``_build/``: a second one stops at once, naming the first's pid). A
    killed recording resumes when the same command runs again: finished runs are reused from the registry, a run
    cut short resumes from its last checkpoint, and recorded chapters are up to date."""
    if profile not in RECORDED:
        raise ValueError(f"--profile {profile}: recorded profiles are {', '.join(RECORDED)}")
    for n in names:
        paths.chapter_path(n)  # an unknown chapter fails here, before anything runs
    lock = paths.build_root() / f"record-{profile}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            raise RuntimeError(f"a {profile} recording is already running ({f.read().strip() or 'pid unknown'}); "
                               f"its log is under {paths.in_repo(paths.build_root() / 'logs')}") from None
        f.truncate(0)
        f.write(f"pid {os.getpid()}")
        f.flush()
        done = []
        for n in names:
            rc = subprocess.call(_run_command(n, profile, force=force, log=True), cwd=ROOT)
            if rc != 0:
                raise RuntimeError(f"chapter {n} stopped (exit {rc}) in the {profile} recording; what it trained is "
                                   f"kept, and the same command resumes it")
            done.append(paths.build_root() / "executed" / profile / f"{n}.ipynb")
        return done


def record_in_background(names: list[str], profile: str = "long", force: bool = False) -> tuple[int, Path]:
    """:func:`record_chapters` in a detached process (it outlives this shell), its output in
    ``_build/logs/record-<profile>.log``; returns ``(pid, log)``."""
    log = paths.build_root() / "logs" / f"record-{profile}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "fernb.book", "record", *names, "--profile", profile, *(["--force"] if force else [])]
    with open(log, "a") as out:
        out.write(f"\n== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd[1:])}\n")
        out.flush()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                                start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return proc.pid, log


MIN_START_S = 15  # a chapter is not started with less of the budget left than this


def record_gpu(names: list[str], budget_s: float = 480, params: dict | None = None, dry_run: bool = False,
               out: Path | None = None) -> list[dict]:
    """Run ``names`` in ``full`` one after another within ``budget_s`` seconds in all, recording each that
    finishes; a chapter still running when the budget ends is stopped (its finished runs stay in the registry,
    nothing of it is recorded). ``params`` go to every chapter (``dataset``, ``data_root`` for a reader's data).
    ``dry_run``: the same in ``smoke`` on whatever device there is (the CPU test of this script). ``out``: a
    folder to leave ``results-<profile>.tar.gz`` of the recordings in (the device machine's ``$OUT``). Returns
    one record per chapter (status, seconds, where it was recorded) and prints them."""
    profile = "smoke" if dry_run else "full"
    if not budget_s > 0:
        raise ValueError(f"--budget-s must be a positive number of seconds, got {budget_s!r}")
    for n in names:
        paths.chapter_path(n)  # an unknown chapter fails here, before anything runs
    deadline, done = time.monotonic() + budget_s, []
    for name in names:
        left = deadline - time.monotonic()
        if left < MIN_START_S:
            done.append({"chapter": name, "status": "not started: the budget is spent", "seconds": 0.0})
            continue
        done.append(_record_one(name, profile, params or {}, left))
        print(f"record-gpu: {name}: {done[-1]['status']} ({done[-1]['seconds']:.0f} s)", flush=True)
    recorded = [d["recorded"] for d in done if d.get("recorded")]
    if out is not None and recorded:
        done_archive = _archive(recorded, Path(out) / f"results-{profile}.tar.gz")
        print(f"record-gpu: {len(recorded)} recording(s) packed in {done_archive}")
    for d in done:
        print(f"  {d['chapter']:<26} {d['status']:<44} {d['seconds']:>6.0f} s  {d.get('recorded') or ''}")
    return done


def _record_one(name: str, profile: str, params: dict, timeout: float) -> dict:
    """One chapter through ``python -m fernb.book run ... --record`` in its own process group, stopped at
    ``timeout`` seconds."""
    from fernb.results import results_root

    t = time.monotonic()
    proc = subprocess.Popen(_run_command(name, profile, params), cwd=ROOT, start_new_session=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return {"chapter": name, "status": "stopped at the budget: not recorded", "seconds": time.monotonic() - t}
    seconds = time.monotonic() - t
    if rc != 0:
        return {"chapter": name, "status": f"failed (exit {rc}): not recorded", "seconds": seconds}
    where = results_root() / name / profile
    return {"chapter": name, "status": "recorded", "seconds": seconds, "recorded": str(paths.in_repo(where))}


def _archive(folders: list[str], path: Path) -> Path:
    from fernb.results import results_root

    path.parent.mkdir(parents=True, exist_ok=True)
    root = results_root()
    with tarfile.open(path, "w:gz") as tar:
        for f in folders:
            full = ROOT / f if not Path(f).is_absolute() else Path(f)
            tar.add(full, arcname=str(full.relative_to(root)) if full.is_relative_to(root) else full.name)
    return path
