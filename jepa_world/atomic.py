"""Crash-safe writes: a temporary file or folder beside the target, fsync'd, renamed into place.

A reader, a resumed run or a second process sees either the previous complete file (or folder)
or the new complete one, never a prefix: the bytes go to a hidden temporary beside the target (same
file system, so the rename is atomic), are flushed to the disk with ``fsync``, then
``os.replace`` swaps the name and the folder itself is fsync'd so the rename survives a power cut.
A failure at any byte (a full disk, a kill) leaves the target untouched; a killed write can leave
a hidden ``.NAME.*.tmp`` file or ``.NAME.tmp-*`` folder beside it, which is safe to delete.

Files are created with mode 0666 and folders with 0777, less the process umask, like any other
file the user writes (no private temp-file modes leak into what others should read). This module
imports only the standard library, so the frozen-model API can use it without Lightning.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "WriteError",
    "replace_folder",
    "staged_folder",
    "sync_tree",
    "write_bytes",
    "write_synced",
]

_CHUNK = 1 << 24  # bytes per os.write call
_RENAME_EXCHANGE = 2  # <linux/fs.h>
_AT_FDCWD = -100


class WriteError(OSError):
    """A crash-safe write that failed: one line naming the file, the cause and what was kept.

    Keeps the ``errno`` of the failure (``errno.ENOSPC`` for a full disk).
    """

    def __init__(self, errno_: int | None, message: str) -> None:
        super().__init__(errno_, message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    @classmethod
    def from_error(
        cls, err: OSError, path: Path, what: str, existed: bool, hint: str = ""
    ) -> WriteError:
        """The one-line error for ``err`` raised while writing ``what`` to ``path``."""
        if isinstance(err, WriteError):
            return err
        cause = err.strerror or str(err)
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            head = f"disk full while writing {path}: {cause}"
        else:
            head = f"could not write {path}: {cause}"
        kept = f"the previous {what} is kept" if existed else f"no partial {what} was left"
        return cls(err.errno, f"{head}; {kept}{f' ({hint})' if hint else ''}")


def _temp_name(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.{kind}")


def write_synced(path: str | os.PathLike, data: bytes | bytearray | memoryview) -> None:
    """Write ``data`` to a new file ``path`` (which must not exist) and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data).cast("B")
        while view:
            written = os.write(fd, view[:_CHUNK])
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a folder's entries (a rename into it) durable; a no-op on Windows."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(
    path: str | os.PathLike,
    data: bytes | bytearray | memoryview,
    what: str = "file",
    hint: str = "",
) -> Path:
    """Replace ``path`` with ``data`` atomically (module docstring); return the path.

    Any ``OSError`` becomes a :class:`WriteError` naming the file and saying that the previous
    ``what`` is kept; ``hint`` (how to go on) is appended to it.
    """
    path = Path(path)
    existed = path.exists()
    tmp = _temp_name(path, "tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_synced(tmp, data)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as err:
        _remove_file(tmp)
        raise WriteError.from_error(err, path, what, existed, hint) from err
    except BaseException:
        _remove_file(tmp)
        raise
    return path


def sync_tree(root: str | os.PathLike) -> None:
    """fsync every file and folder under ``root`` (itself included), deepest first."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(folder)


def _make_folder_beside(target: Path, kind: str) -> Path:
    """A new empty hidden folder next to ``target``, mode 0777 less the umask."""
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        path = target.with_name(f".{target.name}.{kind}-{secrets.token_hex(4)}")
        try:
            os.mkdir(path, 0o777)
            return path
        except FileExistsError:
            continue


@contextmanager
def staged_folder(
    target: str | os.PathLike, what: str = "folder", hint: str = ""
) -> Iterator[Path]:
    """Yield an empty folder beside ``target`` to fill; on a normal exit it is fsync'd and swapped
    into place in one rename, on an error it is removed and ``target`` is left as it was.

    An ``OSError`` of the file system (one with an ``errno``) becomes a :class:`WriteError`
    naming ``target`` (see :func:`write_bytes`).
    """
    target = Path(target)
    existed = target.exists()
    staging: Path | None = None
    try:
        staging = _make_folder_beside(target, "tmp")
        yield staging
        sync_tree(staging)
        replace_folder(staging, target)
    except OSError as err:
        _remove_folder(staging)
        if err.errno is None:  # raised by the caller's own checks, not by the file system
            raise
        raise WriteError.from_error(err, target, what, existed, hint) from err
    except BaseException:
        _remove_folder(staging)
        raise


def replace_folder(new: str | os.PathLike, target: str | os.PathLike) -> None:
    """Put folder ``new`` at ``target``, removing what was there; ``new`` is gone afterwards.

    On Linux an existing ``target`` is swapped with ``new`` in one ``renameat2(RENAME_EXCHANGE)``
    call, so ``target`` names a complete folder at every instant. Elsewhere (or on a file system
    without it) the old folder is renamed aside first: a crash between the two renames leaves it as
    a hidden ``.NAME.old-*`` folder beside the missing target.
    """
    new, target = Path(new), Path(target)
    if not target.exists():
        os.rename(new, target)
    elif target.is_dir() and not any(target.iterdir()):
        target.rmdir()
        os.rename(new, target)
    elif _exchange(new, target):
        _remove_folder(new)  # now holds the old folder
    else:
        old = _make_folder_beside(target, "old")
        os.rmdir(old)
        os.rename(target, old)
        try:
            os.rename(new, target)
        except BaseException:
            os.rename(old, target)
            raise
        _remove_folder(old)
    fsync_dir(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux ``renameat2``; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not glibc >= 2.28
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _remove_file(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _remove_folder(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
