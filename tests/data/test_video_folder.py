from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from jepa_world.data.video_folder import (
    VideoFolderDataModule,
    decode_clip,
    index_video,
    train_clip_plan,
)

av = pytest.importorskip("av")

LEVEL_STEP = 10  # frame k of a test video is uniformly grey at 5 + LEVEL_STEP * k


def write_video(
    path: Path, frames: int = 24, width: int = 32, height: int = 32, codec: str = "mpeg4"
) -> Path:
    """Grey frames whose level encodes their index (or RGB bands when ``codec`` ends in /bands)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.gop_size = 6  # keyframes every 6 frames: reading a clip must seek and skip
        stream.options = {"qscale": "2"} if codec == "mpeg4" else {"crf": "0", "bf": "2"}
        for k in range(frames):
            image = np.full((height, width, 3), 5 + LEVEL_STEP * k, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def levels(clip: np.ndarray) -> list[int]:
    """Frame indices recovered from the grey levels of a decoded clip (T, 3, H, W)."""
    return [round((float(f.mean()) - 5) / LEVEL_STEP) for f in clip]


@pytest.mark.parametrize("codec", ["mpeg4", "libx264"])
def test_decode_clip_stride_and_resize(tmp_path: Path, codec: str) -> None:
    if codec not in av.codecs_available:
        pytest.skip(f"{codec} encoder not available")
    info = index_video(write_video(tmp_path / "a.mp4", codec=codec))
    assert info.num_frames == 24
    clip = decode_clip(info, start=7, frames=4, frame_stride=3, size=16)
    assert clip.dtype == np.uint8 and clip.shape == (4, 3, 16, 16)
    assert levels(clip) == [7, 10, 13, 16]


def test_resize_keeps_aspect_and_crops_centre(tmp_path: Path) -> None:
    path = tmp_path / "bands.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.options = {"qscale": "2"}
        image = np.zeros((32, 48, 3), dtype=np.uint8)
        image[:, :16, 0] = image[:, 16:32, 1] = image[:, 32:, 2] = 255  # red | green | blue
        for _ in range(2):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    clip = decode_clip(index_video(path), 0, 1, 1, size=16)[0].astype(int)
    # 48x32 -> 24x16, centre crop keeps source columns 8..40: 4 px red, 8 green, 4 blue
    dominant = clip.mean(axis=1).argmax(axis=0)  # strongest channel of each column
    assert dominant.tolist() == [0] * 4 + [1] * 8 + [2] * 4


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, frames in (("a.mp4", 24), ("b.mp4", 20), ("sub/c.MP4", 24)):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        write_video(tmp_path / name, frames=frames, width=40)
    (tmp_path / "notes.txt").write_text("not a video")
    return tmp_path


def test_data_module_batches_and_split(folder: Path) -> None:
    dm = VideoFolderDataModule(
        str(folder), frames=4, frame_stride=2, size=16, batch_size=2, val_fraction=0.34
    )
    dm.setup("fit")
    assert [v.path.name for v in dm.videos] == ["a.mp4", "b.mp4", "c.MP4"]
    assert len(dm.val_ids) == 1 and set(dm.train_ids).isdisjoint(dm.val_ids)
    train = list(dm.train_dataloader())
    assert train and all(b["video"].shape == (2, 4, 3, 16, 16) for b in train)
    assert train[0]["video"].dtype == torch.uint8
    for batch in train:
        assert set(batch["video_id"].tolist()) <= set(dm.train_ids)
        for clip, start in zip(batch["video"].numpy(), batch["start"].tolist(), strict=True):
            assert levels(clip) == [start + 2 * k for k in range(4)]
    val = list(dm.val_dataloader())
    again = list(dm.val_dataloader())
    assert val[0]["video"].shape[1:] == (4, 3, 16, 16)
    assert all(torch.equal(a["video"], b["video"]) for a, b in zip(val, again, strict=True))
    assert set(torch.cat([b["video_id"] for b in val]).tolist()) == set(dm.val_ids)
    assert torch.cat([b["start"] for b in val]).tolist()[:2] == [0, 7]


def test_train_plan_is_seeded_and_rank_disjoint() -> None:
    counts = [30, 12, 50]
    a = train_clip_plan(counts, 5, 2, epoch=3, rank=0, world_size=2, seed=1)
    b = train_clip_plan(counts, 5, 2, epoch=3, rank=1, world_size=2, seed=1)
    assert len(a) == len(b) > 0
    assert [x.tolist() for x in a] == [
        x.tolist() for x in train_clip_plan(counts, 5, 2, 3, 0, 2, seed=1)
    ]
    assert [x.tolist() for x in a] != [
        x.tolist() for x in train_clip_plan(counts, 5, 2, 4, 0, 2, 1)
    ]
    rows = np.concatenate(a + b)
    assert np.all(rows[:, 1] + 5 <= np.asarray(counts)[rows[:, 0]])
    assert np.bincount(rows[:, 0], minlength=3).sum() <= 6 + 2 + 10


def test_short_video_is_skipped_with_warning(folder: Path) -> None:
    write_video(folder / "short.mp4", frames=3)
    dm = VideoFolderDataModule(str(folder), frames=4, size=8, val_fraction=0.0)
    with pytest.warns(UserWarning, match="short.mp4"):
        dm.setup("fit")
    assert "short.mp4" not in [v.path.name for v in dm.videos]


def test_empty_and_missing_folders(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        VideoFolderDataModule(str(tmp_path / "empty")).setup("fit")
    with pytest.raises(FileNotFoundError, match="missing"):
        VideoFolderDataModule(str(tmp_path / "missing")).setup("fit")


def test_unreadable_file_names_it(folder: Path) -> None:
    (folder / "broken.avi").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ValueError, match="broken.avi"):
        VideoFolderDataModule(str(folder), frames=4, size=8).setup("fit")


def test_val_split_needs_two_videos(tmp_path: Path) -> None:
    write_video(tmp_path / "only.mp4", frames=8)
    with pytest.raises(ValueError, match="val_fraction"):
        VideoFolderDataModule(str(tmp_path), frames=4, size=8, val_fraction=0.5).setup("fit")


@pytest.mark.parametrize("name", ["frames", "frame_stride", "size", "batch_size"])
def test_invalid_parameters(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        VideoFolderDataModule(str(tmp_path), **{name: 0})
