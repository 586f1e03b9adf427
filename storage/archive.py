"""Write-once archive: blobs keyed by their SHA-256, written atomically, never overwritten.

Layout: ``<data_dir>/archive/ab/cd/abcd…`` (two levels of fan-out keep directories small).
A blob is written to a temporary file in the same directory, fsynced, then linked into place, so
a crash leaves either no blob or the whole blob; the database points at a blob only after ``put``
has returned.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class ArchiveError(Exception):
    pass


class BlobMissing(ArchiveError):
    pass


class BlobCorrupt(ArchiveError):
    pass


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Archive:
    root: Path

    @classmethod
    def at(cls, data_dir: Path) -> Archive:
        return cls(Path(data_dir) / "archive")

    def path_for(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ArchiveError(f"not a SHA-256 key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its key. Storing the same bytes twice is a no-op."""
        key = sha256_hex(data)
        target = self.path_for(key)
        if target.exists():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            # link() fails if the target exists, so a concurrent writer can never replace a blob.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, target)
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            os.unlink(tmp)
        return key

    def get(self, key: str, *, verify: bool = True) -> bytes:
        try:
            data = self.path_for(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(key) from None
        if verify and sha256_hex(data) != key:
            raise BlobCorrupt(key)
        return data

    def exists(self, key: str) -> bool:
        return self.path_for(key).exists()

    def keys(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for path in self.root.glob("??/??/*"):
            if not path.name.startswith("."):
                yield path.name

    def check(self, keys: Iterator[str] | list[str]) -> dict[str, str]:
        """Re-hash each blob; returns {key: problem} for the missing and the corrupt."""
        problems: dict[str, str] = {}
        for key in keys:
            try:
                self.get(key)
            except BlobMissing:
                problems[key] = "missing"
            except BlobCorrupt:
                problems[key] = "corrupt"
        return problems
