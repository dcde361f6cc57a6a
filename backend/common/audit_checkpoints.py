"""The audit trail proves itself: every stream verified end to end, its tail held by checkpoints.

Each event's HMAC chains to the previous event of its stream (`backend/common/audit.py`), so an
edit or a deletion inside a stream breaks the chain. Deleting the *newest* events leaves a shorter
chain that still verifies; what catches it is a checkpoint: the signed head of every stream
(last event id, last HMAC, event count) written periodically to files under
`CUSTFLOW["AUDIT"]["CHECKPOINT_DIR"]` and summarised in the log, both apart from the database.
`audit_verify_all` compares the table with the latest checkpoint: a stream that ends before its
checkpointed head, lost its head event or has fewer events up to it is reported.

A checkpoint is written only after a clean verification, so a tampered table never gets
blessed: once a problem is found, every later run reports it until an operator has dealt with it.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from backend.common.audit import _digest, _payload
from backend.common.models import AuditEvent

logger = logging.getLogger("custflow.audit")

FORMAT = 1
_PREFIX = "audit-checkpoint-"
_SUFFIX = ".json.gz"


class CheckpointInvalid(Exception):
    """A checkpoint file that is unreadable or whose signature does not verify."""


@dataclass(frozen=True)
class StreamHead:
    last_id: int
    last_hash: str
    count: int


@dataclass
class Checkpoint:
    created_at: str
    events: int
    heads: dict[tuple[str, str], StreamHead]
    path: Path | None = None


@dataclass
class Problem:
    stream: str  # "object_type:object_id"
    kind: str  # edited | gap | missing_tail | checkpoint
    event_id: int | None
    detail: str

    def __str__(self) -> str:
        at = f" at event {self.event_id}" if self.event_id is not None else ""
        return f"stream {self.stream}: {self.kind}{at}: {self.detail}"


@dataclass
class Verification:
    events: int = 0
    heads: dict[tuple[str, str], StreamHead] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def streams_with_problems(self) -> list[str]:
        return sorted({p.stream for p in self.problems})


def _stream_name(stream: tuple[str, str]) -> str:
    return f"{stream[0]}:{stream[1]}"


# ---- signing and files ------------------------------------------------------------------------


def _audit_settings() -> dict[str, Any]:
    return settings.CUSTFLOW["AUDIT"]


def _signing_key() -> bytes:
    key = _audit_settings().get("CHECKPOINT_KEY") or ""
    if key:
        return key.encode()
    # Derived from the secret key (which the chain's HMACs use too) but never equal to it.
    return hmac.new(settings.SECRET_KEY.encode(), b"custflow audit checkpoint v1", hashlib.sha256).digest()


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _sign(body: dict[str, Any]) -> str:
    return hmac.new(_signing_key(), _canonical(body), hashlib.sha256).hexdigest()


def checkpoint_dir() -> Path:
    return Path(_audit_settings()["CHECKPOINT_DIR"])


def audit_checkpoint_load(path: Path) -> Checkpoint:
    """Read and check one checkpoint file (CheckpointInvalid when unreadable or not signed by us)."""
    try:
        document = json.loads(gzip.decompress(Path(path).read_bytes()))
        signature = document.pop("signature")
        if not isinstance(signature, str) or not hmac.compare_digest(signature, _sign(document)):
            raise CheckpointInvalid(f"{path}: signature does not verify")
        if document.get("format") != FORMAT:
            raise CheckpointInvalid(f"{path}: unknown format {document.get('format')!r}")
        heads = {(t, i): StreamHead(int(last_id), h, int(n)) for t, i, last_id, h, n in document["streams"]}
        return Checkpoint(
            created_at=document["created_at"], events=int(document["events"]), heads=heads, path=Path(path)
        )
    except CheckpointInvalid:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, gzip.BadGzipFile) as exc:
        raise CheckpointInvalid(f"{path}: unreadable ({exc.__class__.__name__}: {exc})") from exc


def audit_checkpoint_latest() -> Checkpoint | None:
    """The newest checkpoint in the checkpoint directory, or None when there is none yet."""
    directory = checkpoint_dir()
    if not directory.is_dir():
        return None
    files = sorted(p for p in directory.iterdir() if p.name.startswith(_PREFIX) and p.name.endswith(_SUFFIX))
    return audit_checkpoint_load(files[-1]) if files else None


def audit_checkpoint_write(verification: Verification) -> Path:
    """Write the heads of a clean verification as a signed checkpoint file and log its summary."""
    if not verification.ok:
        raise ValueError("a checkpoint is written only after a clean verification")
    now = timezone.now()
    body = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "events": verification.events,
        "streams": [
            [t, i, h.last_id, h.last_hash, h.count] for (t, i), h in sorted(verification.heads.items())
        ],
    }
    body["signature"] = _sign(body)
    data = gzip.compress(_canonical(body), mtime=0)
    directory = checkpoint_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_PREFIX}{now.strftime('%Y%m%dT%H%M%S%fZ')}{_SUFFIX}"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    # The log is the second copy, kept apart from both the table and the directory.
    logger.info(
        "audit checkpoint %s: %d streams, %d events, file sha256 %s, signature %s",
        path.name,
        len(verification.heads),
        verification.events,
        hashlib.sha256(data).hexdigest(),
        body["signature"],
    )
    return path


# ---- verification -----------------------------------------------------------------------------


def audit_verify_all(*, checkpoint: Checkpoint | None = None) -> Verification:
    """Every stream end to end (chain and HMACs), then against `checkpoint`'s heads.

    One ordered pass over the table (on the (object_type, object_id, id) index), streamed.
    """
    result = Verification(checkpoint=checkpoint)
    expected = checkpoint.heads if checkpoint else {}
    seen: set[tuple[str, str]] = set()
    stream: tuple[str, str] | None = None
    prev, count, upto, head_found = "", 0, 0, False

    def close(current: tuple[str, str] | None) -> None:
        if current is None:
            return
        result.heads[current] = StreamHead(last_id, prev, count)
        head = expected.get(current)
        if head is None:
            return
        name = _stream_name(current)
        if not head_found:
            result.problems.append(
                Problem(
                    name,
                    "missing_tail",
                    head.last_id,
                    f"the checkpointed head event {head.last_id} is gone (stream ends at {last_id})",
                )
            )
        elif upto != head.count:
            result.problems.append(
                Problem(
                    name,
                    "gap",
                    head.last_id,
                    f"{upto} events up to the checkpointed head, the checkpoint counted {head.count}",
                )
            )

    last_id = 0
    events = AuditEvent.objects.order_by("object_type", "object_id", "id")
    for event in events.iterator(chunk_size=2000):
        key = (event.object_type, event.object_id)
        if key != stream:
            close(stream)
            stream, prev, count, upto, head_found = key, "", 0, 0, False
            seen.add(key)
        name = _stream_name(key)
        count += 1
        result.events += 1
        if event.prev_hash != prev:
            what = (
                "the stream's first event does not start the chain"
                if count == 1
                else "an event before it is missing"
            )
            result.problems.append(Problem(name, "gap", event.pk, what))
        if event.hash != _digest(event.prev_hash, _payload(event)):
            result.problems.append(Problem(name, "edited", event.pk, "its content does not match its HMAC"))
        head = expected.get(key)
        if head is not None and event.pk <= head.last_id:
            upto += 1
            if event.pk == head.last_id:
                head_found = True
                if event.hash != head.last_hash:
                    result.problems.append(
                        Problem(name, "edited", event.pk, "the checkpointed head event was rewritten")
                    )
        prev, last_id = event.hash, event.pk
    close(stream)
    for key, head in expected.items():
        if key not in seen:
            result.problems.append(
                Problem(
                    _stream_name(key),
                    "missing_tail",
                    head.last_id,
                    f"all {head.count} events of the stream are gone",
                )
            )
    return result


def audit_verify_and_checkpoint(
    *, checkpoint_path: Path | str | None = None, write: bool = True
) -> Verification:
    """What `manage.py audit_verify` and the beat job do: verify every stream against the latest
    checkpoint (or the given one) and, when all is clean, write a new checkpoint. Problems are
    logged as errors naming each stream; nothing is written then."""
    try:
        checkpoint = (
            audit_checkpoint_load(Path(checkpoint_path)) if checkpoint_path else audit_checkpoint_latest()
        )
    except CheckpointInvalid as exc:
        result = Verification()
        result.problems.append(Problem("*", "checkpoint", None, str(exc)))
        logger.error("audit verification failed: %s", exc)
        return result
    result = audit_verify_all(checkpoint=checkpoint)
    for problem in result.problems:
        logger.error("audit verification failed: %s", problem)
    if result.ok and write:
        audit_checkpoint_write(result)
    return result
