"""RecipeModule's steps: mixup mixes inputs and labels, in training and classification only."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ldnn_tune import RecipeModule, TaskKind
from ldnn_tune.recipe.hparams import Recipe

RECIPE = Recipe(
    lr=0.1,
    lr_factor=2.0,
    lr_patience=2,
    init="lazy",
    init_scale=1.0,
    dropout=0.0,
    batch_size=8,
    clip_norm=10.0,
    momentum=0.9,
)


def recording_module(
    mixup: float, kind: TaskKind = TaskKind.CLASSIFICATION
) -> tuple[RecipeModule, list[torch.Tensor]]:
    """Return a module over an 8-in, 8-out linear net, and the inputs its net receives."""
    net = nn.Linear(8, 8)
    seen: list[torch.Tensor] = []
    net.register_forward_pre_hook(lambda _module, args: seen.append(args[0].detach().clone()))
    return RecipeModule(net, RECIPE, kind=kind, mixup=mixup), seen


def test_mixup_trains_on_pairs_of_examples_and_mixes_their_losses() -> None:
    torch.manual_seed(3)
    module, seen = recording_module(mixup=0.4)
    x, y = torch.eye(8), torch.arange(8) % 3
    loss = module._step((x, y), "train")
    (mixed,) = seen
    # row i is lam * x_i + (1 - lam) * x_partner(i), with one lam for the whole batch
    torch.testing.assert_close(mixed.sum(dim=1), torch.ones(8))
    own = mixed.diagonal()
    moved = own < 1
    assert moved.sum() >= 2
    lam = own[moved][0]
    assert 0 < lam < 1
    torch.testing.assert_close(own[moved], lam.expand(int(moved.sum())))
    off_diagonal = mixed - torch.diag(own)
    partner = torch.where(moved, off_diagonal.argmax(dim=1), torch.arange(8))
    with torch.no_grad():
        out = module.net(mixed)
    expected = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[partner])
    torch.testing.assert_close(loss.detach(), expected)


def test_mixup_leaves_evaluation_alone_and_refuses_what_it_cannot_mix() -> None:
    x, y = torch.eye(8), torch.arange(8) % 3
    module, seen = recording_module(mixup=0.4)
    module._step((x, y), "val")
    assert torch.equal(seen[0], x)
    with pytest.raises(TypeError, match=r"floating-point inputs, not torch\.int64"):
        module._step((torch.arange(8).reshape(8, 1).expand(8, 8), y), "train")
    with pytest.raises(ValueError, match=r"mixup=0\.4 needs a classification task"):
        recording_module(mixup=0.4, kind=TaskKind.REGRESSION)
