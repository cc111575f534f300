"""Cached shards: a world's clips written once to disk, read back memory-mapped.

Generating clips is cheap but not free; for long runs, many ranks or a fixed benchmark set it is
simpler to write them once. Layout of a shard directory (plain ``.npy`` files, so any tool can read
them and ``np.load(mmap_mode="r")`` maps them without a copy)::

    DIR/
      index.json                world, params, counts, shapes, dtypes, per-file bytes and sha256
      shard-000000/
        video.npy               uint8   (n, T, C, H, W)
        seed.npy                int64   (n,)        the world seed of each clip
        actions.npy             float32 (n, T, A)   when the world has actions
        state.position.npy      float32 (n, T, ...) one file per state entry (nested keys joined
        ...                                         by ".")
      shard-000001/ ...

Shard ``k`` holds the clips with seeds ``seed_start + k * shard_size + arange(n)``. Writing is
atomic: everything goes to a hidden temporary folder next to ``DIR`` that is fsync'd and renamed to
``DIR`` only once complete (:mod:`jepa_world.atomic`), so a crash leaves no half-written dataset (at
most a hidden ``.DIR.tmp-*`` folder). Files and folders get the usual modes (0666 / 0777 less the
umask).

Reading checks every file's presence, byte size and ``.npy`` header (shape, dtype) at setup, and
its sha256 when asked (``verify_hashes``); any mismatch raises an error naming the file.
Train / val split: the last ``val_fraction`` of the clips (by position in the dataset, i.e. the
highest seeds) are validation, the rest train. The train split is dealt to ranks and workers as in
:mod:`jepa_world.data.partition`: each epoch the shard order and the clips inside each shard are
shuffled, every rank takes a contiguous equal share of that order (so it reads only a few shards),
shuffles its share and cuts it into full batches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
from numpy.lib.format import open_memmap
from torch.utils.data import DataLoader, Dataset

from jepa_world.atomic import staged_folder
from jepa_world.checks import check_int
from jepa_world.data.batch import to_tensors
from jepa_world.data.partition import (
    EpochBatches,
    PositionedLoader,
    distributed_context,
    rank_slice,
    trainer_epoch,
)
from jepa_world.worlds import create_world
from jepa_world.worlds.base import World

FORMAT = "jepa-world-shards"
VERSION = 1
INDEX = "index.json"
_STORABLE_KINDS = "biufU"  # bool, ints, floats, fixed-width strings (no pickled objects)
_HASH_BLOCK = 1 << 22


# ----------------------------------------------------------------------------------- writing


def write_shards(
    world_name: str,
    out_dir: str | Path,
    clips: int,
    world_params: Mapping[str, Any] | None = None,
    shard_size: int = 256,
    seed_start: int = 0,
    *,
    overwrite: bool = False,
    chunk_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write ``clips`` clips of a world (seeds from ``seed_start``) as shards under ``out_dir``.

    Clips are generated ``chunk_size`` at a time (one vectorised ``generate`` call each) straight
    into memory-mapped files. ``progress(done, total)`` is called after each chunk. Returns the
    shard folders. ``out_dir`` must not exist (or be empty) unless ``overwrite``.
    """
    params = dict(world_params or {})
    check_int("clips", clips, 1)
    check_int("shard_size", shard_size, 1)
    check_int("chunk_size", chunk_size, 1)
    check_int("seed_start", seed_start, 0)
    try:
        json.dumps(params)
    except TypeError as err:
        raise TypeError(f"world_params must be JSON-serialisable to go in {INDEX}: {err}") from err
    out = Path(out_dir)
    _check_target(out, overwrite)
    world = create_world(world_name, **params)
    with staged_folder(out, what="shard folder") as tmp:
        shards, arrays, done = [], None, 0
        for k, first in enumerate(range(0, clips, shard_size)):
            seeds = seed_start + first + np.arange(min(shard_size, clips - first), dtype=np.int64)

            def report(n: int, offset: int = done) -> None:
                if progress is not None:
                    progress(offset + n, clips)

            name = f"shard-{k:06d}"
            files, shapes = _write_shard(world, tmp / name, seeds, chunk_size, report)
            if arrays is None:
                arrays = shapes
            elif shapes != arrays:
                raise ValueError(f"shard {name} has arrays {shapes}, shard 0 had {arrays}")
            shards.append(
                {"name": name, "clips": len(seeds), "seed_start": int(seeds[0]), "files": files}
            )
            done += len(seeds)
        video = arrays["video"]["clip_shape"]
        index = {
            "format": FORMAT,
            "version": VERSION,
            "world": world_name,
            "world_params": params,
            "clips": clips,
            "seed_start": seed_start,
            "shard_size": shard_size,
            "frames": video[0],
            "channels": video[1],
            "size": video[2],
            "arrays": arrays,
            "shards": shards,
        }
        (tmp / INDEX).write_text(json.dumps(index, indent=1))
        _check_target(out, overwrite)  # still free: nobody wrote there meanwhile
    return [out / shard["name"] for shard in shards]


def _check_target(out: Path, overwrite: bool) -> None:
    if out.exists() and not overwrite and not (out.is_dir() and not any(out.iterdir())):
        raise FileExistsError(f"out_dir {out} already exists and is not empty: pass overwrite=True")


def flatten(batch: Mapping[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """``{"state": {"position": a}}`` -> ``{"state.position": a}`` (file names in a shard)."""
    flat: dict[str, np.ndarray] = {}
    for key, value in batch.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = np.asarray(value)
    return flat


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`flatten`."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


def _write_shard(
    world: World,
    folder: Path,
    seeds: np.ndarray,
    chunk_size: int,
    report: Callable[[int], None],
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Generate one shard into ``folder``; return its file table and per-array clip shapes."""
    folder.mkdir()
    n = len(seeds)
    maps: dict[str, np.ndarray] = {}
    strings: dict[str, list[np.ndarray]] = {}
    keys: list[str] = []
    for first in range(0, n, chunk_size):
        chunk = seeds[first : first + chunk_size]
        batch = flatten({**dict(world.generate(chunk)), "seed": chunk})
        keys = keys or sorted(batch)
        if sorted(batch) != keys:
            raise ValueError(f"world outputs changed between chunks: {keys} -> {sorted(batch)}")
        for key, arr in batch.items():
            _check_array(key, arr, len(chunk))
            if arr.dtype.kind == "U":
                strings.setdefault(key, []).append(arr)
                continue
            if key not in maps:
                path = folder / f"{key}.npy"
                maps[key] = open_memmap(path, mode="w+", dtype=arr.dtype, shape=(n, *arr.shape[1:]))
            target = maps[key]
            if arr.dtype != target.dtype or arr.shape[1:] != target.shape[1:]:
                raise ValueError(
                    f"world output {key!r} changed from {target.dtype} {target.shape[1:]} "
                    f"to {arr.dtype} {arr.shape[1:]} between chunks"
                )
            target[first : first + len(chunk)] = arr
        report(first + len(chunk))
    for key, parts in strings.items():
        np.save(folder / f"{key}.npy", np.concatenate(parts), allow_pickle=False)
    for target in maps.values():
        target.flush()
    maps.clear()
    files, shapes = {}, {}
    for key in keys:
        path = folder / f"{key}.npy"
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
        files[key] = {"file": path.name, "bytes": path.stat().st_size, "sha256": _sha256(path)}
        shapes[key] = {"dtype": arr.dtype.str, "clip_shape": list(arr.shape[1:])}
    return files, shapes


def _check_array(key: str, arr: np.ndarray, clips: int) -> None:
    if arr.dtype.kind not in _STORABLE_KINDS:
        raise TypeError(f"world output {key!r} has dtype {arr.dtype}: shards store only numbers")
    if arr.ndim == 0 or arr.shape[0] != clips:
        raise ValueError(f"world output {key!r} has shape {arr.shape}: expected ({clips}, ...)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------------- reading


def read_index(path: str | Path) -> dict[str, Any]:
    """Load and validate ``index.json`` of a shard directory; errors name the missing/bad file."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"shard directory {root} does not exist")
    index_path = root / INDEX
    if not index_path.is_file():
        raise FileNotFoundError(f"{index_path} is missing: {root} was not written by write_shards")
    try:
        index = json.loads(index_path.read_text())
        _check_index(index)
    except KeyError as err:
        raise ValueError(f"{index_path} is corrupt: missing key {err}") from err
    except (ValueError, TypeError) as err:
        raise ValueError(f"{index_path} is corrupt: {err}") from err
    return index


def _check_index(index: Any) -> None:
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} index")
    if index.get("version") != VERSION:
        raise ValueError(f"version {index.get('version')!r} is not supported (expected {VERSION})")
    arrays, shards = index["arrays"], index["shards"]
    if "video" not in arrays or not shards:
        raise ValueError("no video array or no shards listed")
    if sum(int(shard["clips"]) for shard in shards) != int(index["clips"]):
        raise ValueError("shard clip counts do not add up to 'clips'")
    for shard in shards:
        names = [shard["name"], *(entry["file"] for entry in shard["files"].values())]
        if any(Path(name).name != name or name in {"", ".", ".."} for name in names):
            raise ValueError(f"shard {shard['name']!r} names a file outside its folder")
        if set(shard["files"]) != set(arrays):
            raise ValueError(f"shard {shard['name']!r} lists {sorted(shard['files'])}")
    for key in ("frames", "size", "channels"):
        int(index[key])


def check_shards(path: str | Path, index: Mapping[str, Any], verify_hashes: bool = False) -> None:
    """Check every shard file's presence, byte size and ``.npy`` header (and sha256 if asked)."""
    root = Path(path)
    for shard in index["shards"]:
        for key, entry in shard["files"].items():
            file = root / shard["name"] / entry["file"]
            if not file.is_file():
                raise FileNotFoundError(f"shard file {file} is missing")
            size = file.stat().st_size
            if size != int(entry["bytes"]):
                raise ValueError(
                    f"shard file {file} is truncated or corrupt: {size} bytes, "
                    f"{INDEX} says {entry['bytes']}"
                )
            try:
                arr = np.load(file, mmap_mode="r", allow_pickle=False)
            except (ValueError, OSError, EOFError) as err:
                raise ValueError(f"shard file {file} has a bad .npy header: {err}") from err
            spec = index["arrays"][key]
            expected = (int(shard["clips"]), *spec["clip_shape"])
            if arr.shape != expected or arr.dtype != np.dtype(spec["dtype"]):
                raise ValueError(
                    f"shard file {file} holds {arr.dtype} {arr.shape}, "
                    f"{INDEX} says {spec['dtype']} {expected}"
                )
            if verify_hashes and _sha256(file) != entry["sha256"]:
                raise ValueError(f"shard file {file} is corrupt: sha256 differs from {INDEX}")


class ShardReader:
    """Gathers clips by global index from memory-mapped shards; maps open lazily per process."""

    def __init__(self, path: str | Path, index: Mapping[str, Any]) -> None:
        self.root, self.index = Path(path), index
        counts = [int(shard["clips"]) for shard in index["shards"]]
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._maps: list[dict[str, np.ndarray]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # memmaps would be pickled as full in-memory copies: reopen in the receiving process
        return {**self.__dict__, "_maps": None}

    def _arrays(self) -> list[dict[str, np.ndarray]]:
        if self._maps is None:
            self._maps = [
                {
                    key: np.load(
                        self.root / shard["name"] / entry["file"], mmap_mode="r", allow_pickle=False
                    )
                    for key, entry in shard["files"].items()
                }
                for shard in self.index["shards"]
            ]
        return self._maps

    def read(self, ids: np.ndarray) -> dict[str, Any]:
        """The clips with global indices ``ids`` as a torch batch (nested like the world's)."""
        ids = np.asarray(ids, dtype=np.int64)
        shard_of = np.searchsorted(self.offsets, ids, side="right") - 1
        arrays = self._arrays()
        out: dict[str, np.ndarray] = {}
        for key, spec in self.index["arrays"].items():
            dtype = np.dtype(spec["dtype"])
            out[key] = np.empty((len(ids), *spec["clip_shape"]), dtype=dtype)
        for shard in np.unique(shard_of):
            rows = np.flatnonzero(shard_of == shard)
            local = ids[rows] - self.offsets[shard]
            for key, arr in arrays[shard].items():
                out[key][rows] = arr[local]
        return to_tensors(unflatten(out))


def shard_epoch_plan(
    shard_clips: Sequence[int],
    train_clips: int,
    batch_size: int,
    epoch: int,
    rank: int,
    world_size: int,
    shuffle: bool = True,
    seed: int = 0,
) -> list[np.ndarray]:
    """Global clip indices of each train batch of ``rank`` in ``epoch`` (module docstring).

    Only the first ``train_clips`` clips are train. Every rank gets the same number of full
    batches; pure function of its arguments.
    """
    offsets = np.concatenate([[0], np.cumsum(shard_clips)]).astype(np.int64)
    ranges = [
        np.arange(offsets[k], min(offsets[k + 1], train_clips), dtype=np.int64)
        for k in range(len(shard_clips))
        if offsets[k] < train_clips
    ]
    if shuffle:
        rng = np.random.default_rng([seed, epoch])
        ranges = [rng.permutation(ranges[k]) for k in rng.permutation(len(ranges))]
    order = np.concatenate(ranges) if ranges else np.zeros(0, dtype=np.int64)
    start, stop = rank_slice(len(order), rank, world_size)
    mine = order[start:stop]
    if shuffle:
        mine = np.random.default_rng([seed, epoch, rank]).permutation(mine)
    batches = len(mine) // batch_size
    return [mine[i * batch_size : (i + 1) * batch_size] for i in range(batches)]


class ShardTrainBatches(EpochBatches):
    """The train split: full batches planned by :func:`shard_epoch_plan`."""

    def __init__(
        self, reader: ShardReader, train_clips: int, batch_size: int, shuffle: bool, seed: int
    ) -> None:
        super().__init__()
        self.reader, self.train_clips, self.batch_size = reader, train_clips, batch_size
        self.shuffle, self.seed = shuffle, seed
        self.shard_clips = [int(shard["clips"]) for shard in reader.index["shards"]]

    def plan(self, epoch: int, rank: int, world_size: int) -> list[np.ndarray]:
        return shard_epoch_plan(
            self.shard_clips,
            self.train_clips,
            self.batch_size,
            epoch,
            rank,
            world_size,
            self.shuffle,
            self.seed,
        )

    def load(self, spec: np.ndarray) -> dict[str, Any]:
        return self.reader.read(spec)


class ShardClipBatches(Dataset):
    """A fixed range of clips in order; item ``i`` is the whole batch ``i`` (for validation)."""

    def __init__(self, reader: ShardReader, start: int, stop: int, batch_size: int) -> None:
        self.reader, self.start, self.stop, self.batch_size = reader, start, stop, batch_size

    def __len__(self) -> int:
        return -(-(self.stop - self.start) // self.batch_size)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range [0, {len(self)})")
        first = self.start + index * self.batch_size
        return self.reader.read(np.arange(first, min(first + self.batch_size, self.stop)))


def val_split(clips: int, val_fraction: float) -> int:
    """Number of validation clips (the last ones): ``round(val_fraction * clips)``, >= 1 if > 0."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction={val_fraction} is out of range: allowed [0, 1)")
    if val_fraction == 0.0:
        return 0
    if clips < 2:
        raise ValueError(f"val_fraction={val_fraction} needs >= 2 clips, the dataset has {clips}")
    return min(clips - 1, max(1, round(val_fraction * clips)))


class ShardDataModule(pl.LightningDataModule):
    """Clips from shards written by :func:`write_shards`, memory-mapped (module docstring).

    Batches have the same format as :class:`~jepa_world.data.stream.WorldDataModule`'s.
    """

    def __init__(
        self,
        path: str,
        batch_size: int = 32,
        num_workers: int = 0,
        val_fraction: float = 0.1,
        shuffle: bool = True,
        seed: int = 0,
        verify_hashes: bool = False,
    ) -> None:
        super().__init__()
        check_int("batch_size", batch_size, 1)
        check_int("num_workers", num_workers, 0)
        val_split(2, val_fraction)  # range check now, the clip count check at setup
        self.save_hyperparameters()
        self.path, self.batch_size, self.num_workers = Path(path), batch_size, num_workers
        self.val_fraction, self.shuffle, self.seed = val_fraction, shuffle, seed
        self.verify_hashes = verify_hashes
        self._index: dict[str, Any] | None = None
        self.reader: ShardReader | None = None

    @property
    def index(self) -> dict[str, Any]:
        if self._index is None:
            self._index = read_index(self.path)
        return self._index

    @property
    def frames(self) -> int:
        return int(self.index["frames"])

    @property
    def size(self) -> int:
        return int(self.index["size"])

    @property
    def channels(self) -> int:
        return int(self.index["channels"])

    def setup(self, stage: str | None = None) -> None:
        if self.reader is not None:
            return
        check_shards(self.path, self.index, self.verify_hashes)
        clips = int(self.index["clips"])
        self.train_clips = clips - val_split(clips, self.val_fraction)
        self.reader = ShardReader(self.path, self.index)

    def train_dataloader(self) -> DataLoader:
        self.setup()
        rank, world_size = distributed_context(self.trainer)
        batches = ShardTrainBatches(
            self.reader, self.train_clips, self.batch_size, self.shuffle, self.seed
        )
        batches.set_distributed(rank, world_size)
        if len(batches) == 0:
            raise ValueError(
                f"{self.path}: {self.train_clips} train clips over {world_size} rank(s) make no "
                f"full batch of batch_size={self.batch_size}"
            )
        return PositionedLoader(
            batches,
            lambda done: trainer_epoch(self.trainer, done),
            "first_epoch",
            batch_size=None,
            num_workers=self.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        self.setup()
        clips = int(self.index["clips"])
        batches = ShardClipBatches(self.reader, self.train_clips, clips, self.batch_size)
        return DataLoader(batches, batch_size=None, shuffle=False, num_workers=self.num_workers)
