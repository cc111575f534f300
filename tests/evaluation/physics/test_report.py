"""Report: the table, the files, the plots and the logger hook."""

from __future__ import annotations

from pathlib import Path

from jepa_world.evaluation.physics.report import PLOTS, PhysicsReport

REPORT = {
    "suite": "toy",
    "metrics": {
        "state/position_r2": 0.9,
        "state/position_r2_ci_low": 0.85,
        "state/position_r2_ci_high": 0.95,
        "baselines/random_init/state/position_r2": 0.5,
        "baselines/random_init/state/position_r2_std": 0.1,
        "baselines/pixels/state/position_r2": 0.7,
        "rollout/position_px@1": 2.0,
        "rollout/position_px@2": 3.0,
        "baselines/copy_last/rollout/position_px@2": 4.0,
        "voe/permanence/relative_acc": 0.8,
        "voe/permanence/relative_acc_ci_low": 0.6,
        "voe/permanence/relative_acc_ci_high": 0.9,
        "baselines/random_init/voe/permanence/relative_acc": 0.5,
        "baselines/random_init/voe/permanence/relative_acc_std": 0.05,
        "baselines/pixels/voe/permanence/relative_acc": 0.5,
    },
    "protocol": {"random_init_seeds": [0, 1, 2, 3, 4], "bootstrap_resamples": 10},
    "model": {"name": "toy"},
    "curves": {
        "rollout": {
            "horizons": [1, 2],
            "position_px": {
                "model": [2.0, 3.0],
                "copy_last": [1.0, 4.0],
                "constant_velocity": [0.5, 1.0],
                "mean": [9.0, 9.0],
                "random_init": [[8.0, 9.0], [7.0, 9.5]],
            },
            "latent_err": {"model": [0.3, 0.4], "copy_last": [0.2, 0.5], "mean": [0.6, 0.6]},
        },
        "voe_example": {
            "permanence": {
                "possible": [True, True, False, False],
                "step_frames": 2,
                "valid_steps": [1, 2, 3],
                "model": [[0, 1, 2, 3]] * 4,
                "pixels": [[0, 5, 6, 7, 8, 9, 1, 2]] * 4,
                "valid_frames": [2, 3, 4, 5, 6, 7],
                "divergence_frame": [5, 6, 5, 6],
            }
        },
    },
    "timing": {"total_s": 1.0},
}


def test_markdown_table_rows_and_cells():
    table = PhysicsReport(REPORT).table()
    lines = table.splitlines()
    assert lines[0].startswith("| metric | model | random_init | pixels | copy_last")
    row = next(line for line in lines if line.startswith("| state/position_r2 "))
    assert "0.900 [0.850, 0.950]" in row and "0.500 ± 0.100" in row and "0.700" in row
    rows = [line.split("|")[1].strip() for line in lines[2:]]
    assert rows.index("rollout/position_px@1") < rows.index("rollout/position_px@2")
    assert not any(r.endswith(("_std", "_ci_low")) for r in rows)


def test_write_report_files_and_plots(tmp_path):
    paths = PhysicsReport(REPORT).write(tmp_path)
    for name, filename in PLOTS.items():
        assert paths[name] == tmp_path / filename
        assert (tmp_path / filename).read_bytes()[:4] == b"\x89PNG"
    text = (tmp_path / "report.md").read_text()
    assert "| state/position_r2 |" in text and "rollout_error.png" in text
    assert (tmp_path / "report.json").is_file()


class FakeLogger:
    def __init__(self):
        self.metrics, self.images = {}, []

    def log_metrics(self, metrics, step=None):
        self.metrics.update(metrics)

    def log_image(self, key, images):
        self.images.append((key, images))


def test_log_to_loggers(tmp_path):
    report = PhysicsReport(REPORT)
    report.write(tmp_path)
    logger = FakeLogger()
    report.log_to([logger, None], out=tmp_path)
    assert logger.metrics["probe/state/position_r2"] == 0.9
    assert {key for key, _ in logger.images} == {f"probe/{Path(f).stem}" for f in PLOTS.values()}
    report.log_to(None)  # no logger: nothing happens
    other = FakeLogger()
    report.log_to(other)  # the folder it was written to holds the plots
    assert len(other.images) == len(PLOTS)
