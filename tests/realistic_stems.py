"""The realistic corpus: valid vocal stems as producers export them, generated here from real
synthesized speech (``espeak-ng``) and shaped with ``sox`` (numpy where sox cannot), no audio
committed. Each case is a named stem with a one-line description and the outcome voxregen
promises for it (docs/input.md, docs/mastering.md).

espeak-ng writes exact digital silence (samples of 0) before, between and after its sentences,
as a DAW does when it exports a gated or edited vocal; the cases keep it (sox runs with ``-D``,
no dither, so zeros stay zeros) and add hard cuts to zero, fades, clipping, DC, noise, quiet
levels, every accepted kind of WAV and lengths from 0.4 s to exactly 8:00.

:class:`StemCorpus` builds each case's file on first use, once, into its folder (the tests share
one per session: ``realistic_stems`` in ``tests/conftest.py``), and checks that the file is what
the case says (rate, encoding, channels, container, duration, a run of exact zeros), so the
corpus cannot drift from its descriptions. :func:`check_delivery` is what every delivery of a
case must satisfy, on ffmpeg's ebur128 (``tests/meters.py``), whichever door it went through.

Also runnable: ``python -m tests.realistic_stems OUTDIR`` writes every stem to OUTDIR;
``--table`` also renders each with ``voxregen render`` and prints the Markdown table of what
ffmpeg measured on the outputs (docs/reliability.md, "Realistic stems").
"""

import argparse
import enum
import hashlib
import io
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
import soundfile as sf

from tests.meters import Reading, ffmpeg_ebur128
from tests.signals import with_consonants
from voxregen_core import spec
from voxregen_core.audio_input import MAX_SAMPLE_RATE_HZ, MIN_INPUT_S

VERSE = (
    "Every night I drive the coast road home. The radio plays our song again. "
    "I sing along, I sing along."
)
CHORUS = "Hold on to the morning light. We were young, and the summer was long."
SUNG = "Ooh, la la la. Oh my love, aah."
WORD = "Come back to me."
ESPEAK_RATE_HZ = 22_050
"""espeak-ng writes 22.05 kHz mono 16-bit PCM."""
SECOND_VOICE = {"voice": "en-us+f1", "words_per_minute": 150, "pitch": 65}
"""A female variant without breath noise (``+f2``…``+f4`` breathe: no exact zeros)."""
SINGING_VOICE = {"voice": "en-us+f1", "words_per_minute": 80, "pitch": 99}
"""Top pitch at half speed: drawn-out vowels, sung-like."""
ZERO_RUN_S = 0.1
"""The shortest run of exact zeros (in every channel) that counts as digital silence."""
LOUDNESS_TOLERANCE_LU = 0.1
"""-18.0 ±0.1 LU on ffmpeg's meter for every mastered case, limited or not: the mastering loop
measures the delivered samples after the limiter and corrects the gain until they read within
0.02 LU of the target on voxregen's meter (docs/mastering.md, step 7), which agrees with
ffmpeg's within 0.05 LU."""
OWN_METER_TOLERANCE_LU = 0.02
"""The mastering loop's own stopping rule (``loudness_lufs`` in the metrics)."""
GATE_READING_LUFS = -69.0
"""ffmpeg reads -70.0 LUFS (its floor) when no block passes the absolute gate."""
ONLY_GAIN_DB = 0.05
"""A render whose limiter took off no more than this needed only gain."""


class Outcome(enum.Enum):
    MASTERED = "mastered"
    """Loud enough to measure: delivered at -18 LUFS, true peak at most -1 dBTP."""
    SILENT = "silent"
    """Digital silence after the stereo mid: delivered as digital silence, ``loudness_lufs``
    and ``true_peak_db`` null (docs/mastering.md, "Defined output")."""
    GATED = "gated"
    """Below the -70 LUFS absolute gate: 0 dB of gain, ``loudness_lufs`` null, the true peak
    measured and under the ceiling (docs/mastering.md, "Defined output")."""


@attrs.frozen
class StemFormat:
    """What kind of WAV a stem is."""

    rate_hz: int
    subtype: str
    """soundfile's name of the encoding: ``PCM_U8``, ``PCM_16``, ``PCM_24``, ``PCM_32``,
    ``FLOAT`` or ``DOUBLE``."""
    channels: int = 1
    extensible: bool = False
    """Written as ``WAVE_FORMAT_EXTENSIBLE`` (format tag 0xFFFE), else as plain PCM / float."""

    def sox_options(self) -> tuple[str | int, ...]:
        """sox's output options for this format (sox writes 24- and 32-bit PCM as
        ``WAVE_FORMAT_EXTENSIBLE`` unless told ``-t wavpcm``)."""
        encoding, bits = {
            "PCM_U8": ("unsigned-integer", 8),
            "PCM_16": ("signed-integer", 16),
            "PCM_24": ("signed-integer", 24),
            "PCM_32": ("signed-integer", 32),
            "FLOAT": ("floating-point", 32),
            "DOUBLE": ("floating-point", 64),
        }[self.subtype]
        container = "wav" if self.extensible else "wavpcm"
        return (
            "-t",
            container,
            "-e",
            encoding,
            "-b",
            bits,
            "-r",
            self.rate_hz,
            "-c",
            self.channels,
        )

    def write(self, out: Path, audio: np.ndarray) -> None:
        """Write ``audio`` [shape=(n,) or (n, channels)], float64 at ``rate_hz``, in this format."""
        container = "WAVEX" if self.extensible else "WAV"
        sf.write(out, audio, self.rate_hz, subtype=self.subtype, format=container)

    def __str__(self) -> str:
        layout = {1: "mono", 2: "stereo"}[self.channels]
        return f"{self.rate_hz / 1000:g} kHz {layout} {self.subtype}" + (
            " extensible" if self.extensible else ""
        )


Build = Callable[["StemCorpus", Path, StemFormat], None]
"""Writes a case's stem, in its format, to the given path."""


@attrs.frozen
class Case:
    name: str
    says: str
    """One line: what the stem is, as a producer would describe it."""
    build: Build = attrs.field(repr=False)
    format: StemFormat
    outcome: Outcome = Outcome.MASTERED
    limited: bool = False
    """Mastering needs the limiter (``limiter_gain_reduction_db`` over ``ONLY_GAIN_DB``): peaks
    stand far enough over the voice that the gain to -18 LUFS takes them over the ceiling."""
    zero_gaps: bool = True
    """Holds at least one run of exact zeros of ``ZERO_RUN_S`` or more in every channel."""
    duration_s: float | None = None
    """The exact duration the stem must have, when the case is about it."""


def sox(*args: str | Path | float) -> None:
    """Run ``sox`` without dither (``-D``: exact zeros stay zeros) or warnings (clipping is
    wanted where it happens)."""
    sox_path = shutil.which("sox")
    assert sox_path, "sox is required to build the corpus (apt-get install sox)"
    command = [sox_path, "-D", "-V1", *map(str, args)]
    subprocess.run(command, check=True, capture_output=True, stdin=subprocess.DEVNULL)


class StemCorpus:
    """The cases' files in ``folder``, each built on first request and kept (as are the
    espeak-ng phrases they are made of, in ``folder/phrases``). Safe to share between threads:
    one stem is built at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / "phrases").mkdir(parents=True, exist_ok=True)
        self._building = threading.Lock()

    def path(self, case: Case) -> Path:
        """The case's stem, built if it is not there yet, checked against its description."""
        path = self.folder / f"{case.name}.wav"
        with self._building:
            if not path.exists():
                partial = path.with_suffix(".partial.wav")
                case.build(self, partial, case.format)
                check_stem(case, partial)
                partial.replace(path)
        return path

    def speech(
        self, text: str, *, voice: str = "en-us", words_per_minute: int = 175, pitch: int = 50
    ) -> Path:
        """espeak-ng saying ``text``: 22.05 kHz mono 16-bit, exact zeros between sentences."""
        options = ["-v", voice, "-s", str(words_per_minute), "-p", str(pitch)]
        digest = hashlib.sha256(repr((text, options)).encode()).hexdigest()[:16]
        path = self.folder / "phrases" / f"{digest}.wav"
        if not path.exists():
            espeak = shutil.which("espeak-ng")
            assert espeak, "espeak-ng is required to build the corpus (apt-get install espeak-ng)"
            partial = path.with_suffix(".partial.wav")
            command = [espeak, *options, "-w", str(partial), text]
            subprocess.run(command, check=True, capture_output=True, stdin=subprocess.DEVNULL)
            partial.replace(path)
        return path

    def read(self, phrase: Path, *, rate_hz: int) -> np.ndarray:
        """A phrase resampled by sox to ``rate_hz``, as float64."""
        resampled = phrase.with_name(f"{phrase.stem}-{rate_hz}.wav")
        if not resampled.exists():
            sox(phrase, *StemFormat(rate_hz, "FLOAT").sox_options(), resampled)
        return sf.read(resampled, dtype="float64")[0]


def check_stem(case: Case, path: Path) -> None:
    """Fail unless the file at ``path`` is what ``case`` says it is."""
    info = sf.info(path)
    fmt = case.format
    described = (fmt.rate_hz, fmt.subtype, fmt.channels, "WAVEX" if fmt.extensible else "WAV")
    assert (info.samplerate, info.subtype, info.channels, info.format) == described, (
        case.name,
        info,
    )
    assert MIN_INPUT_S <= info.duration <= spec.MAX_INPUT_S, (case.name, info.duration)
    if case.duration_s is not None:
        assert info.frames == round(case.duration_s * fmt.rate_hz), (case.name, info.frames)
    if case.zero_gaps:
        audio, _ = sf.read(path, dtype="float64", always_2d=True)
        assert longest_zero_run_s(audio, rate_hz=fmt.rate_hz) >= ZERO_RUN_S, case.name


def longest_zero_run_s(audio: np.ndarray, *, rate_hz: int) -> float:
    """The longest stretch of ``audio`` [shape=(n, channels)] where every channel is 0."""
    silent = np.concatenate([[False], ~audio.any(axis=1), [False]])
    edges = np.flatnonzero(np.diff(silent.astype(np.int8)))
    return float(np.max(edges[1::2] - edges[::2], initial=0)) / rate_hz


def output_frames(stem: Path) -> int:
    """The delivered file's frames for ``stem``: its ``n`` frames at ``rate`` Hz, resampled to
    48 kHz, are ``round(n · 48000 / rate)`` frames, halves rounded up (soxr's length;
    docs/input.md)."""
    info = sf.info(stem)
    return (2 * info.frames * spec.SAMPLE_RATE_HZ + info.samplerate) // (2 * info.samplerate)


def check_delivery(case: Case, stem: Path, wav: bytes, metrics: Mapping[str, Any]) -> Reading:
    """Assert what every delivery of ``case`` must be, whichever door rendered it: a 48 kHz
    16-bit stereo WAV, L == R sample for sample, exactly :func:`output_frames` long; then, by
    the case's outcome, on ffmpeg's ebur128 and the render's metrics: -18.0 ±0.1 LUFS and at
    most -1.0 dBTP, the limiter working only where the case says (mastered); digital silence
    with no loudness or true-peak reading (silent); 0 dB of gain, no loudness reading and at
    most -1.0 dBTP (gated). Returns ffmpeg's reading."""
    info = sf.info(io.BytesIO(wav))
    delivered = (info.samplerate, info.subtype, info.channels, info.format)
    assert delivered == (spec.SAMPLE_RATE_HZ, "PCM_16", 2, "WAV"), info
    audio, _ = sf.read(io.BytesIO(wav), dtype="int16")
    assert np.array_equal(audio[:, 0], audio[:, 1]), "L != R"
    assert audio.shape[0] == output_frames(stem), (audio.shape[0], output_frames(stem))
    assert metrics["input_duration_s"] == pytest.approx(sf.info(stem).duration, abs=1e-3)
    reading = ffmpeg_ebur128(wav)
    if case.outcome is Outcome.SILENT:
        assert not audio.any(), "not digital silence"
        assert (metrics["loudness_lufs"], metrics["true_peak_db"]) == (None, None), metrics
        return reading
    assert reading.true_peak_dbtp <= spec.CEILING_DBTP, (reading, metrics)
    assert (metrics["limiter_gain_reduction_db"] > ONLY_GAIN_DB) == case.limited, metrics
    if case.outcome is Outcome.GATED:
        assert (metrics["loudness_lufs"], metrics["gain_db"]) == (None, 0.0), metrics
        assert metrics["true_peak_db"] <= spec.CEILING_DBTP, metrics
        assert reading.integrated_lufs <= GATE_READING_LUFS, reading
        return reading
    target = pytest.approx(spec.TARGET_LUFS, abs=LOUDNESS_TOLERANCE_LU)
    assert reading.integrated_lufs == target, (reading, metrics)
    own_target = pytest.approx(spec.TARGET_LUFS, abs=OWN_METER_TOLERANCE_LU)
    assert metrics["loudness_lufs"] == own_target, metrics
    return reading


# Builders: each writes a case's stem to ``out`` in ``fmt``.


def _sox_from(phrase: Callable[[StemCorpus], Path | list[Path]], *effects: str | float) -> Build:
    """sox converting ``phrase(corpus)`` (a list is concatenated) to the case's format (sox
    resamples with its linear-phase filter; a mono phrase goes to both channels of a stereo
    stem), then applying ``effects``."""

    def build(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
        phrases = phrase(corpus)
        sox(
            *(phrases if isinstance(phrases, list) else [phrases]),
            *fmt.sox_options(),
            out,
            *effects,
        )

    return build


def _verse(corpus: StemCorpus) -> Path:
    return corpus.speech(VERSE)


def _verse_and_chorus(corpus: StemCorpus) -> list[Path]:
    return [corpus.speech(VERSE), corpus.speech(CHORUS, **SECOND_VOICE)]


def _two_voices(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    """L: the verse; R: the chorus in another voice (sox's merge pads the shorter with 0)."""
    left, right = _verse_and_chorus(corpus)
    sox("-M", left, right, *fmt.sox_options(), out)


def _harmonic_notes(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    """Six sung-like notes (harmonics falling 4.5 dB/octave, 5.5 Hz vibrato, 20 ms fades) at
    -4 to -12 dBFS, with 300 ms of exact zeros between them and at both ends."""
    rng = np.random.default_rng(9)
    gap = np.zeros(int(0.3 * fmt.rate_hz))
    parts = [gap]
    for f0_hz in (220.0, 247.0, 294.0, 330.0, 262.0, 196.0):
        t_s = np.arange(int(rng.uniform(0.7, 1.2) * fmt.rate_hz)) / fmt.rate_hz
        freq_hz = f0_hz * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * t_s))
        phase = 2 * np.pi * np.cumsum(freq_hz) / fmt.rate_hz
        tone = sum(np.sin(k * phase) / k**0.75 for k in range(1, 40) if k * f0_hz < 16_000)
        fade = np.minimum(1.0, np.minimum(t_s, t_s[-1] - t_s) / 0.02)
        level = 10 ** (rng.uniform(-12, -4) / 20)
        parts += [level * fade * tone / np.max(np.abs(tone)), gap]
    fmt.write(out, np.concatenate(parts))


def _hard_cuts(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    """The verse cut to zero right after its loudest sample, 0.8 s of zeros, then the chorus
    entering at its loudest sample: two jumps between a near-full-scale sample and 0."""
    verse, chorus = (
        corpus.read(phrase, rate_hz=fmt.rate_hz) for phrase in _verse_and_chorus(corpus)
    )
    cut = int(np.argmax(np.abs(verse[: len(verse) // 2]))) + 1
    enter = len(chorus) // 2 + int(np.argmax(np.abs(chorus[len(chorus) // 2 :])))
    fmt.write(out, np.concatenate([verse[:cut], np.zeros(int(0.8 * fmt.rate_hz)), chorus[enter:]]))


def _polarity_inverted(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    """The verse on L and its exact negative on R, as 16-bit samples."""
    left = np.round(corpus.read(corpus.speech(VERSE), rate_hz=fmt.rate_hz) * 32767)
    sf.write(out, np.stack([left, -left], axis=1).astype(np.int16), fmt.rate_hz, subtype="PCM_16")


def _plosives(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    """The verse with plosive thumps and sibilant bursts 4-10 dB over its peak every ~1.5 s
    (``tests.signals.with_consonants``), scaled to a -0.9 dBFS peak: peaks the limiter must
    take down once the voice is at -18 LUFS."""
    voice = corpus.read(corpus.speech(VERSE), rate_hz=fmt.rate_hz)
    loud = with_consonants(voice, seed=3, fs=fmt.rate_hz)
    fmt.write(out, loud * 0.9 / np.max(np.abs(loud)))


def _mic_knock(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    """The verse peaking at -24 dBFS and, at 2.5 s, a knock on the mic stand: a 30 ms damped
    80 Hz thump at -0.5 dBFS, 23.5 dB over the voice."""
    voice = corpus.read(corpus.speech(VERSE), rate_hz=fmt.rate_hz)
    voice *= 10 ** (-24 / 20) / np.max(np.abs(voice))
    t_s = np.arange(int(0.03 * fmt.rate_hz)) / fmt.rate_hz
    thump = np.sin(2 * np.pi * 80.0 * t_s) * np.exp(-t_s / 0.008)
    start = int(2.5 * fmt.rate_hz)
    voice[start : start + len(thump)] += 10 ** (-0.5 / 20) * thump / np.max(np.abs(thump))
    fmt.write(out, voice)


def _over_noise(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    """The verse over white noise at -60 dBFS RMS (a quiet room, a preamp's hiss)."""
    voice = corpus.read(corpus.speech(VERSE), rate_hz=fmt.rate_hz)
    fmt.write(out, voice + np.random.default_rng(60).standard_normal(len(voice)) * 1e-3)


def _eight_minutes(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    """Verse, chorus, sung line, verse… concatenated by sox and cut at exactly 480.0 s."""
    phrases = [*_verse_and_chorus(corpus), corpus.speech(SUNG, **SINGING_VOICE)]
    cycle_s = sum(sf.info(phrase).duration for phrase in phrases)
    repeats = int(spec.MAX_INPUT_S / cycle_s) + 1
    _sox_from(lambda _: phrases * repeats, "trim", 0, spec.MAX_INPUT_S)(corpus, out, fmt)


def _digital_silence(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    fmt.write(out, np.zeros((10 * fmt.rate_hz, fmt.channels)))


def _room_tone(corpus: StemCorpus, out: Path, fmt: StemFormat) -> None:
    """8 s of white noise at -85 dBFS RMS and nothing else."""
    rng = np.random.default_rng(85)
    fmt.write(out, rng.standard_normal(8 * fmt.rate_hz) * 10 ** (-85 / 20))


def _speech_case(name: str, says: str, fmt: StemFormat) -> Case:
    return Case(name, f"the verse as {says}", _sox_from(_verse), fmt)


CASES = (
    Case(
        "espeak_22k_mono_16",
        "espeak-ng's own file, untouched: exact zeros between sentences and at both ends",
        lambda corpus, out, _: shutil.copyfile(corpus.speech(VERSE), out),
        StemFormat(ESPEAK_RATE_HZ, "PCM_16"),
    ),
    _speech_case("phone_memo_8k_u8", "a phone memo, 8-bit unsigned", StemFormat(8_000, "PCM_U8")),
    _speech_case("speech_16k_int32", "32-bit integer PCM", StemFormat(16_000, "PCM_32")),
    _speech_case("speech_37k8_16", "an odd rate (37.8 kHz)", StemFormat(37_800, "PCM_16")),
    _speech_case("speech_44k1_stereo_16", "stereo, L = R", StemFormat(44_100, "PCM_16", 2)),
    _speech_case("speech_48k_mono_24", "48 kHz (not resampled)", StemFormat(48_000, "PCM_24")),
    _speech_case("speech_48k_stereo_float", "32-bit float", StemFormat(48_000, "FLOAT", 2)),
    _speech_case("speech_88k2_stereo_24", "88.2 kHz", StemFormat(88_200, "PCM_24", 2)),
    _speech_case(
        "speech_96k_24_extensible",
        "24-bit WAVE_FORMAT_EXTENSIBLE",
        StemFormat(96_000, "PCM_24", 2, extensible=True),
    ),
    _speech_case("speech_96k_float64", "64-bit float", StemFormat(96_000, "DOUBLE")),
    _speech_case(
        "speech_192k_int32_extensible",
        "32-bit WAVE_FORMAT_EXTENSIBLE",
        StemFormat(192_000, "PCM_32", 2, extensible=True),
    ),
    _speech_case(
        "speech_384k_16", "the highest rate accepted", StemFormat(MAX_SAMPLE_RATE_HZ, "PCM_16")
    ),
    Case(
        "stereo_two_voices",
        "L and R differ: the verse on L, the chorus in another voice on R",
        _two_voices,
        StemFormat(48_000, "PCM_24", 2),
    ),
    Case(
        "stereo_hard_left",
        "the vocal panned hard left, R digital silence",
        _sox_from(_verse, "remix", "1", "0"),
        StemFormat(44_100, "PCM_24", 2),
    ),
    Case(
        "stereo_polarity_inverted",
        "R = -L (a polarity-flipped channel): the mid is digital silence",
        _polarity_inverted,
        StemFormat(48_000, "PCM_16", 2),
        outcome=Outcome.SILENT,
    ),
    Case(
        "sung_high_slow",
        "sung-like: a female voice at top pitch and half speed",
        _sox_from(lambda corpus: corpus.speech(SUNG, **SINGING_VOICE)),
        StemFormat(44_100, "PCM_24"),
    ),
    Case(
        "sung_pitched_stretched",
        "the chorus a fifth up and 1.4 times slower (sox pitch and tempo)",
        _sox_from(lambda corpus: corpus.speech(CHORUS), "pitch", 700, "tempo", "-s", 1 / 1.4),
        StemFormat(48_000, "PCM_16"),
    ),
    Case(
        "harmonic_notes",
        "six harmonic notes with vibrato, exact zeros between them",
        _harmonic_notes,
        StemFormat(48_000, "FLOAT"),
    ),
    Case(
        "silence_at_both_ends",
        "3 s of digital silence, the verse, 4 s of digital silence",
        _sox_from(_verse, "pad", 3, 4),
        StemFormat(44_100, "PCM_16"),
    ),
    Case(
        "hard_cuts",
        "cut to zero at the verse's loudest sample; the chorus enters at its loudest",
        _hard_cuts,
        StemFormat(ESPEAK_RATE_HZ, "PCM_16"),
    ),
    Case(
        "fade_in_out",
        "a 1.5 s fade in and a 2 s fade out over the verse and chorus",
        _sox_from(_verse_and_chorus, "fade", "t", 1.5, "0", 2),
        StemFormat(48_000, "PCM_24"),
    ),
    Case(
        "one_phrase_in_a_minute",
        "60 s of digital silence but for one 1 s phrase at 30 s",
        _sox_from(lambda corpus: corpus.speech(WORD), "trim", 0, 1, "pad", 30, 29),
        StemFormat(48_000, "PCM_16"),
        duration_s=60.0,
    ),
    Case(
        "clipped_plus_20db",
        "the verse 20 dB too hot, clipped at full scale",
        _sox_from(_verse, "gain", 20),
        StemFormat(44_100, "PCM_16"),
    ),
    Case(
        "plosives",
        "the verse with plosives and sibilants 4-10 dB over its peak",
        _plosives,
        StemFormat(48_000, "PCM_24"),
        limited=True,
    ),
    Case(
        "mic_knock",
        "the verse at -24 dBFS with one knock on the mic stand at -0.5 dBFS",
        _mic_knock,
        StemFormat(48_000, "PCM_24"),
        limited=True,
    ),
    Case(
        "dc_offset",
        "the verse on a +0.1 DC offset (its gaps hold 0.1, not 0)",
        _sox_from(_verse, "dcshift", 0.1),
        StemFormat(48_000, "PCM_24"),
        zero_gaps=False,
    ),
    Case(
        "speech_over_noise",
        "the verse over white noise at -60 dBFS RMS",
        _over_noise,
        StemFormat(48_000, "PCM_24"),
        zero_gaps=False,
    ),
    Case(
        "quiet_minus_45dbfs",
        "the verse peaking at -45 dBFS",
        _sox_from(_verse, "gain", "-n", -45),
        StemFormat(48_000, "PCM_24"),
    ),
    Case(
        "eight_minutes",
        "exactly 8:00, the longest accepted: verse, chorus and sung line repeated",
        _eight_minutes,
        StemFormat(ESPEAK_RATE_HZ, "PCM_16"),
        duration_s=spec.MAX_INPUT_S,
    ),
    Case(
        "shortest_0_4s",
        "exactly 0.4 s, the shortest accepted: the start of one phrase",
        _sox_from(lambda corpus: corpus.speech(WORD), "trim", 0, MIN_INPUT_S),
        StemFormat(48_000, "PCM_16"),
        zero_gaps=False,
        duration_s=MIN_INPUT_S,
    ),
    Case(
        "digital_silence",
        "10 s of digital silence (a muted track)",
        _digital_silence,
        StemFormat(44_100, "PCM_24", 2),
        outcome=Outcome.SILENT,
    ),
    Case(
        "room_tone_only",
        "8 s of room tone at -85 dBFS RMS, no voice: under the -70 LUFS gate",
        _room_tone,
        StemFormat(48_000, "PCM_24"),
        outcome=Outcome.GATED,
        zero_gaps=False,
    ),
)
BY_NAME = {case.name: case for case in CASES}


def render_with_cli(
    stem: Path, out: Path, *, cache_dir: Path, options: Sequence[str] = ()
) -> subprocess.CompletedProcess:
    """``voxregen render STEM -o OUT --metrics OUT.json [OPTIONS]`` in a subprocess (metrics
    beside the output)."""
    voxregen = str(Path(sys.executable).with_name("voxregen"))
    metrics = out.with_suffix(".json")
    command = [voxregen, "render", str(stem), "-o", str(out), "--metrics", str(metrics)]
    return subprocess.run(
        [*command, "--cache-dir", str(cache_dir), *options],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def table_row(
    case: Case, stem: Path, wav: bytes, reading: Reading, metrics: Mapping[str, Any]
) -> str:
    """The docs' row for a delivery of ``case``: what ffmpeg measured on it, and how much the
    limiter took off (``limiter_gain_reduction_db``)."""
    frames = sf.info(io.BytesIO(wav)).frames
    loudness, peak = f"{reading.integrated_lufs:.3f}", f"{reading.true_peak_dbtp:.2f}"
    if case.outcome is Outcome.SILENT:
        loudness = peak = "—"
    elif not np.isfinite(reading.true_peak_dbtp):
        peak = "< −66"  # ffmpeg prints true peaks with three decimals: 0.000 is under 0.0005
    return (
        f"| `{case.name}` | {case.says} | {case.format}, {sf.info(stem).duration:.3f} s "
        f"| {loudness} | {peak} | {frames} ({frames / spec.SAMPLE_RATE_HZ:.3f} s) "
        f"| {metrics['limiter_gain_reduction_db']:.2f} | {case.outcome.value} |"
    )


TABLE_HEADER = (
    "| case | stem | format, length | I (LUFS) | TP (dBTP) | output, 48 kHz frames | limiter (dB) "
    "| outcome |\n|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the realistic corpus's stems.")
    parser.add_argument("outdir", type=Path)
    parser.add_argument(
        "--table",
        action="store_true",
        help="also render each with `voxregen render`, check it, and print ffmpeg's readings",
    )
    args = parser.parse_args()
    corpus = StemCorpus(args.outdir)
    if not args.table:
        for case in CASES:
            print(corpus.path(case))
        return
    print(TABLE_HEADER)
    for case in CASES:
        stem = corpus.path(case)
        out = args.outdir / "rendered" / stem.name
        out.parent.mkdir(exist_ok=True)
        done = render_with_cli(stem, out, cache_dir=args.outdir / "cache")
        if done.returncode != 0:
            print(f"| `{case.name}` | failed: {done.stderr.strip()[-300:]!r} |")
            continue
        metrics = json.loads(out.with_suffix(".json").read_text())
        reading = check_delivery(case, stem, out.read_bytes(), metrics)
        print(table_row(case, stem, out.read_bytes(), reading, metrics), flush=True)


if __name__ == "__main__":
    main()
