"""A folder of JSON files standing in for phones and mailboxes during development and tests."""
import json
import os
import uuid
from pathlib import Path

from coretet.models.base import utcnow


def write(outbox_dir, kind, record):
    """Store one message (kind 'sms' or 'email'); returns its id."""
    folder = Path(outbox_dir) / kind
    folder.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    message_id = uuid.uuid4().hex
    record = {"id": message_id, "at": now.isoformat(), **record}
    name = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{message_id}.json"
    temporary = folder / f".{name}.tmp"
    temporary.write_text(json.dumps(record))
    os.replace(temporary, folder / name)  # readers never see half a file
    return message_id


def read(outbox_dir, kind, limit=100):
    """The newest messages of that kind first."""
    folder = Path(outbox_dir) / kind
    if not folder.is_dir():
        return []
    names = sorted((p for p in folder.iterdir() if p.suffix == ".json"), reverse=True)
    return [json.loads(p.read_text()) for p in names[:limit]]


def clear(outbox_dir):
    for kind in ("sms", "email"):
        folder = Path(outbox_dir) / kind
        if folder.is_dir():
            for path in folder.iterdir():
                path.unlink()
