"""Crash-safe writes: the previous file or folder survives any failure; modes follow the umask."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from jepa_world import atomic
from jepa_world.atomic import WriteError, replace_folder, staged_folder, write_bytes


def fill_disk_after(monkeypatch, fits: int) -> None:
    """``os.write`` stores ``fits`` bytes, then fails with ENOSPC (a disk that fills up)."""
    real_write, room = os.write, [fits]

    def write(fd, data):
        if room[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = real_write(fd, bytes(memoryview(data)[: room[0]]))
        room[0] -= written
        return written

    monkeypatch.setattr(os, "write", write)


def test_write_bytes_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "f.bin"
    write_bytes(path, b"old")
    write_bytes(path, b"new" * 1000)
    assert path.read_bytes() == b"new" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_full_disk_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    path.write_bytes(b"good checkpoint")
    fill_disk_after(monkeypatch, 10)
    with pytest.raises(WriteError) as caught:
        write_bytes(path, b"x" * 100, what="checkpoint", hint="resume later")
    monkeypatch.undo()
    assert caught.value.errno == errno.ENOSPC
    assert str(caught.value) == (
        f"disk full while writing {path}: {os.strerror(errno.ENOSPC)}; the previous checkpoint "
        "is kept (resume later)"
    )
    assert path.read_bytes() == b"good checkpoint"
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    fill_disk_after(monkeypatch, 0)
    with pytest.raises(WriteError, match="no partial file was left"):
        write_bytes(tmp_path / "new.bin", b"data")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_files_and_folders_get_the_umask_modes(tmp_path):
    old = os.umask(0o027)
    try:
        write_bytes(tmp_path / "f", b"1")
        with staged_folder(tmp_path / "d") as staging:
            (staging / "inner").mkdir()
            (staging / "inner" / "g").write_bytes(b"2")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "d" / "inner" / "g").stat().st_mode) == 0o640


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_staged_folder_replaces_only_when_complete(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "export"
    with staged_folder(target) as staging:
        (staging / "a").write_text("1")
    with pytest.raises(RuntimeError, match="killed"), staged_folder(target) as staging:
        (staging / "a").write_text("2")
        raise RuntimeError("killed")
    assert (target / "a").read_text() == "1"
    with staged_folder(target) as staging:
        (staging / "b").write_text("3")
    assert [p.name for p in target.iterdir()] == ["b"]
    assert [p.name for p in tmp_path.iterdir()] == ["export"]


def test_staged_folder_names_the_target_on_a_full_disk(tmp_path, monkeypatch):
    target = tmp_path / "export"
    with staged_folder(target) as staging:
        (staging / "a").write_text("1")
    with pytest.raises(WriteError, match=r"^disk full while writing .*export: .*previous export"):
        with staged_folder(target, what="export"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    with pytest.raises(FileExistsError, match="^mine$"):  # not from the file system: unchanged
        with staged_folder(target):
            raise FileExistsError("mine")
    assert (target / "a").read_text() == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["export"]


def test_replace_folder_into_an_empty_or_missing_target(tmp_path):
    for name in ("missing", "empty"):
        new = tmp_path / f"new-{name}"
        new.mkdir()
        (new / "x").write_text(name)
        if name == "empty":
            (tmp_path / name).mkdir()
        replace_folder(new, tmp_path / name)
        assert (tmp_path / name / "x").read_text() == name and not new.exists()
