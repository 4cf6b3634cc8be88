"""The hidden bundle: the hidden tests, reference solutions, mistake catalogues and the seeded course.toml of a
course, as one gzipped tarball encrypted with Fernet (AES-128-CBC and HMAC-SHA256). The encrypted file may sit in a
public repository; the key goes only in the CI's secrets, and ``grader ci --hidden-bundle`` decrypts it."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from grader.release.contents import course_files
from grader.release.errors import ReleaseError
from grader.spec import Course


def new_key() -> bytes:
    """A fresh random Fernet key (url-safe base64, 44 characters)."""
    return Fernet.generate_key()


def take_key(name: str) -> bytes:
    """The key in the environment variable ``name``, removed from this process's environment so that nothing started
    later (a worker, a subprocess) inherits it; a :class:`ReleaseError` saying where it should come from."""
    value = os.environ.pop(name, "").strip()
    if not value:
        raise ReleaseError(f"${name} is empty: set it to the hidden bundle's key (in CI: the repository secret {name})")
    return value.encode()


def write_hidden_bundle(course: Course, names: list[str], path: Path, key: bytes) -> Path:
    """Encrypt the course files of ``names`` (paths relative to the course root) with ``key`` into ``path``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for file in course_files(course, names):
            tar.add(file, arcname=str(file.relative_to(course.root)), recursive=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Fernet(key).encrypt(buffer.getvalue()))
    return path


def extract_hidden_bundle(path: Path, key: bytes, into: Path) -> Course:
    """Decrypt the hidden bundle at ``path`` with ``key`` into the folder ``into`` (made readable by this user only),
    and open it as a course."""
    try:
        data = Fernet(key).decrypt(path.read_bytes())
    except FileNotFoundError:
        raise ReleaseError(f"{path}: no such hidden bundle; make it with grader release --hidden-bundle") from None
    except (InvalidToken, ValueError):
        raise ReleaseError(
            f"{path}: cannot decrypt it with this key (wrong key, or the file was changed); "
            "set the secret to the key printed when the bundle was made"
        ) from None
    into.mkdir(mode=0o700, parents=True, exist_ok=True)
    into.chmod(0o700)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(into, filter="data")
    return Course(into)
