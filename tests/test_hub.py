"""Frozen-model API: export folder contents, strict loading, input handling, atomic writes,
checksums."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import xxhash
from torch import nn

from jepa_world.atomic import WriteError
from jepa_world.cli import main
from jepa_world.hub import (
    CHECKSUMS_KEY,
    CONFIG_NAME,
    CONTEXT_ENCODER_NAME,
    FORMAT_VERSION,
    MODEL_NAME,
    PREDICTOR_NAME,
    add_checksums,
    load_encoder,
    load_world_model,
    save_pretrained,
)
from jepa_world.models import create_encoder, create_predictor


def encoder(seed=0, **kw):
    torch.manual_seed(seed)
    return create_encoder("vit_micro", img_size=32, frames=4, depth=1, **kw)


class TrainedJEPA(nn.Module):
    """What the Lightning module looks like to the exporter."""

    def __init__(self, with_target=True):
        super().__init__()
        self.encoder = encoder(0)
        self.target_encoder = encoder(1) if with_target else None
        torch.manual_seed(2)
        self.predictor = create_predictor(128, self.encoder.grid, depth=1)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(encoder, folder) exported once for the tests that only read the folder."""
    model = encoder().eval()
    return model, save_pretrained(model, tmp_path_factory.mktemp("hub") / "export")


def rewrite_config(folder, **changes):
    path = folder / CONFIG_NAME
    config = json.loads(path.read_text())
    for key, value in changes.items():
        if isinstance(value, dict):
            config[key].update(value)
        else:
            config[key] = value
    path.write_text(json.dumps(config))


def test_import_does_not_load_lightning_or_wandb():
    code = (
        "import sys, jepa_world.hub, jepa_world\n"
        "jepa_world.load_encoder\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('lightning', 'pytorch_lightning', 'wandb', 'lightning_fabric'))\n"
        "print(bad)\n"
        "assert not bad, bad\n"
    )
    root = str(Path(__file__).resolve().parents[1])  # works before `pip install -e .` too
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.strip() == "[]"


def test_export_folder_contents(tmp_path):
    model = TrainedJEPA()
    folder = save_pretrained(model, tmp_path / "export", metadata={"steps": 4})
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([CONFIG_NAME, MODEL_NAME, CONTEXT_ENCODER_NAME, PREDICTOR_NAME])
    config = json.loads((folder / CONFIG_NAME).read_text())
    assert config["format_version"] == FORMAT_VERSION
    assert config["encoder"] == model.encoder.config
    assert config["predictor"] == model.predictor.config
    assert config["input"]["frames"] == 4 and config["input"]["size"] == 32
    assert config["input"]["channels"] == 3 and config["input"]["mean"] == [0.5] * 3
    assert config["metadata"] == {"steps": 4}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_world_model_round_trip(tmp_path):
    model = TrainedJEPA().eval()
    world = load_world_model(save_pretrained(model, tmp_path / "export"))
    video = torch.rand(2, 4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(world.encoder(video), model.target_encoder.forward_features(video))
        assert torch.equal(world.context_encoder(video), model.encoder.forward_features(video))
        tokens = model.encoder.forward_features(video)
        expected = model.predictor.rollout(tokens, 2, (4, 4))
        assert torch.equal(world.predict(video, steps=2), expected)
        targets = world.targets(video)
    assert targets.shape == (2, 2, 16, 128)
    assert not any(p.requires_grad for p in world.parameters())
    assert not world.train().training


def test_without_target_encoder_context_is_the_encoder(tmp_path):
    model = TrainedJEPA(with_target=False).eval()
    folder = save_pretrained(model, tmp_path / "export")
    assert not (folder / CONTEXT_ENCODER_NAME).exists()
    world = load_world_model(folder)
    assert world.context_encoder is world.encoder
    video = torch.rand(1, 4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(world.encoder(video), model.encoder.forward_features(video))


def test_uint8_float_numpy_and_unbatched_input_agree(exported):
    model, folder = exported
    loaded = load_encoder(folder)
    video8 = torch.randint(0, 256, (2, 4, 3, 32, 32), dtype=torch.uint8)
    as_float = video8.float() / 255
    with torch.no_grad():
        tokens = loaded(video8)
        assert torch.equal(tokens, loaded(as_float))
        assert torch.equal(tokens, model.forward_features(as_float))
        assert torch.equal(tokens, loaded(video8.numpy()))
        single = loaded(video8[0])
        assert single.shape == tokens.shape[1:]
        torch.testing.assert_close(single, tokens[0])
        assert loaded.embed(video8[0]).shape == (2, 128)


@pytest.mark.parametrize(
    ("video", "error", "message"),
    [
        (torch.rand(1, 4, 1, 32, 32), ValueError, "C=3, H=W=32"),
        (torch.rand(4, 3, 64, 64), ValueError, "C=3, H=W=32"),
        (torch.rand(1, 3, 3, 32, 32), ValueError, "multiple of tubelet_size=2"),
        (torch.rand(32, 32), ValueError, r"\(T, C, H, W\) or \(B, T, C, H, W\)"),
        (torch.zeros(1, 4, 3, 32, 32, dtype=torch.int64), TypeError, "uint8 or float"),
        ([1, 2, 3], TypeError, "torch.Tensor or numpy array"),
    ],
)
def test_loaded_encoder_rejects_bad_video(exported, video, error, message):
    loaded = load_encoder(exported[1])
    with pytest.raises(error, match=message):
        loaded(video)


def test_missing_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="export folder not found"):
        load_encoder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="config.json not found"):
        load_encoder(tmp_path / "empty")
    folder = save_pretrained(encoder(), tmp_path / "export")
    with pytest.raises(FileNotFoundError, match="use load_encoder"):
        load_world_model(folder)
    (folder / MODEL_NAME).unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_encoder(folder)


def test_wrong_format_version(tmp_path):
    folder = save_pretrained(encoder(), tmp_path / "export")
    rewrite_config(folder, format_version=FORMAT_VERSION + 1)
    with pytest.raises(ValueError, match="format_version 2 is not supported"):
        load_encoder(folder)
    (folder / CONFIG_NAME).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_encoder(folder)


def test_mismatched_weights_name_file_and_key(tmp_path):
    folder = save_pretrained(encoder(), tmp_path / "export")
    rewrite_config(folder, encoder={"depth": 2})
    with pytest.raises(ValueError, match=r"model.safetensors.*missing keys \['blocks.1"):
        load_encoder(folder)
    rewrite_config(folder, encoder={"depth": 1, "patch_size": 4})
    with pytest.raises(ValueError, match="key 'patch_embed.weight' has shape"):
        load_encoder(folder)
    (folder / MODEL_NAME).write_bytes(b"not safetensors")
    rewrite_config(folder, encoder={"patch_size": 8})
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_encoder(folder, verify_checksums=False)


def test_overwrite_replaces_only_when_complete(tmp_path, monkeypatch):
    folder = tmp_path / "export"
    save_pretrained(encoder(0), folder)
    first = (folder / MODEL_NAME).read_bytes()
    save_pretrained(encoder(1), folder)
    second = (folder / MODEL_NAME).read_bytes()
    assert first != second

    real_write = os.write
    calls = []

    def fill_disk(fd, data):  # the first block fits, then the disk is full
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, bytes(memoryview(data)[:4096]))

    monkeypatch.setattr(os, "write", fill_disk)
    with pytest.raises(WriteError) as caught:
        save_pretrained(encoder(2), folder)
    monkeypatch.undo()
    assert str(caught.value) == (
        f"disk full while writing {folder}: {os.strerror(errno.ENOSPC)}; the previous export is "
        "kept"
    )
    assert (folder / MODEL_NAME).read_bytes() == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # no staging folder left
    load_encoder(folder)


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
@pytest.mark.parametrize(
    ("umask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)]
)
def test_export_modes_follow_the_umask(tmp_path, umask, folder_mode, file_mode):
    old = os.umask(umask)
    try:
        folder = save_pretrained(TrainedJEPA(), tmp_path / "export")
        save_pretrained(TrainedJEPA(), folder)  # a replaced export too
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == folder_mode
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == file_mode, path.name


def test_config_holds_the_checksum_of_every_weight_file(tmp_path):
    folder = save_pretrained(TrainedJEPA(), tmp_path / "export")
    checksums = json.loads((folder / CONFIG_NAME).read_text())[CHECKSUMS_KEY]
    weights = sorted(p.name for p in folder.iterdir() if p.suffix == ".safetensors")
    assert (
        sorted(checksums) == weights == sorted([MODEL_NAME, CONTEXT_ENCODER_NAME, PREDICTOR_NAME])
    )
    for name, digest in checksums.items():
        expected = xxhash.xxh3_128_hexdigest((folder / name).read_bytes())
        assert digest == f"xxh3_128:{expected}"


def scribble(path: Path, size: int = 4096, seed: int = 0) -> None:
    """Overwrite ``size`` random bytes in the middle of a file (its length stays)."""
    data = bytearray(path.read_bytes())
    start = len(data) // 2 - size // 2
    assert start > 0 and start + size < len(data)
    data[start : start + size] = np.random.default_rng(seed).bytes(size)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", [MODEL_NAME, CONTEXT_ENCODER_NAME, PREDICTOR_NAME])
def test_corrupt_weight_file_is_named_at_load(tmp_path, name):
    folder = save_pretrained(TrainedJEPA(), tmp_path / "export")
    scribble(folder / name)
    message = f"{folder / name} is corrupt: its checksum does not match the checksum in config.json"
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.")) as caught:
        load_world_model(folder)
    assert "\n" not in str(caught.value)
    if name == MODEL_NAME:
        with pytest.raises(ValueError, match="is corrupt"):
            load_encoder(folder)
    else:
        load_encoder(folder)  # reads model.safetensors only
    with pytest.raises(ValueError, match="is corrupt"):
        add_checksums(folder, tmp_path / "blessed")


def test_weight_file_listed_in_checksums_must_be_there(tmp_path):
    folder = save_pretrained(TrainedJEPA(), tmp_path / "export")
    (folder / CONTEXT_ENCODER_NAME).unlink()
    with pytest.raises(FileNotFoundError, match="context_encoder.safetensors is missing"):
        load_world_model(folder)
    rewrite_config(folder, **{CHECKSUMS_KEY: {MODEL_NAME: "nothex"}})
    with pytest.raises(ValueError, match="xxh3_128:<32 lower-case hex digits>"):
        load_encoder(folder)


FIXTURE = Path(__file__).parent / "fixtures" / "exports_v1" / "physics"


def test_export_without_checksums_loads_with_a_warning_and_export_adds_them(tmp_path, capsys):
    folder = tmp_path / "old"
    shutil.copytree(FIXTURE, folder)
    with pytest.warns(UserWarning) as caught:
        before = load_world_model(folder)
    assert len(caught) == 1
    warning = str(caught[0].message)
    assert (
        warning.startswith(f"{folder / CONFIG_NAME} has no weight checksums")
        and "\n" not in warning
    )
    assert "jepa-world export" in warning

    main(["export", "--ckpt_path", str(folder), "--out", str(folder)])
    assert "weight checksums" in capsys.readouterr().out
    config = json.loads((folder / CONFIG_NAME).read_text())
    old = json.loads((FIXTURE / CONFIG_NAME).read_text())
    assert {k: v for k, v in config.items() if k != CHECKSUMS_KEY} == old
    assert sorted(config[CHECKSUMS_KEY]) == sorted(
        [MODEL_NAME, CONTEXT_ENCODER_NAME, PREDICTOR_NAME]
    )
    assert (folder / "expected.safetensors").read_bytes() == (
        FIXTURE / "expected.safetensors"
    ).read_bytes()  # other files come along
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after = load_world_model(folder)
    video = torch.rand(1, 16, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(before.predict(video[:, :4], 2), after.predict(video[:, :4], 2))


def test_refuses_to_replace_a_folder_that_is_not_an_export(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not an export"):
        save_pretrained(encoder(), tmp_path / "mine")
    with pytest.raises(TypeError, match="VideoEncoder"):
        save_pretrained(nn.Linear(2, 2), tmp_path / "other")


def test_frozen_encoder_stays_frozen(exported):
    loaded = load_encoder(exported[1])
    loaded.train()
    assert not loaded.training and not loaded.encoder.training
    assert not any(p.requires_grad for p in loaded.parameters())
    assert loaded.num_features == 128 and loaded.grid == (2, 4, 4)
    assert np.isfinite(loaded.embed(torch.rand(4, 3, 32, 32)).numpy()).all()


def test_export_keeps_reduced_precision_bit_exact(tmp_path):
    model = encoder().to(torch.bfloat16).eval()
    loaded = load_encoder(save_pretrained(model, tmp_path / "export"))
    video = torch.rand(1, 4, 3, 32, 32)
    with torch.no_grad():
        tokens = loaded(video)
        assert tokens.dtype == torch.bfloat16
        assert torch.equal(tokens, model.forward_features(video))
