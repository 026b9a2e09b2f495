"""Where audio bytes live: behind one small interface (local disk now, S3-compatible later)."""
import os
import shutil
import uuid
from pathlib import Path

CHUNK = 1024 * 1024


class FileStoreError(Exception):
    """A storage key was malformed or the backend failed."""


def new_key(prefix="tracks"):
    """A generated storage name; user-supplied file names never reach the disk."""
    return f"{prefix}/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"


class LocalFileStore:
    """Files under one root folder; writes go to a temporary name and are renamed when complete."""

    def __init__(self, root):
        self.root = Path(root).resolve()

    def _path(self, key):
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise FileStoreError(f"storage key outside the store: {key!r}")
        return path

    def save(self, key, stream, max_bytes=None):
        """Copy a stream to `key` chunk by chunk; returns bytes written. Nothing is left on failure."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        written = 0
        try:
            with open(partial, "wb") as out:
                while chunk := stream.read(CHUNK):
                    written += len(chunk)
                    if max_bytes is not None and written > max_bytes:
                        raise FileStoreError("file larger than allowed")
                    out.write(chunk)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return written

    def open(self, key):
        return open(self._path(key), "rb")

    def size(self, key):
        return self._path(key).stat().st_size

    def exists(self, key):
        return self._path(key).is_file()

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def keys(self):
        """Every stored key (for orphan checks); temporary files are not keys."""
        if not self.root.is_dir():
            return set()
        return {
            str(p.relative_to(self.root)) for p in self.root.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }

    def local_path(self, key):
        return self._path(key)

    def wipe(self):
        shutil.rmtree(self.root, ignore_errors=True)


def store_from_config(config):
    if config["STORAGE_BACKEND"] == "local":
        return LocalFileStore(config["STORAGE_DIR"])
    raise ValueError(f"Unknown STORAGE_BACKEND {config['STORAGE_BACKEND']!r}")
