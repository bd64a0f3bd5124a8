"""``ldnn-tune generate``: sample text from a saved ensemble of a character model.

Each next character is drawn from the ensemble's averaged (and temperature-calibrated)
probabilities given the text so far, as char-rnn samples: the members read the last
characters up to their training window, from a fresh state, as they were trained.
"""

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console

from ldnn_tune.config.outputs import refuse_output_in_data
from ldnn_tune.config.settings import GenerateConfig
from ldnn_tune.config.stores import check_model_source
from ldnn_tune.config.words import parse_words
from ldnn_tune.errors import EXIT_OK, PluginError, UsageError
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.codec import TextCodec
from ldnn_tune.plugin.manager import Host, get_plugin_manager

if TYPE_CHECKING:  # torch loads with the ensemble, not with the command's words
    from ldnn_tune.ensembles.bundle import LoadedEnsemble

NEW_LINE = "\n"  # what an empty prompt starts from, when the text has it


def main(words: Sequence[str], console: Console) -> int:
    """Print text sampled from a saved ensemble (and write it to ``output=``)."""
    config = parse_words(GenerateConfig, words)
    from ldnn_tune.console.quiet import quiet_frameworks

    quiet_frameworks()
    text = generate(config, Host(get_plugin_manager()))
    if config.output is not None:
        try:
            config.output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(
                f"cannot write output {str(config.output)!r}: {error.strerror}"
            ) from None
    console.file.write(text + ("" if text.endswith(NEW_LINE) else NEW_LINE))
    return EXIT_OK


def generate(config: GenerateConfig, host: Host) -> str:
    """Return the prompt and ``config.length`` characters sampled after it."""
    from ldnn_tune.ensembles.bundle import open_bundle

    check_model_source(config.model, config.mlflow)
    with tempfile.TemporaryDirectory() as scratch:
        ensemble = open_bundle(config.model, config.mlflow, host, Path(scratch), config.data_dir)
    if config.output is not None:
        refuse_output_in_data(config.output, ensemble.task.data_dir, "this ensemble's")
    codec = text_codec(ensemble)
    start = config.prompt or (NEW_LINE if NEW_LINE in codec.characters else codec.characters[0])
    prompt = codec.encode(start)
    rng = np.random.default_rng(config.seed)
    sampled = sample(ensemble, codec, prompt, config.length, config.temperature, rng)
    return config.prompt + codec.decode(sampled)


def text_codec(ensemble: "LoadedEnsemble") -> TextCodec:
    """Return the ensemble's task's :class:`TextCodec`; UsageError for a task without one."""
    task = ensemble.task
    with plugin_code(task.name, ensemble.source, "text_codec()"):
        codec = task.text_codec()
    if codec is None:
        raise UsageError(
            f"task {task.name!r} (as this ensemble was trained) predicts no next character, "
            "so its ensembles generate no text; an ensemble of a character model does "
            "(task=sequence problem=text)"
        )
    if not isinstance(codec, TextCodec):
        problem = f"returned a {type(codec).__name__} from text_codec(), not a TextCodec"
        raise PluginError(task.name, ensemble.source, problem, TypeError(problem))
    with plugin_code(task.name, ensemble.source, "class_names()"):
        names = task.class_names()
    if names is None or tuple(names) != codec.characters:
        problem = "gave text_codec() characters that are not its class_names()"
        raise PluginError(task.name, ensemble.source, problem, ValueError(problem))
    return codec


def sample(
    ensemble: "LoadedEnsemble",
    codec: TextCodec,
    prompt: list[int],
    length: int,
    temperature: float,
    rng: np.random.Generator,
) -> list[int]:
    """Return ``length`` character ids drawn one at a time after the ``prompt`` ids."""
    import torch

    ids = list(prompt)
    for _ in range(length):
        window = torch.tensor([ids[-codec.context :]], dtype=torch.int64)
        with plugin_code(ensemble.task.name, ensemble.source, "the model's forward pass"):
            probabilities = ensemble.predict(window)
        ids.append(next_character(probabilities[0, -1], temperature, rng))
    return ids[len(prompt) :]


def next_character(probabilities: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Return a character id drawn from ``probabilities`` raised to ``1/temperature``.

    Temperature 0 takes the most probable character.
    """
    if temperature == 0:
        return int(np.argmax(probabilities))
    logits = np.log(np.clip(probabilities.astype(np.float64), 1e-300, None)) / temperature
    odds = np.exp(logits - logits.max())
    if not np.isfinite(odds).all():  # the odds of the likeliest alone, at any temperature
        return int(np.argmax(probabilities))
    return int(rng.choice(len(odds), p=odds / odds.sum()))
