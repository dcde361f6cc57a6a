"""Diagram code runs in a pool of isolated worker processes with hard limits.

The in-process sandbox (``sandbox.py``, ``guards.py``) bounds Python-level work, but a single C call
on data within its size limits cannot be interrupted from inside the process: hashing a tuple nested
a million deep overflows the C stack (segfault), twenty 1M-entry dicts exhaust memory, ``max()`` over
a large range a few hundred times spins for seconds. So every script, condition and expression is
sent, as (code, JSON-able variables), to a worker process of a pebble ``ProcessPool`` and only
JSON-able data comes back. Each worker

- limits its address space (``RLIMIT_AS``: its size after start-up plus ``memory_mb``),
- limits the CPU time of each call (``RLIMIT_CPU``, re-armed per call: SIGXCPU ends the worker),
- lowers ``sys.setrecursionlimit`` and disables core dumps,
- dies on SIGTERM at once (pebble's handler would wait for the C call to return) and with its parent
  (``PR_SET_PDEATHSIG``),
- is replaced after ``max_tasks`` calls or when it dies; a call that outlives ``timeout`` seconds of
  wall clock has its worker killed and replaced.

Workers are started with the ``spawn`` method: a fresh interpreter that inherits no database
connection, no lock held by another thread and no open transaction of the parent. They import only
the engine package. The pool belongs to the process that created it (a forked Celery or gunicorn
worker makes its own on first use).

Helpers (``deadline()``, domain helpers) read the database and settings, so they cannot run in a
worker: a worker that meets a helper call it has no answer for stops the script with ``HelperNeeded``
and names the call; the parent computes it and sends the script again with the answer (scripts are
deterministic: the clock is pinned for the call, and nothing else varies). At most
``MAX_HELPER_CALLS`` distinct helper calls per script.

Pure Python, no Django: the limits come in as ``PoolLimits``.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import multiprocessing
import multiprocessing.util
import os
import resource
import signal
import sys
import threading
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from pebble import ProcessExpired, ProcessPool

# The runner is imported here, in the parent, so a worker has it before its memory limit is set.
from . import clock
from .errors import ScriptError
from .sandbox import ScriptRunner

MAX_HELPER_CALLS = 32
MAX_HELPER_ARGUMENT_CHARS = 10_000
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class PoolLimits:
    """Size and limits of the sandbox worker pool (figures: ``CUSTFLOW["SCRIPT_POOL"]``)."""

    workers: int = 2
    memory_mb: int = 256  # address space a worker may add to its start-up size
    cpu_seconds: float = 3.0  # CPU time of one call
    timeout: float = 3.0  # wall clock of one call, then the worker is killed
    recursion_limit: int = 400
    max_tasks: int = 1000  # calls before a worker is replaced


class PoolFailure(Exception):
    """The worker running a call was killed or died; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class HelperNeeded(BaseException):  # noqa: N818 - a control signal, not an error; scripts cannot catch it
    """Raised inside a worker when a script calls a helper whose answer the parent has not sent."""

    def __init__(self, name: str, key: str, args: tuple, kwargs: dict):
        super().__init__(name)
        self.name, self.key, self.args_, self.kwargs = name, key, args, kwargs


def helper_key(name: str, args: tuple, kwargs: dict) -> str:
    """The memo key of one helper call; helpers take JSON values only."""
    try:
        return json.dumps([name, list(args), kwargs], sort_keys=True)
    except (TypeError, ValueError):
        raise TypeError(f"{name}() accepts only JSON values (text, numbers, lists, dicts)") from None


# ---- the parent side ---------------------------------------------------------------------------


class ScriptPool:
    """A pebble process pool of sandbox workers; safe to share between threads."""

    def __init__(self, limits: PoolLimits):
        self.limits = limits
        self._lock = threading.Lock()
        self._pool: ProcessPool | None = None
        self._pid: int | None = None

    def _ensure(self) -> ProcessPool:
        with self._lock:
            if self._pool is None or self._pid != os.getpid() or not self._pool.active:
                self._pool = ProcessPool(
                    max_workers=self.limits.workers,
                    max_tasks=self.limits.max_tasks,
                    initializer=_worker_init,
                    initargs=(self.limits.memory_mb, self.limits.recursion_limit),
                    context=multiprocessing.get_context("spawn"),
                )
                self._pid = os.getpid()
            return self._pool

    def call(self, request: dict) -> tuple:
        """Run one request in a worker; returns its reply or raises ``PoolFailure``."""
        if _DISPOSABLE_PID == os.getpid():
            sys.setrecursionlimit(self.limits.recursion_limit)
            return _serve(request, self.limits.cpu_seconds)
        timeout = self.limits.timeout
        future = self._ensure().schedule(_serve, args=(request, self.limits.cpu_seconds), timeout=timeout)
        try:
            # pebble kills the worker at `timeout` after the call starts; the extra bound only
            # guards against a pool that never starts it.
            return future.result(timeout=timeout + 60)
        except FutureTimeout:
            future.cancel()
            raise PoolFailure(f"script stopped after {timeout:g} s (its worker process was killed)") from None
        except ProcessExpired as exc:
            raise PoolFailure(_death(exc.exitcode, self.limits)) from None
        except CancelledError:
            raise PoolFailure("script cancelled (the worker pool was shut down)") from None
        except MemoryError:
            raise PoolFailure(f"script exceeded its memory limit ({self.limits.memory_mb} MB)") from None
        except Exception as exc:  # noqa: BLE001 - a reply that could not be sent or read
            raise PoolFailure(f"script worker failed: {type(exc).__name__}: {exc}") from None

    def stop(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.stop()
                self._pool.join(timeout=5)
            self._pool = None


def _death(exitcode: int | None, limits: PoolLimits) -> str:
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        if number == signal.SIGXCPU:
            return f"script exceeded its CPU-time limit ({limits.cpu_seconds:g} s); its worker process was stopped"
        if number == signal.SIGSEGV:
            return "script crashed its worker process (segmentation fault: nesting too deep?)"
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"script crashed its worker process ({name})"
    return f"script worker process ended unexpectedly (exit status {exitcode})"


_DISPOSABLE_PID: int | None = None


def disposable_process() -> None:
    """Declare this process a disposable sandbox worker: scripts run here, with the per-call CPU
    limit and the recursion limit, instead of in the pool. Only for a child process that is thrown
    away after its job and whose parent already bounds its address space and kills it at a wall-clock
    limit (the forked timer step, ``processes/isolation.py``): spawning a pool inside each such child
    would cost more than the step."""
    global _DISPOSABLE_PID
    _DISPOSABLE_PID = os.getpid()


_POOLS: dict[PoolLimits, ScriptPool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(limits: PoolLimits | None = None) -> ScriptPool:
    """The process-wide pool for ``limits`` (the defaults when None)."""
    limits = limits or PoolLimits()
    with _POOLS_LOCK:
        pool = _POOLS.get(limits)
        if pool is None:
            pool = _POOLS[limits] = ScriptPool(limits)
        return pool


@atexit.register
def _stop_all() -> None:
    for pool in list(_POOLS.values()):
        try:
            pool.stop()
        except Exception:  # noqa: BLE001 - shutting down anyway
            pass


# A process started by multiprocessing (a benchmark worker, a spawned helper) ends through
# multiprocessing's own exit function, which joins its child processes before the interpreter's
# atexit handlers run: the pool's workers must be stopped first, or that process never exits.
multiprocessing.util.Finalize(None, _stop_all, exitpriority=100)


# ---- the worker side ---------------------------------------------------------------------------


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * _PAGE


def _worker_init(memory_mb: int, recursion_limit: int) -> None:
    # pebble's SIGTERM handler runs only between bytecodes: a C-level loop would outlive it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limit = _address_space() + memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    sys.setrecursionlimit(recursion_limit)


def _arm_cpu_limit(seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    _old, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _serve(request: dict, cpu_seconds: float) -> tuple:
    """One call in a worker: ("value", result) | ("data", updated variables) | ("error", message)
    | ("helper", name, key, args, kwargs)."""
    _arm_cpu_limit(cpu_seconds)
    memo: dict[str, Any] = request["memo"]

    def stub(name: str):
        def call(*args, **kwargs):
            key = helper_key(name, args, kwargs)
            if key in memo:
                kind, value = memo[key]
                if kind == "ok":
                    return value
                raise _remote_error(*value)
            if len(key) > MAX_HELPER_ARGUMENT_CHARS:
                raise ValueError(f"arguments of {name}() too large")
            raise HelperNeeded(name, key, args, kwargs)

        return call

    names = dict(request["values"])
    names.update({name: stub(name) for name in request["helpers"]})
    runner = ScriptRunner(names=names, max_steps=request["max_steps"], max_seconds=request["max_seconds"])
    try:
        with clock.frozen(request["now"]):
            if request["mode"] == "eval":
                return ("value", runner.evaluate(request["source"], request["context"], request["external"]))
            return ("data", runner.execute(request["source"], request["context"], request["external"]))
    except HelperNeeded as need:
        return ("helper", need.name, need.key, need.args_, need.kwargs)
    except ScriptError as exc:
        return ("error", exc.message)
    except MemoryError:
        return ("error", "MemoryError: the script ran out of memory")
    except RecursionError:
        return ("error", "RecursionError: maximum recursion depth exceeded")


_REMOTE_ERRORS = {e.__name__: e for e in (ValueError, KeyError, TypeError, IndexError, ZeroDivisionError)}


def _remote_error(kind: str, message: str) -> Exception:
    cls = _REMOTE_ERRORS.get(kind) or type(kind, (Exception,), {})
    return cls(message)
