"""One writer per run folder: an exclusive ``fcntl.flock`` on ``<run folder>/.lock``, which holds the holder's pid.

A second process asking for the same run waits until the holder is done (then finds the run finished and reuses
it), or fails after ``timeout`` seconds naming the holder's pid. The kernel releases the lock of a process that dies,
even by SIGKILL, so the next one takes the run over and resumes from its last checkpoint.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import time
import warnings
from pathlib import Path

LOCK_NAME = ".lock"
_held: set[Path] = set()  # run folders this process holds: asking again here would wait for itself


class RunLockTimeout(TimeoutError):
    """The run folder stayed held by another process for longer than the timeout."""


class RunLock:
    """``with RunLock(folder, timeout): ...`` or ``acquire()`` / ``release()``. ``timeout=None`` waits as long as
    the holder lives; ``on_wait(holder)`` is called once when the lock is found held."""

    def __init__(self, folder: Path, timeout: float | None = None, poll: float = 0.2, on_wait=None):
        if timeout is not None and not timeout >= 0:
            raise ValueError(f"lock_timeout must be None (wait) or seconds >= 0, got {timeout!r}")
        self.folder, self.path = Path(folder), Path(folder) / LOCK_NAME
        self.timeout, self.poll, self.on_wait, self.fd = timeout, poll, on_wait, None

    def holder(self) -> str:
        """What the lock file says about its holder ("pid 123 on host"), or "an unknown process"."""
        try:
            pid, _, host = self.path.read_text().strip().partition(" ")
        except OSError:
            pid, host = "", ""
        return f"pid {pid} on {host}" if pid else "an unknown process"

    def acquire(self) -> "RunLock":
        key = self.folder.resolve()
        if key in _held:
            raise RuntimeError(f"run folder {self.folder.name} is already being trained by this process "
                               f"(pid {os.getpid()}); a nested fit of the same configuration would wait for itself")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        start, told = time.monotonic(), False
        try:
            while not self._try(fd):
                holder = self.holder()
                if self.timeout is not None and time.monotonic() - start >= self.timeout:
                    raise RunLockTimeout(f"run folder {self.folder.name} is held by {holder} (still training it); "
                                         f"gave up after lock_timeout={self.timeout:g} s. Wait for it, or stop that "
                                         f"process; its run resumes from the last checkpoint")
                if not told and self.on_wait is not None:
                    self.on_wait(holder)
                told = True
                time.sleep(self.poll)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        self.fd = fd
        _held.add(key)
        return self

    @staticmethod
    def _try(fd) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        except OSError as e:  # a file system without flock (some network mounts): train unguarded, and say so
            if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            warnings.warn(f"run folders cannot be locked on this file system ({e.strerror}); do not train the same "
                          f"configuration from two processes at once", RuntimeWarning, stacklevel=4)
            return True

    def release(self):
        if self.fd is None:
            return
        _held.discard(self.folder.resolve())
        try:
            os.ftruncate(self.fd, 0)
        finally:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
