"""Hard CPU-time and memory bounds for one piece of work: run it in a forked child.

The one place custflow runs work that may not end or may eat memory: background engine steps
(a C-level call such as ``sorted([range(999999)] * 99, key=sorted)`` cannot be interrupted
from inside the process) and the parsing of uploaded files (hostile PDFs, spreadsheets). The
work runs in a child process with an address-space limit (``RLIMIT_AS``: the parent's size
plus a margin), a CPU-time limit and a wall-clock kill. The parent waits in ``select`` (the
GIL is released, so other threads of a web worker keep serving). With ``database=True`` the
child uses its own database connections, so a killed step never commits and the database
rolls it back. The parent sees one of:

- ``("ok", value)`` — the step committed in the child;
- ``("error", {"message", "element"})`` — the step failed with a clear error (its transaction
  rolled back in the child);
- ``("killed", {"message"})`` — the child exceeded its wall-clock bound or died;
- ``("transient", {"message"})`` — (only with ``classify``) the work did not fail, its
  surroundings did: ``classify(exc)`` answered "transient" (a broker, mail or database outage,
  SystemExit), or the child was ended by a shutdown signal (SIGTERM/SIGINT/SIGHUP/SIGQUIT). The
  caller logs it and retries.

``run_isolated_steps`` runs many steps in one such child (the timer sweep's batch): each step
announces itself to the parent, which re-arms the step's wall-clock and CPU budget, so a killed
child loses only the step under way and the caller knows which one it was.

``database=True`` is only for callers outside any transaction (the timer sweep): the child
cannot see uncommitted rows of the parent. ``database=False`` is for pure computations on
bytes (file parsing): allowed inside a transaction, the child must not touch the database.
The value returned by ``fn`` crosses back as JSON. Linux only (fork, /proc, prctl).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from django.db import connections

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# A child ended by one of these was shut down with its worker, not stopped by a bound.
_SHUTDOWN_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT})


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * _PAGE


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL when the worker that forked it ends (no orphaned steps)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _detach_connections() -> None:
    """In the child: forget the parent's database connections without closing them (closing
    would end the parent's session on the shared socket); the child opens its own."""
    for conn in connections.all(initialized_only=True):
        conn.connection = None
        conn.in_atomic_block = False
        conn.savepoint_ids = []
        conn.needs_rollback = False
        conn.closed_in_transaction = False


def _failure(exc: BaseException, memory_mb: int, classify: Callable[[BaseException], str] | None) -> list[Any]:
    """In the child: what the parent is told of the exception that ended the work."""
    if isinstance(exc, MemoryError):
        return ["error", {"message": f"step exceeded its memory bound ({memory_mb} MB)", "element": ""}]
    extra = getattr(exc, "extra", None) or {}
    return [
        classify(exc) if classify is not None else "error",
        {
            "message": getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}",
            "element": str(extra.get("element") or ""),
            "code": str(getattr(exc, "code", "") or ""),
        },
    ]


def _death(status: int, classify: Callable[[BaseException], str] | None) -> tuple[str, dict]:
    """In the parent: a child that ended without an answer (a signal or an exit status)."""
    reason = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.WEXITSTATUS(status)}"
    shutdown = os.WIFSIGNALED(status) and os.WTERMSIG(status) in _SHUTDOWN_SIGNALS
    kind = "transient" if shutdown and classify is not None else "killed"
    return kind, {"message": f"step process died ({reason})", "element": ""}


def run_isolated(
    fn: Callable[[], Any],
    *,
    seconds: float,
    memory_mb: int,
    database: bool = True,
    classify: Callable[[BaseException], str] | None = None,
) -> tuple[str, Any]:
    """``fn()`` in one bounded child: one step of `run_isolated_steps` (the same fork, bounds,
    wall-clock kill and answers); ``database=False`` lets a caller inside a transaction use it
    for work that does not touch the database."""
    kind, value, _ = run_isolated_steps(
        lambda step: fn(), seconds=seconds, memory_mb=memory_mb, classify=classify, database=database
    )
    return kind, value


def _set_cpu_budget(seconds: float) -> None:
    """In the child: the next ``seconds`` of CPU time, from what it has used so far (SIGXCPU
    ends it past that)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def run_isolated_steps(
    fn: Callable[[Callable[[Any], None]], Any],
    *,
    seconds: float,
    memory_mb: int,
    classify: Callable[[BaseException], str] | None = None,
    database: bool = True,
) -> tuple[str, Any, list[Any]]:
    """Many steps in one bounded child: ``fn(step)`` calls ``step(note)`` as each step begins
    (and may call it again as a step ends). Every call gives the child a fresh budget of
    ``seconds`` (wall clock, watched by the parent, and CPU time, ``RLIMIT_CPU``) and sends
    ``note`` (JSON) to the parent; the address-space bound covers the child as a whole.

    Returns ``(kind, value, notes)``: kind and value as `run_isolated` (the value of ``fn``, or
    why the child failed or was killed) and every note received, in order, so the caller knows
    which step was under way when the child died: a killed child loses only its uncommitted
    step, and the caller runs the rest again in a new child. Database: as ``database=True``."""
    for conn in connections.all(initialized_only=True):
        if database and conn.in_atomic_block:
            raise RuntimeError("run_isolated must not be called inside a transaction")
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 0
        try:
            os.close(read_fd)
            _die_with_parent()
            _detach_connections()
            limit = _address_space() + memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

            def write(obj: Any) -> None:
                view = memoryview(json.dumps(obj, default=str).encode() + b"\n")
                while view:
                    view = view[os.write(write_fd, view) :]

            def step(note: Any) -> None:
                _set_cpu_budget(seconds)
                write(["step", note])

            _set_cpu_budget(seconds)
            try:
                payload: list[Any] = ["ok", fn(step)]
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                payload = _failure(exc, memory_mb, classify)
            write(payload)
            for conn in connections.all(initialized_only=True):
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    notes: list[Any] = []
    final: list[Any] | None = None
    buffer = b""
    deadline = time.monotonic() + seconds
    killed = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                killed = True
                break
            ready, _, _ = select.select([read_fd], [], [], min(left, 0.5))
            if not ready:
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                message = json.loads(line)
                if message[0] == "step":
                    notes.append(message[1])
                    deadline = time.monotonic() + seconds
                else:
                    final = message
    finally:
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
    if killed:
        return "killed", {"message": f"step stopped after {seconds:g} s (killed)", "element": ""}, notes
    if final is None:
        return (*_death(status, classify), notes)
    return final[0], final[1], notes
