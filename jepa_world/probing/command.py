"""The ``jepa-world probe`` command (the CLI wires it through jsonargparse)."""

from __future__ import annotations


def probe(suite: str, model: str, out: str) -> None:
    """Run a probe suite on an exported model and write its report.

    Writes OUT/report.json (flat metrics, protocol, model config), OUT/report.md (model against
    baselines, with 95 % intervals) and PNG plots, then prints the table. A malformed suite is
    rejected, naming the key, before any work starts.

    Args:
        suite: suite YAML file, or the name of a shipped suite (e.g. ``physics`` or
            ``probes/physics.yaml``).
        model: exported model folder (config.json + safetensors, with a predictor).
        out: output folder for the report.
    """
    import sys

    from jepa_world.probing.report import markdown_table
    from jepa_world.probing.runner import run_suite

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = run_suite(model, suite, out=out, log=log)
    print(markdown_table(report))
    print(
        f"\nreport: {out}/report.json, {out}/report.md (total {report['timing']['total_s']:.1f} s)"
    )
