"""Losses and collapse monitors (jepa_world.metrics) against values computed by hand.

The monitors are tested here because tests/probing/test_metrics.py owns that basename.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from jepa_world.losses import (
    VICRegLoss,
    embedding_std,
    prediction_loss,
    rankme,
    sigreg,
    vicreg_covariance,
    vicreg_variance,
)

# layer_norm([1, 3]) without affine = [-1, 1] / sqrt(1 + 1e-5)
UNIT = 1.0 / math.sqrt(1.0 + 1e-5)


@pytest.mark.parametrize(
    ("kind", "normalize", "expected"),
    [
        ("l1", True, UNIT),
        ("mse", True, UNIT**2),
        ("smooth_l1", True, 0.5 * UNIT**2),
        ("l1", False, (1 + 3) / 2),
        ("mse", False, (1 + 9) / 2),
        ("smooth_l1", False, (0.5 + 2.5) / 2),  # 0.5 x^2 below 1, |x| - 0.5 above
    ],
)
def test_prediction_loss_by_hand(kind, normalize, expected):
    pred = torch.zeros(1, 2)
    target = torch.tensor([[1.0, 3.0]])
    loss = prediction_loss(pred, target, kind=kind, normalize_target=normalize)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_prediction_loss_checks_arguments_and_gives_gradients():
    pred = torch.zeros(2, 3, requires_grad=True)
    prediction_loss(pred, torch.randn(2, 3)).backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="kind='huber'"):
        prediction_loss(pred, pred, kind="huber")
    with pytest.raises(ValueError, match="same shape"):
        prediction_loss(pred, torch.zeros(2, 4))


def test_vicreg_variance_by_hand():
    z = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    # dim 0: unbiased var 2 -> std 1.414 > 1 -> 0; dim 1: std sqrt(1e-4) = 0.01 -> 0.99
    assert vicreg_variance(z).item() == pytest.approx(0.99 / 2, rel=1e-5)
    assert vicreg_variance(z, gamma=2.0).item() == pytest.approx(
        ((2 - math.sqrt(2 + 1e-4)) + (2 - 0.01)) / 2, rel=1e-5
    )


def test_vicreg_covariance_by_hand():
    z = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    # cov = [[2, -2], [-2, 2]] -> off-diagonal squares 4 + 4 over D = 2
    assert vicreg_covariance(z).item() == pytest.approx(4.0)
    z3 = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [0.0, 0.0]])  # cov = [[1, 1], [1, 1]]
    assert vicreg_covariance(z3).item() == pytest.approx(1.0)
    assert vicreg_covariance(torch.eye(3)).item() == pytest.approx(3 * 2 * (1 / 6) ** 2 / 3)


def test_vicreg_loss_weights_its_terms():
    z = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    loss = VICRegLoss(var_weight=2.0, cov_weight=0.5)
    expected = 2.0 * vicreg_variance(z) + 0.5 * vicreg_covariance(z)
    assert loss(z).item() == pytest.approx(expected.item())
    assert set(loss.terms(z)) == {"variance", "covariance"}
    with pytest.raises(ValueError, match="at least 2 samples"):
        vicreg_variance(torch.zeros(1, 4))


def test_sigreg_one_dimension_by_hand():
    """In 1-D every unit direction is +-1, and the statistic does not depend on the sign."""
    x = np.array([0.3, -1.2, 2.0])
    t = np.linspace(-5, 5, 17)
    gauss = np.exp(-0.5 * t**2)
    real = np.cos(np.outer(x, t)).mean(0)
    imag = np.sin(np.outer(x, t)).mean(0)
    integrand = ((real - gauss) ** 2 + imag**2) * gauss
    expected = len(x) * float(np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(t)))
    z = torch.tensor(x, dtype=torch.float64).unsqueeze(1)
    assert sigreg(z, num_projections=4).item() == pytest.approx(expected, rel=1e-10)


def test_sigreg_small_for_gaussian_large_for_collapse():
    generator = torch.Generator().manual_seed(0)
    gaussian = torch.randn(512, 16, generator=generator)
    collapsed = torch.ones(512, 16) + 0.01 * torch.randn(512, 16, generator=generator)
    shrunk = 0.1 * gaussian
    g = sigreg(gaussian, generator=torch.Generator().manual_seed(1)).item()
    c = sigreg(collapsed, generator=torch.Generator().manual_seed(1)).item()
    s = sigreg(shrunk, generator=torch.Generator().manual_seed(1)).item()
    assert g < 3.0
    assert c > 100.0 and s > 50.0


def test_sigreg_gradient_is_finite():
    z = torch.randn(64, 8, requires_grad=True)
    sigreg(z, num_projections=16).backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


# ------------------------------------------------------------------ collapse monitors


def test_embedding_std_by_hand():
    z = torch.tensor([[0.0, 0.0], [2.0, 4.0]])  # unbiased std: sqrt(2), sqrt(8)
    low, mean = embedding_std(z)
    assert low.item() == pytest.approx(math.sqrt(2))
    assert mean.item() == pytest.approx((math.sqrt(2) + math.sqrt(8)) / 2)
    low, _ = embedding_std(torch.ones(4, 3, 5))
    assert low.item() == 0.0


def test_rankme_by_hand():
    # singular values 3 and 1 -> p = (0.75, 0.25)
    expected = math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    assert rankme(torch.diag(torch.tensor([3.0, 1.0]))).item() == pytest.approx(expected, 1e-5)
    assert rankme(torch.eye(6)).item() == pytest.approx(6.0, rel=1e-4)
    rank_one = torch.outer(torch.randn(20), torch.randn(8))
    assert rankme(rank_one).item() == pytest.approx(1.0, abs=1e-3)


def test_losses_module_re_exports_the_monitors():
    from jepa_world import losses, metrics

    assert losses.embedding_std is metrics.embedding_std and losses.rankme is metrics.rankme


def test_metrics_reject_single_samples():
    with pytest.raises(ValueError, match="at least 2 samples"):
        rankme(torch.ones(1, 4))
