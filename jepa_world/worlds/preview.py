"""Pictures of a world: an animated GIF or a PNG film strip of a clip (or a VoE quadruplet)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jepa_world.worlds import create_world

SCALE = 4  # nearest-neighbour upscaling so 64x64 frames are visible
MARK = np.array([255, 40, 40], dtype=np.uint8)  # frame border once a clip has diverged


def to_rgb(video: np.ndarray) -> np.ndarray:
    """(T, C, H, W) uint8 with 1, 2 or 3 channels -> (T, H, W, 3) uint8 for display.

    Two-channel worlds (Two Rooms: agent, walls) show the agent in red over grey walls.
    """
    if video.ndim != 4:
        raise ValueError(f"expected a clip (T, C, H, W), got shape {video.shape}")
    channels = video.shape[1]
    if channels == 3:
        return video.transpose(0, 2, 3, 1)
    if channels == 1:
        return np.repeat(video.transpose(0, 2, 3, 1), 3, axis=-1)
    if channels == 2:
        agent, wall = video[:, 0].astype(np.uint16), video[:, 1].astype(np.uint16)
        grey = (wall * 0.5).astype(np.uint16)
        rgb = np.stack([np.maximum(agent, grey), grey, grey], axis=-1)
        return np.clip(rgb, 0, 255).astype(np.uint8)
    raise ValueError(f"cannot display {channels} channels (expected 1, 2 or 3)")


def mark_from(frames: np.ndarray, start: int, width: int = 1) -> np.ndarray:
    """Draw a border on frames ``start..`` of (T, H, W, 3), marking where a clip diverged."""
    out = frames.copy()
    out[start:, :width] = MARK
    out[start:, -width:] = MARK
    out[start:, :, :width] = MARK
    out[start:, :, -width:] = MARK
    return out


def side_by_side(clips: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Concatenate (T, H, W, 3) clips horizontally with a white gap."""
    t, h = clips[0].shape[:2]
    spacer = np.full((t, h, gap, 3), 255, dtype=np.uint8)
    parts: list[np.ndarray] = []
    for clip in clips:
        parts.extend([clip, spacer])
    return np.concatenate(parts[:-1], axis=2)


def preview_frames(name: str, seed: int = 0, prop: str = "permanence") -> np.ndarray:
    """(T, H, W', 3) frames that show world ``name`` for ``seed``.

    For ``intuitive`` it is one quadruplet side by side (possible A, B, impossible C, D) with a
    red border from each clip's divergence frame on.
    """
    if name == "intuitive":
        world = create_world("intuitive")
        quad = world.quadruplets(prop, [seed])
        clips = [
            mark_from(to_rgb(quad["video"][0, i]), int(quad["divergence"][0, i]))
            if not quad["possible"][i]
            else to_rgb(quad["video"][0, i])
            for i in range(4)
        ]
        return side_by_side(clips)
    world = create_world(name)
    return to_rgb(world.generate([seed])["video"][0])


def save_preview(frames: np.ndarray, out: str | Path, fps: int = 8) -> Path:
    """Write frames as an animated GIF (``.gif``) or a film strip (``.png``), upscaled."""
    from PIL import Image

    out = Path(out)
    big = frames.repeat(SCALE, axis=1).repeat(SCALE, axis=2)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".gif":
        images = [Image.fromarray(f) for f in big]
        images[0].save(
            out, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0
        )
    elif suffix == ".png":
        step = max(1, len(big) // 8)
        strip = np.concatenate(
            list(big[::step][:8]), axis=0 if big.shape[2] > 2 * big.shape[1] else 1
        )
        Image.fromarray(strip).save(out)
    else:
        raise ValueError(f"--out must end in .gif or .png, got {out.name!r}")
    return out
