"""The article's knobs as functions: initialisation and the LR floor."""

import math

import torch
from torch import nn

from ldnn_tune.recipe.hparams import INIT_SCHEMES, Recipe

LAZY_STD = 0.02


def init_std(scheme: str, fan_in: int, init_scale: float) -> float:
    """Return the weight standard deviation for ``scheme``.

    ``lazy`` is the article's 0.02·randn; ``scaled`` is init_scale/sqrt(fan_in)·randn.
    """
    if scheme == "lazy":
        return LAZY_STD
    if scheme == "scaled":
        return init_scale / math.sqrt(fan_in)
    raise ValueError(f"unknown init {scheme!r}; choose from {', '.join(INIT_SCHEMES)}")


def apply_init(module: nn.Module, recipe: Recipe) -> None:
    """Initialise every Linear and Conv weight of ``module`` per the recipe; zero the biases.

    Recurrent layers are left to their task, which knows its gate layout.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv1d | nn.Conv2d):
            fan_in = layer.weight[0].numel()
            with torch.no_grad():
                layer.weight.normal_(0.0, init_std(recipe.init, fan_in, recipe.init_scale))
                if layer.bias is not None:
                    layer.bias.zero_()
