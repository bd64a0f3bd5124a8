"""espeak-ng through ctypes: synchronous synthesis of utterances into numpy arrays.

The library and its voice data ship inside the optional ``espeakng-loader`` wheel
(install the plugin's ``[espeak]`` extra); nothing is downloaded at run time.

espeak-ng keeps state from one utterance to the next, so the same text can come out a
little differently later in a process. :func:`speak_in_fresh_process` therefore runs a
whole batch of utterances in a new process with a seeded engine: same batch, same audio.
This module imports neither torch nor the host, so that process starts quickly.
"""

import ctypes
import importlib.util
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_RATE = 1
ESPEAK_PITCH = 3
ESPEAK_RANGE = 4
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True)
class Voice:
    """How one utterance sounds: espeak voice name (``lang+variant``), rate, pitch, range."""

    name: str
    rate: int  # words per minute, 80 to 450
    pitch: int  # 0 to 100
    pitch_range: int  # 0 (monotone) to 100


class Espeak:
    """The process-wide espeak-ng engine, initialised for synchronous output."""

    def __init__(self, seed: int = 0) -> None:
        """Load libespeak-ng from ``espeakng-loader``, initialise it, seed its randomness."""
        import espeakng_loader as loader  # type: ignore[import-untyped]

        self._lib: Any = ctypes.CDLL(loader.get_library_path())
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data = loader.get_data_path().encode()
        self.sample_rate = int(self._lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0))
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise with data at {data.decode()}")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # keep a reference: C holds the pointer
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def say(self, text: str, voice: Voice) -> np.ndarray:
        """Return ``text`` spoken by ``voice`` as float32 samples in [-1, 1]."""
        if self._lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice.name!r}")
        self._lib.espeak_SetParameter(ESPEAK_RATE, voice.rate, 0)
        self._lib.espeak_SetParameter(ESPEAK_PITCH, voice.pitch, 0)
        self._lib.espeak_SetParameter(ESPEAK_RANGE, voice.pitch_range, 0)
        self._chunks = []
        encoded = text.encode()
        self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, 0, 0, 0, None, None)
        self._lib.espeak_Synchronize()
        if not self._chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._chunks).astype(np.float32) / 32768.0


def espeak_installed() -> bool:
    """Return whether the optional ``espeakng-loader`` package is installed."""
    return importlib.util.find_spec("espeakng_loader") is not None


def speak_all(utterances: list[tuple[str, Voice]], seed: int) -> tuple[list[np.ndarray], int]:
    """Return each ``(text, voice)`` spoken by a new engine seeded with ``seed``, and its rate."""
    engine = Espeak(seed)
    return [engine.say(text, voice) for text, voice in utterances], engine.sample_rate


def speak_in_fresh_process(
    utterances: list[tuple[str, Voice]], seed: int
) -> tuple[list[np.ndarray], int]:
    """Run :func:`speak_all` in a newly spawned process: the audio depends only on the input."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(speak_all, utterances, seed).result()
