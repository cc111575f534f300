"""A forecaster fitted on frozen features: roll-out and surprise for encoders without a predictor.

The dynamics analogue of a linear probe. The encoder stays frozen; a small causal predictor
learns, on the features of training-world clips, to forecast the next time step's features from
the last ``context_steps`` steps, and is then rolled out autoregressively (its forecasts fed
back). Everything about it is fixed by a :class:`ForecasterBudget` (steps, clips, batch size,
learning rate, width, depth, context, seed), so two models are compared under the same fit, and
it is fitted per model (and per random-init twin).

Architecture. Features are standardised per channel with statistics of the fitting features (an
invertible linear map, so linear dynamics stay linear). The forecast of step t + 1 is

    x_t + A [x_(t-L+1), ..., x_t] + head(transformer(last K steps' tokens))[last step]

per token: a linear autoregression A over the last L <= K steps (shared by all tokens), fitted in
closed form by ridge regression whose strength is chosen by L1 error on one fitting clip in five
(no linear term, i.e. copy-last, is one of the choices), plus a small transformer over the
K x N tokens of the context (attention across tokens carries interactions and what happened up
to K steps ago, e.g. a ball that went behind an occluder; every input is in the past, so no mask
is needed), whose output head starts at zero and which is then trained with
AdamW on what A leaves (L1 loss, the distance every probe scores with). Contexts shorter than K
are left-padded with their first step; fitting draws context lengths 1..K so that short contexts
are forecast as well.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_world.checks import check_int
from jepa_world.evaluation.physics.spec import ForecasterBudget
from jepa_world.models._timm import Block

__all__ = ["ForecasterBudget", "FittedForecaster", "fit_forecaster"]

_LINEAR_ROWS = 16_384  # token rows drawn for the closed-form linear part
_RIDGES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)  # relative to the mean Gram eigenvalue


class _Net(nn.Module):
    """Standardised next-step forecaster over K steps of N tokens (see the module docstring)."""

    def __init__(self, k: int, n: int, d: int, budget: ForecasterBudget) -> None:
        super().__init__()
        self.k, self.n, self.d = k, n, d
        self.k_linear = min(k, budget.linear_steps)
        self.linear = nn.Linear(self.k_linear * d, d)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.depth = budget.depth
        if self.depth:
            w = budget.width
            self.embed = nn.Linear(d, w)
            self.time = nn.Parameter(torch.zeros(1, k, 1, w))
            self.token = nn.Parameter(torch.zeros(1, 1, n, w))
            nn.init.normal_(self.time, std=0.02)
            nn.init.normal_(self.token, std=0.02)
            self.blocks = nn.ModuleList(
                Block(w, budget.heads, mlp_ratio=4.0, qkv_bias=True) for _ in range(self.depth)
            )
            self.norm = nn.LayerNorm(w)
            self.head = nn.Linear(w, d)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, window: Tensor) -> Tensor:
        """``window`` (B, K, N, D) standardised -> next step (B, N, D) standardised."""
        b, k, n, d = window.shape
        recent = window[:, k - self.k_linear :]
        flat = recent.permute(0, 2, 1, 3).reshape(b, n, self.k_linear * d)
        out = window[:, -1] + self.linear(flat)
        if self.depth:
            x = self.embed(window) + self.time + self.token
            x = x.reshape(b, k * n, -1)
            for block in self.blocks:
                x = block(x)
            out = out + self.head(self.norm(x[:, -n:]))
        return out


def _pad_left(context: Tensor, k: int) -> Tensor:
    """The last ``k`` steps of ``context`` (B, C, N, D), left-padded with its first step."""
    c = context.shape[1]
    if c >= k:
        return context[:, -k:]
    pad = context[:, :1].expand(-1, k - c, -1, -1)
    return torch.cat([pad, context], dim=1)


class FittedForecaster:
    """A fitted next-step forecaster; :meth:`predict` rolls it out autoregressively."""

    def __init__(self, net: _Net, mean: Tensor, std: Tensor, budget: ForecasterBudget) -> None:
        self.net = net.eval()
        self.mean, self.std = mean, std
        self.budget = budget
        self.context_steps = net.k
        self.history: list[float] = []
        self.ridge: float | None = None  # the linear part's relative ridge (None: no linear term)

    @torch.inference_mode()
    def predict(self, context: Tensor, steps: int) -> Tensor:
        """Forecast ``steps`` steps after ``context`` (B, C, N, D): returns (B, steps, N, D).

        Each step is forecast from the last ``context_steps`` steps of context and earlier
        forecasts (fewer at the start: left-padded with the first step), then fed back.
        """
        return self.predict_many([context], steps)[0]

    @torch.inference_mode()
    def predict_many(self, contexts: list[Tensor], steps: int) -> list[Tensor]:
        """:meth:`predict` for several contexts (any lengths C >= 1, same N and D) in one batch:
        every context is padded to ``context_steps`` first, so one roll-out serves them all."""
        check_int("steps", steps, 1)
        windows = []
        for context in contexts:
            self._check(context, "context")
            windows.append(_pad_left((context.float().cpu() - self.mean) / self.std, self.net.k))
        window = torch.cat(windows)
        out = []
        for _ in range(steps):
            nxt = self.net(window)
            out.append(nxt)
            window = torch.cat([window[:, 1:], nxt[:, None]], dim=1)
        pred = torch.stack(out, dim=1) * self.std + self.mean
        return list(pred.split([len(c) for c in contexts]))

    @torch.inference_mode()
    def next_steps(self, features: Tensor) -> Tensor:
        """Teacher-forced one-step forecasts of every step of ``features`` (B, T, N, D) from its
        real past (the last ``context_steps`` steps, fewer at the start). Step 0, which has no
        past, is NaN. Returns (B, T, N, D)."""
        self._check(features, "features")
        x = (features.float().cpu() - self.mean) / self.std
        b, t, n, d = x.shape
        k = self.net.k
        out = torch.full_like(x, float("nan"))
        if t > 1:
            ends = torch.arange(t - 1)  # the context of step s ends at s - 1
            steps = (ends[:, None] - (k - 1) + torch.arange(k)[None]).clamp_min(0)
            windows = x[:, steps].reshape(b * (t - 1), k, n, d)  # (B * (T-1), K, N, D)
            out[:, 1:] = self.net(windows).view(b, t - 1, n, d)
        return out * self.std + self.mean

    def _check(self, x: Tensor, name: str) -> None:
        if x.ndim != 4 or x.shape[1] < 1 or tuple(x.shape[2:]) != (self.net.n, self.net.d):
            raise ValueError(
                f"{name} must be (B, T, N={self.net.n}, D={self.net.d}), got {tuple(x.shape)}"
            )


def _fit_linear(net: _Net, window: Tensor, target: Tensor, held_out: Tensor) -> float | None:
    """Closed-form ridge for the linear autoregression: ``target - x_t`` from the last
    ``net.k_linear`` steps of the window, per token. The ridge (relative to the mean Gram
    eigenvalue; or no linear term at all, which leaves copy-last) is the one with the lowest L1
    error on the ``held_out`` rows, then refit on every row. Returns the chosen relative ridge
    (None: no linear term)."""
    window = window[:, window.shape[1] - net.k_linear :]
    b, k, n, d = window.shape
    inputs = window.permute(0, 2, 1, 3).reshape(b * n, k * d).double()
    outputs = (target - window[:, -1]).reshape(b * n, d).double()
    rows = held_out.repeat_interleave(n)

    def solve(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        mu_x, mu_y = x.mean(0), y.mean(0)
        xc = x - mu_x
        evals, evecs = torch.linalg.eigh(xc.T @ xc)
        return mu_x, mu_y, evals.clamp_min(0), evecs, evecs.T @ (xc.T @ (y - mu_y))

    def weights(parts, ridge: float) -> tuple[Tensor, Tensor]:
        mu_x, mu_y, evals, evecs, proj = parts
        alpha = ridge * float(evals.mean()) + 1e-12
        w = evecs @ (proj / (evals + alpha)[:, None])
        return w, mu_y - mu_x @ w

    fit = solve(inputs[~rows], outputs[~rows])
    x_val, y_val = inputs[rows], outputs[rows]
    best, best_err = None, float(y_val.abs().mean())  # no linear term: copy-last
    for ridge in _RIDGES:
        w, bias = weights(fit, ridge)
        err = float((x_val @ w + bias - y_val).abs().mean())
        if err < best_err:
            best, best_err = ridge, err
    with torch.no_grad():
        if best is None:
            net.linear.weight.zero_()
            net.linear.bias.zero_()
        else:
            w, bias = weights(solve(inputs, outputs), best)
            net.linear.weight.copy_(w.T.float())
            net.linear.bias.copy_(bias.float())
    return best


def fit_forecaster(features: Tensor, budget: ForecasterBudget, seed: int) -> FittedForecaster:
    """Fit a next-step forecaster on ``features`` (B, T, N, D) under ``budget``.

    Each training example is a random (clip, step) with a random context length in 1..K (K =
    ``budget.context_steps``, capped at T - 1), drawn from ``torch.Generator`` seeded by ``seed``;
    the weights are initialised under the same seed. Deterministic for a given input and thread
    count.
    """
    if features.ndim != 4:
        raise ValueError(f"features must be (B, T, N, D), got shape {tuple(features.shape)}")
    b, t, n, d = features.shape
    if t < 2 or b < 1:
        raise ValueError(f"features {tuple(features.shape)} need B >= 1 clips of T >= 2 steps")
    check_int("seed", seed, 0, 2**63 - 1)
    k = min(budget.context_steps, t - 1)
    x = features.detach().float().cpu()
    mean = x.mean(dim=(0, 1, 2))
    std = x.std(dim=(0, 1, 2)).clamp_min(1e-6)
    x = (x - mean) / std
    gen = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        net = _Net(k, n, d, budget)
    offsets = torch.arange(k)

    def draw(count: int, with_clips: bool = False):
        """``count`` random (window, next step) examples with context lengths 1..K."""
        clip = torch.randint(0, b, (count,), generator=gen)
        last = torch.randint(0, t - 1, (count,), generator=gen)  # the context ends here
        length = torch.randint(1, k + 1, (count,), generator=gen)
        # the window holds steps last-K+1 .. last; those before the context's first step (or
        # before the clip) repeat that first step, as predict() pads a short context
        first = (last - length + 1).clamp_min(0)
        steps = torch.maximum(last[:, None] - (k - 1) + offsets[None], first[:, None])
        if with_clips:
            return x[clip[:, None], steps], x[clip, last + 1], clip
        return x[clip[:, None], steps], x[clip, last + 1]

    window, target, clip = draw(max(2, _LINEAR_ROWS // n), with_clips=True)
    held_out = clip % 5 == 4 if b >= 5 else torch.arange(len(clip)) % 5 == 4  # one clip in five
    ridge = _fit_linear(net, window, target, held_out)
    history: list[float] = []
    if net.depth:
        params = [p for name, p in net.named_parameters() if not name.startswith("linear.")]
        opt = torch.optim.AdamW(params, lr=budget.lr, weight_decay=budget.weight_decay)
        warmup = max(1, budget.steps // 20)

        def lr_at(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = (step - warmup) / max(1, budget.steps - warmup)
            return 0.5 * (1.0 + math.cos(math.pi * progress))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
        net.train()
        for _ in range(budget.steps):
            window, target = draw(budget.batch_size)
            loss = F.l1_loss(net(window), target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            history.append(float(loss.detach()))
    fitted = FittedForecaster(net, mean, std, budget)
    fitted.history = history
    fitted.ridge = ridge
    return fitted
