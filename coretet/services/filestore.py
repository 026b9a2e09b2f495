"""Where audio bytes live: behind one small interface (local disk or S3-compatible storage)."""
import errno
import os
import shutil
import tempfile
import uuid
from pathlib import Path

CHUNK = 1024 * 1024
# S3 multipart part size: the most a stream upload holds in memory at once (S3's minimum part is 5 MiB).
S3_PART = 8 * 1024 * 1024


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

    def put_file(self, key, path):
        """Move a finished local file to `key` (a rename when on the same disk); returns its size."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            with open(path, "rb") as source:
                self.save(key, source)
            os.unlink(path)
        return target.stat().st_size

    def staging_dir(self):
        """Where uploads are spooled: inside the root, so put_file is a cheap rename."""
        path = self.root / ".incoming"
        path.mkdir(parents=True, exist_ok=True)
        return path

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
        return set(self.listing())

    def listing(self):
        """Every stored key with its last-modified time (POSIX seconds); hidden paths are temporary."""
        found = {}
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                path = Path(folder, name)
                try:
                    found[path.relative_to(self.root).as_posix()] = path.stat().st_mtime
                except FileNotFoundError:  # deleted while the tree was walked
                    pass
        return found

    def local_path(self, key):
        return self._path(key)

    def wipe(self):
        shutil.rmtree(self.root, ignore_errors=True)


class _Limited:
    """A read-only view of a stream that fails once more than max_bytes have been read."""

    def __init__(self, stream, max_bytes):
        self.stream, self.max_bytes, self.read_so_far = stream, max_bytes, 0

    def read(self, size=-1):
        chunk = self.stream.read(size)
        self.read_so_far += len(chunk)
        if self.max_bytes is not None and self.read_so_far > self.max_bytes:
            raise FileStoreError("file larger than allowed")
        return chunk


class S3FileStore:
    """Objects in one S3-compatible bucket, optionally under a key prefix."""

    def __init__(self, bucket, endpoint_url=None, region=None, access_key=None, secret_key=None,
                 prefix=""):
        # Imported here so that local-disk deployments never pay for loading boto3.
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, config=Config(signature_version="s3v4"),
        )
        # No threads: one part in memory at a time, and a stream's errors surface in this thread.
        self.stream_transfer = TransferConfig(
            multipart_threshold=S3_PART, multipart_chunksize=S3_PART, use_threads=False,
        )
        # Parts of a file on disk are read lazily, so a few threads cost little memory.
        self.file_transfer = TransferConfig(
            multipart_threshold=S3_PART, multipart_chunksize=S3_PART, max_concurrency=4,
        )

    def _name(self, key):
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise FileStoreError(f"malformed storage key: {key!r}")
        return self.prefix + key

    def save(self, key, stream, max_bytes=None):
        """Upload a stream to `key` part by part; returns bytes written. Nothing is left on failure."""
        name = self._name(key)
        limited = _Limited(stream, max_bytes)
        try:
            self.client.upload_fileobj(limited, self.bucket, name, Config=self.stream_transfer)
        except BaseException:
            self._discard(name)
            raise
        return limited.read_so_far

    def put_file(self, key, path):
        """Upload a finished local file to `key`, then remove the local copy; returns its size."""
        name = self._name(key)
        size = os.path.getsize(path)
        try:
            self.client.upload_file(str(path), self.bucket, name, Config=self.file_transfer)
        except BaseException:
            self._discard(name)
            raise
        os.unlink(path)
        return size

    def _discard(self, name):
        """Best-effort removal after a failed upload (multipart uploads abort themselves)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except Exception:
            pass

    def staging_dir(self):
        return Path(tempfile.gettempdir())

    def open(self, key):
        return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]

    def size(self, key):
        return self.client.head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"]

    def exists(self, key):
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self):
        """Every stored key under the prefix (for orphan checks)."""
        return set(self.listing())

    def listing(self):
        """Every stored key with its last-modified time (POSIX seconds)."""
        found = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", ()):
                found[item["Key"][len(self.prefix):]] = item["LastModified"].timestamp()
        return found

    def presigned_url(self, key, expires_seconds, content_type=None):
        """A time-limited GET URL, so the bytes go from the bucket straight to the player."""
        params = {"Bucket": self.bucket, "Key": self._name(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=int(expires_seconds)
        )


def store_from_config(config):
    """The file store chosen by STORAGE_BACKEND ("local" or "s3")."""
    backend = config.get("STORAGE_BACKEND", "local")
    if backend == "local":
        return LocalFileStore(config["STORAGE_DIR"])
    if backend == "s3":
        if not config.get("S3_BUCKET"):
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        return S3FileStore(
            config["S3_BUCKET"],
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            access_key=config.get("S3_ACCESS_KEY_ID"),
            secret_key=config.get("S3_SECRET_ACCESS_KEY"),
            prefix=config.get("S3_PREFIX") or "",
        )
    raise ValueError(f"Unknown STORAGE_BACKEND {backend!r}")
