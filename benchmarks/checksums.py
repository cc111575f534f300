"""Time the XXH3-128 check of an export's weights against the time of ``load_encoder``.

Usage: ``python benchmarks/checksums.py [--recipe physics2d_gpu quickstart] [--repeats 7]
[--threads 2]``. For each recipe a random-init model of its architecture is exported; then, in
this one process, ``load_encoder`` runs ``--repeats`` times with the checksum check and as many
times without (interleaved, so load on the machine hits both alike), and the XXH3-128 of
``model.safetensors`` alone is timed. Prints one line per recipe and, as the last line, one JSON
dict: fastest times in ms (the least disturbed by other work on the machine), ``ratio`` = (with
check - without) / without and ``hash_ratio`` = XXH3-128 alone / load without check (an upper
bound of the added time: the check runs in a thread while the encoder is built).
The budget: the check adds <= 5 % to ``load_encoder`` on the largest shipped recipe.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import xxhash

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recipe_model import random_recipe_model  # noqa: E402


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def measure(folder: Path, repeats: int) -> dict:
    """Fastest ms of load_encoder with and without the check, and of the hash alone."""
    from jepa_world.hub import MODEL_NAME, load_encoder

    load_encoder(folder)  # warm: page cache, lazy imports
    checked, unchecked, hashed = [], [], []
    for _ in range(repeats):
        checked.append(timed(load_encoder, folder))
        unchecked.append(timed(load_encoder, folder, verify_checksums=False))
        data = (folder / MODEL_NAME).read_bytes()
        hashed.append(timed(xxhash.xxh3_128_hexdigest, data))
    on, off, sha = min(checked), min(unchecked), min(hashed)
    return {
        "model_mb": round((folder / MODEL_NAME).stat().st_size / 2**20, 1),
        "load_checked_ms": round(on * 1e3, 1),
        "load_unchecked_ms": round(off * 1e3, 1),
        "hash_ms": round(sha * 1e3, 1),
        "ratio": round((on - off) / off, 4),
        "hash_ratio": round(sha / off, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", nargs="+", default=["physics2d_gpu", "quickstart"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in args.recipe:
            folder = random_recipe_model(recipe, Path(tmp) / recipe)
            results[recipe] = result = measure(folder, args.repeats)
            print(
                f"{recipe:<16} model.safetensors {result['model_mb']:7.1f} MB  load_encoder "
                f"{result['load_unchecked_ms']:8.1f} ms unchecked, {result['load_checked_ms']:8.1f}"
                f" ms checked (+{100 * result['ratio']:.1f} %); hash alone "
                f"{result['hash_ms']:.1f} ms ({100 * result['hash_ratio']:.1f} %)",
                flush=True,
            )
    print(json.dumps({"machine": platform.processor() or platform.machine(), **results}))


if __name__ == "__main__":
    main()
