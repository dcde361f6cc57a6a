"""Shared helpers of the integration tests: polling, free ports, Celery worker/beat processes,
and private PostgreSQL / Redis servers that a test may restart or kill (the machine's shared
servers are never touched)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database this process uses, for a worker started beside it."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    return f"postgres://{user}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def worker_env(tmp_path, **extra: str) -> dict[str, str]:
    """Environment of a real Celery worker (and beat) on this test's database and broker, with a
    queue and filesystem-broker folder of its own; ``extra`` adds or overrides variables."""
    import uuid

    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CUSTFLOW_QUEUE": f"custflow-test-{uuid.uuid4().hex[:8]}",
        "CUSTFLOW_BROKER_DIR": str(tmp_path / "broker"),
        "CUSTFLOW_TIMER_SWEEP_SECONDS": "1",
        "CUSTFLOW_INTEGRATION": "1",
        **extra,
    }


def wait_for(predicate, timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Celery worker and beat processes with the given environment, each logging to tmp_path."""

    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.tmp = tmp_path
        self.env = env
        self.queue = env.get("CUSTFLOW_QUEUE", "custflow")
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "backend.config", *args, "--loglevel", "INFO"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        return self.procs[name]

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(name, "worker", "--pool", "solo", "-n", f"{name}@%h")

    def beat(self) -> subprocess.Popen:
        return self.start("beat", "beat", "--schedule", str(self.tmp / "beat-schedule"))

    def logs(self) -> str:
        return "\n".join(f"--- {n} (exit {p.poll()}) ---\n" + (self.tmp / f"{n}.log").read_text()[-2000:]
                         for n, p in self.procs.items())

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the `postgres` OS user."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def postgres_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def private_servers_available() -> bool:
    if postgres_bin_dir() is None or shutil.which("redis-server") is None:
        return False
    if os.geteuid() == 0:
        return shutil.which("runuser") is not None and _user_exists("postgres")
    return True


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (trust auth, 127.0.0.1, a free port) in a tmp dir."""

    def __init__(self, dbname: str = "custflow"):
        # Not under pytest's tmp_path: that is private to root, and the cluster belongs to `postgres`.
        base = self.base = Path(tempfile.mkdtemp(prefix="custflow-pg-"))
        self.bin = postgres_bin_dir()
        self.dir = base / "pgdata"
        self.sock = base / "pgsock"
        self.log = base / "postgres.log"
        self.port = free_port()
        self.dbname = dbname
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"
        base.chmod(0o777)  # the postgres OS user writes the cluster, socket and log here
        self.sock.mkdir()
        self.sock.chmod(0o777)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(_as_postgres([str(self.bin / args[0]), *args[1:]]), check=check, capture_output=True, text=True, timeout=120)

    def init(self):
        self._run("initdb", "-D", str(self.dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(self.dir / "postgresql.conf", "a") as f:
            # The drills kill the server's processes, never the machine: fsync may stay off (what a
            # commit wrote reaches the OS and survives), but a commit must not answer before its WAL
            # is written — with synchronous_commit off an `-m immediate` crash loses transactions
            # the client was told had committed, which production never allows.
            f.write("fsync = off\nfull_page_writes = off\nsynchronous_commit = on\nmax_connections = 100\n")

    def ctl(self, action: str, mode: str = "fast"):
        args = ["pg_ctl", "-D", str(self.dir), "-o", f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1", "-l", str(self.log), "-w"]
        if action in ("stop", "restart"):
            args += ["-m", mode]
        self._run(*args, action)

    def start(self):
        self.ctl("start")
        subprocess.run(_as_postgres([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.dbname]),
                       check=True, capture_output=True, timeout=60)

    def crash_and_start(self):
        """`pg_ctl stop -m immediate` is a crash: no checkpoint, crash recovery on the next start."""
        self.ctl("stop", "immediate")
        self.ctl("start")

    def destroy(self):
        self._run("pg_ctl", "-D", str(self.dir), "stop", "-m", "immediate", check=False)
        shutil.rmtree(self.base, ignore_errors=True)


class PrivateRedis:
    """A throwaway redis-server on a free port; `persistent` keeps an append-only file so a
    killed server comes back with its queues, as a broker in production must."""

    def __init__(self, base: Path, persistent: bool = False):
        self.dir = base / "redis"
        self.dir.mkdir()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.persistent = persistent
        self.proc: subprocess.Popen | None = None
        self.log = base / "redis.log"

    def start(self):
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *aof,
                                      "--dir", str(self.dir), "--daemonize", "no"],
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        assert wait_for(self.up, timeout=10), self.log.read_text()

    def up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    destroy = kill
