"""The intervention probe: does a world model know that a push moves what it touches, and only that?

From one start (balls at rest), a world model forecasts twice: with a push (an action sequence,
chosen with the simulator, whose agent touches ball A and never ball B) and with the agent held
still (zero actions). The model's predicted effect of the push is the difference of the two
forecasts, read out as ball positions by a linear state probe (ridge) fitted on the model's
latents of push-world clips from training seeds. It is compared per ball with the true effect
(the same two action sequences in the simulator) ``k`` steps after the first contact:

- touched balls: R^2 of predicted against true displacement (x and y pooled, per-axis means);
- untouched balls (no contact with the agent and a true effect of exactly 0): the spurious
  effect, the mean length of the predicted displacement, px.

Balls the agent did not touch but that were hit by a touched ball count in neither set.

A start is the simulator state from which the ``lead``-th move of an agent walking straight at
ball A first touches it (aimed off-centre by a random offset, at a random speed), so the forecast is
``lead + k`` steps long, within the roll-out lengths a model trains on. Baselines: the same model
with its actions zeroed (action-blind: its predicted effect is 0, so its R^2 is <= 0 by
construction) and a random-init model of the same architecture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from jepa_world.checks import check_int
from jepa_world.worlds import push as world

__all__ = [
    "ActionBlind",
    "case_summary",
    "InterventionCases",
    "effect_metrics",
    "fit_state_probe",
    "make_cases",
    "predicted_effects",
    "run_intervention",
]


@dataclass
class InterventionCases:
    """N cases: ``frames`` uint8 (N, 3, 64, 64) of the starts, push ``actions`` (N, H, 2) (zero
    after ``steps[i]``), ``steps`` (N,) forecast length of each case (first contact + k),
    ``true_effect`` (N, K, 2) px, ``touched`` / ``untouched`` (N, K) bool, ``ball_a`` and
    ``ball_b`` (N,) slots, ``tried`` (how many candidate starts were drawn), and the start states:
    ``agent`` (N, 2), ball ``position`` (N, K, 2), ``present`` (N, K) (balls at rest)."""

    frames: np.ndarray
    actions: np.ndarray
    steps: np.ndarray
    true_effect: np.ndarray
    touched: np.ndarray
    untouched: np.ndarray
    ball_a: np.ndarray
    ball_b: np.ndarray
    tried: int
    agent: np.ndarray | None = None
    position: np.ndarray | None = None
    present: np.ndarray | None = None

    def subset(self, keep: np.ndarray) -> InterventionCases:
        """The cases where ``keep`` (N,) bool is true."""
        keep = np.asarray(keep, dtype=bool)
        arrays = {
            name: getattr(self, name)[keep]
            for name in ("frames", "actions", "steps", "true_effect", "touched", "untouched",
                         "ball_a", "ball_b", "agent", "position", "present")
        }  # fmt: skip
        return InterventionCases(**arrays, tried=self.tried)


def _walk_at(start: world.PushState, a: int, offset: float, speed: float, steps: int) -> np.ndarray:
    """(steps, 2) constant actions from the agent toward ball ``a``, aimed ``offset`` px to the
    side of its centre."""
    gap = start.position[0, a] - start.agent[0]
    direction = gap / max(float(np.linalg.norm(gap)), 1e-9)
    aim = gap + offset * np.array([-direction[1], direction[0]])
    heading = aim / max(float(np.linalg.norm(aim)), 1e-9)
    return np.repeat((heading * speed)[None], steps, axis=0)


def make_cases(
    count: int, seed: int, k: int = 8, lead: int = 2, max_tries: int | None = None
) -> InterventionCases:
    """``count`` cases from seeds ``seed, seed + 1, ...`` (a seed whose candidate fails the
    conditions is skipped; ``tried`` says how many were drawn)."""
    check_int("count", count, 1)
    check_int("k", k, 1, 64)
    check_int("lead", lead, 1, 16)
    max_tries = max_tries or 20 * count
    reach = world.AGENT_RADIUS + world.BALL_RADIUS
    rows: list[dict[str, Any]] = []
    tried = 0
    while len(rows) < count and tried < max_tries:
        rng = np.random.default_rng([int(seed) + tried, 35])
        tried += 1
        spots = rng.random((1, (1 + world.MAX_BALLS) * world.PLACE_TRIES * 2))
        agent, position, present = world.place(spots, np.array([int(rng.integers(2, 4))]))
        state0 = world.PushState(agent, position, np.zeros_like(position), present)
        balls = np.flatnonzero(present[0])
        a, b = rng.choice(balls, size=2, replace=False)
        offset = rng.uniform(-0.8, 0.8) * reach
        speed = rng.uniform(0.8, world.ACTION_BOUND)
        approach = _walk_at(state0, a, offset, speed, 48)
        traj, _ = world.simulate(state0, approach[None])
        touched_at = np.flatnonzero(traj["contact"][0].any(axis=1))
        if not touched_at.size or not traj["contact"][0, touched_at[0], a]:
            continue  # never touched, or touched another ball first
        first = int(touched_at[0])  # the frame the first touching move leads to
        begin = first - lead  # the start frame: the touch is its `lead`-th move
        if begin < 0 or begin + lead + k > len(approach):
            continue
        start = world.PushState(
            traj["agent"][:, begin], traj["position"][:, begin], traj["velocity"][:, begin],
            present,
        )  # fmt: skip
        horizon = lead + k
        actions = approach[begin : begin + horizon][None]
        pushed, _ = world.simulate(start, actions)
        still, _ = world.simulate(start, np.zeros_like(actions))
        effect = pushed["position"][0, -1] - still["position"][0, -1]
        contact = pushed["contact"][0].any(axis=0)
        if not contact[a] or contact[b] or np.abs(effect[b]).max() > 0:
            continue
        rows.append(
            {
                "start": start,
                "actions": actions[0],
                "effect": effect,
                "touched": contact & present[0],
                "untouched": present[0] & ~contact & (np.abs(effect).max(axis=1) == 0),
                "a": a,
                "b": b,
            }
        )
    if not rows:
        raise ValueError(f"no intervention case found in {tried} draws from seed {seed}")
    frames = np.stack(
        [
            world.render_states(r["start"].agent[:, None], r["start"].position[:, None],
                                r["start"].present)[0, 0]
            for r in rows
        ]
    )  # fmt: skip
    return InterventionCases(
        frames=frames,
        actions=np.stack([r["actions"] for r in rows]),
        steps=np.full(len(rows), lead + k),
        true_effect=np.stack([r["effect"] for r in rows]),
        touched=np.stack([r["touched"] for r in rows]),
        untouched=np.stack([r["untouched"] for r in rows]),
        ball_a=np.array([r["a"] for r in rows]),
        ball_b=np.array([r["b"] for r in rows]),
        tried=tried,
        agent=np.concatenate([r["start"].agent for r in rows]),
        position=np.concatenate([r["start"].position for r in rows]),
        present=np.concatenate([r["start"].present for r in rows]),
    )


def effect_metrics(
    predicted: np.ndarray, true: np.ndarray, touched: np.ndarray, untouched: np.ndarray
) -> dict[str, float]:
    """The probe's numbers from effects (N, K, 2) px and ball masks (N, K).

    ``touched_r2``: 1 - sum |pred - true|^2 / sum |true - mean true|^2 over touched balls (x, y
    pooled; the mean per axis); ``touched_error_px``: mean |pred - true| over touched balls;
    ``true_effect_px``: mean |true| over them; ``untouched_spurious_px``: mean |pred| over
    untouched balls; the counts."""
    predicted, true = np.asarray(predicted, np.float64), np.asarray(true, np.float64)
    touched, untouched = np.asarray(touched, bool), np.asarray(untouched, bool)
    if predicted.shape != true.shape or predicted.ndim != 3 or predicted.shape[-1] != 2:
        raise ValueError(f"effects must both be (N, K, 2), got {predicted.shape}, {true.shape}")
    if touched.shape != predicted.shape[:2] or untouched.shape != touched.shape:
        raise ValueError(f"ball masks must be (N, K) = {predicted.shape[:2]}")
    if not touched.any() or not untouched.any():
        raise ValueError("need at least one touched and one untouched ball")
    p, t = predicted[touched], true[touched]
    spread = ((t - t.mean(axis=0)) ** 2).sum()
    return {
        "touched_r2": float(1.0 - ((p - t) ** 2).sum() / max(spread, 1e-12)),
        "touched_error_px": float(np.linalg.norm(p - t, axis=-1).mean()),
        "true_effect_px": float(np.linalg.norm(t, axis=-1).mean()),
        "untouched_spurious_px": float(np.linalg.norm(predicted[untouched], axis=-1).mean()),
        "touched_balls": int(touched.sum()),
        "untouched_balls": int(untouched.sum()),
    }


class ActionBlind:
    """A model that ignores its actions: ``rollout`` always gets zeros (same encoder)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def encode(self, obs: Tensor) -> Tensor:
        return self.model.encode(obs)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        return self.model.rollout(z0, torch.zeros_like(actions))


def _encode(model: Any, frames: np.ndarray, batch: int = 256) -> np.ndarray:
    """Latents (N, D) float64 of frames (N, C, H, W), flattened past the batch axis."""
    out = []
    with torch.no_grad():
        for i in range(0, len(frames), batch):
            z = model.encode(torch.from_numpy(np.ascontiguousarray(frames[i : i + batch])))
            out.append(z.reshape(len(z), -1).double().cpu().numpy())
    return np.concatenate(out)


def fit_state_probe(model: Any, clips: int, seed: int, frames: int = 9) -> Any:
    """A ridge read-out latent -> ball positions (K x 2, absent balls 0) fitted on ``clips``
    push-world random-walk clips of seeds ``seed ..`` (training seeds), alpha chosen on a
    quarter of the clips held out."""
    from jepa_world.evaluation.ridge import fit_ridge

    check_int("clips", clips, 4)
    batch = world.PushWalks(frames=frames).generate(np.arange(clips) + int(seed))
    x = _encode(model, batch["video"].reshape(-1, *batch["video"].shape[2:]))
    y = batch["state"]["position"].reshape(len(x), -1).astype(np.float64)
    cut = (3 * clips // 4) * frames
    return fit_ridge(x[:cut], y[:cut], x[cut:], y[cut:])


def predicted_effects(model: Any, probe: Any, cases: InterventionCases) -> np.ndarray:
    """The model's effect (N, K, 2) px: probe(push forecast) - probe(still forecast) at the
    end of each case's forecast."""
    frames = torch.from_numpy(np.ascontiguousarray(cases.frames))
    push = torch.from_numpy(cases.actions).float()
    with torch.no_grad():
        z0 = model.encode(frames)
        pushed = model.rollout(z0, push)
        still = model.rollout(z0, torch.zeros_like(push))
    rows = np.arange(len(push))
    end = torch.from_numpy(cases.steps - 1)
    zp = pushed[rows, end].reshape(len(rows), -1).double().cpu().numpy()
    zs = still[rows, end].reshape(len(rows), -1).double().cpu().numpy()
    k = cases.true_effect.shape[1]
    return (probe.predict(zp) - probe.predict(zs)).reshape(len(rows), k, 2)


def run_intervention(
    models: Mapping[str, Any],
    cases: InterventionCases,
    probe_clips: int = 256,
    probe_seed: int = 0,
) -> dict[str, dict[str, float]]:
    """:func:`effect_metrics` per named model, each with its own state probe; an
    :class:`ActionBlind` model reuses the probe of the model it wraps."""
    out: dict[str, dict[str, float]] = {}
    probes: dict[int, Any] = {}
    for name, model in models.items():
        inner = model.model if isinstance(model, ActionBlind) else model
        if id(inner) not in probes:
            probes[id(inner)] = fit_state_probe(inner, probe_clips, probe_seed)
        effect = predicted_effects(model, probes[id(inner)], cases)
        out[name] = effect_metrics(effect, cases.true_effect, cases.touched, cases.untouched)
    return out


def case_summary(cases: InterventionCases) -> dict[str, Any]:
    """What the cases were, for the report's protocol."""
    return {
        "cases": len(cases.frames),
        "seeds_drawn": cases.tried,
        "forecast_steps": int(cases.steps[0]),
        "true_effect_px_mean": float(
            np.linalg.norm(cases.true_effect[cases.touched], axis=-1).mean()
        ),
        "angle_spread_deg": float(
            np.degrees(np.std([math.atan2(e[1], e[0]) for e in cases.true_effect[cases.touched]]))
        ),
    }
