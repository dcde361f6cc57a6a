"""Point the Celery app at a broker for one test: a closed loopback port (the broker is down) or
the real Redis; and a minimal worker that runs the jobs waiting in the Redis queue in-process."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from backend.config.celery import app

REDIS_URL = (
    os.environ.get("CELERY_BROKER_URL", "")
    if os.environ.get("CELERY_BROKER_URL", "").startswith("redis")
    else "redis://127.0.0.1:6379/8"
)


# One queue per test process: xdist workers (and other tests publishing through their kicks)
# never take each other's jobs.
QUEUE = f"custflow-test-{os.getpid()}"
_QUEUE_KEYS = ("task_default_queue", "task_default_exchange", "task_default_routing_key")


def _reset_pools() -> None:
    """Forget every connection and producer pool built for the old URL. kombu keeps its pools in
    a process-wide registry keyed by connection: clear that too, or a later switch back to the
    same URL would find the pool closed here."""
    from kombu import pools

    pools.reset()
    app._after_fork()


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options)
    saved_queue = {key: app.conf[key] for key in _QUEUE_KEYS}
    # Celery reads CELERY_BROKER_URL from the environment before its own setting.
    saved_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = url, False, {}
    app.conf.update({key: QUEUE for key in _QUEUE_KEYS})
    app.__dict__.pop("amqp", None)  # its queues and router were built for the old queue
    _reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = saved
        app.conf.update(saved_queue)
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        app.__dict__.pop("amqp", None)
        _reset_pools()


@contextmanager
def broker_down() -> Iterator[str]:
    """A loopback port with a bound socket that does not listen: every connect is refused
    (`Error 111 connecting to ...`), as with a Redis that died."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    try:
        with broker_at(url):
            yield url
    finally:
        sock.close()


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


requires_redis = pytest.mark.skipif(not redis_available(), reason=f"no Redis at {REDIS_URL}")


def queue_clear() -> None:
    from kombu import Connection

    with Connection(REDIS_URL) as conn:
        conn.SimpleQueue(QUEUE).clear()


def run_queued_jobs() -> list[str]:
    """A one-shot worker: take every job waiting in the Redis queue and run it here, as the
    worker would (same task functions, same database). Returns the job names, in order."""
    from kombu import Connection

    ran: list[str] = []
    with Connection(REDIS_URL) as conn:
        queue = conn.SimpleQueue(QUEUE)
        try:
            while True:
                try:
                    message = queue.get_nowait()
                except queue.Empty:
                    break
                name = message.headers["task"]
                args, kwargs, _embed = message.decode()
                message.ack()
                app.tasks[name].apply(args=args, kwargs=kwargs, throw=True)
                ran.append(name)
        finally:
            queue.close()
    return ran
