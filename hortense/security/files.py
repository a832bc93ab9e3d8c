"""Files that hold customers' data or logs are private to the service's user: 0600 files in 0700 folders.

Databases (SQLite: the accounts database, the tracker store with every conversation) and logs are created by
several processes and libraries (SQLite itself, Rasa, Alembic, the launcher). Two nets: every process started
by the launcher inherits a 077 umask (`private_umask`), and the places that create or open such a file make it
private explicitly (`private_dir`, `private_file`), whatever umask they were started with.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
PRIVATE_UMASK = 0o077


def private_umask() -> int:
    """From now on this process (and its children) create files 0600 and folders 0700; returns the old mask."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path, chmod_existing: bool = False) -> Path:
    """Create the folder (and parents) 0700 if needed; an existing folder is left alone unless it is ours to
    tighten (`chmod_existing`: never a shared folder such as /tmp)."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        with contextlib.suppress(OSError):
            os.chmod(path, DIR_MODE)
    elif chmod_existing:
        with contextlib.suppress(OSError):
            os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path | str | None) -> None:
    """Make an existing file 0600 (SQLite's -wal and -shm companions too); silently nothing if absent."""
    if not path:
        return
    for candidate in (Path(path), Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(OSError):
            if candidate.exists():
                os.chmod(candidate, FILE_MODE)


def create_private(path: Path) -> Path:
    """An empty file created 0600 from the start (no window in which it is world-readable), folder 0700."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path
