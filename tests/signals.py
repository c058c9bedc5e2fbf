"""Test signals: reference tones and synthetic singing with known f0 and voicing.

Also runnable: ``python -m tests.signals OUT.wav --seconds 40 [--rate 44100] [--stereo]
[--subtype PCM_24]`` writes a synthetic vocal stem (used by ``make run`` and ``make bench``).
"""

import argparse
import io

import attrs
import numpy as np
import soundfile as sf

FS = 48_000


def sine(
    freq_hz: float, *, peak_dbfs: float, duration_s: float, phase_deg: float = 0.0, fs: int = FS
) -> np.ndarray:
    """float64 sine of the given peak level (dBFS) and starting phase."""
    t = np.arange(int(round(duration_s * fs))) / fs
    return 10 ** (peak_dbfs / 20) * np.sin(2 * np.pi * freq_hz * t + np.deg2rad(phase_deg))


def noise_bursts_over_a_quiet_tone(*, seed: int = 7) -> np.ndarray:
    """8 s of float32: 60 full-band noise bursts (4 ms, Hann-shaped, up to -1 dBFS) over a
    220 Hz tone at -50 dBFS. Mastered to -18 LUFS, the limiter takes off over 10 dB and the
    gain takes several rounds to find."""
    rng = np.random.default_rng(seed)
    x = 0.003 * sine(220, peak_dbfs=0, duration_s=8.0)
    for start in rng.integers(0, x.size - 200, 60):
        x[start : start + 200] += (
            rng.uniform(0.3, 0.9) * np.hanning(200) * rng.choice([-1.0, 1.0], 200)
        )
    return x.astype(np.float32)


def wav_bytes(
    audio: np.ndarray, *, fs: int = FS, subtype: str = "PCM_24", container: str = "WAV"
) -> bytes:
    """Encode (n,) or (n, channels) audio as WAV bytes with soundfile; ``container="WAVEX"``
    writes a WAVE_FORMAT_EXTENSIBLE header."""
    buffer = io.BytesIO()
    sf.write(buffer, audio, fs, subtype=subtype, format=container)
    return buffer.getvalue()


@attrs.frozen(eq=False)
class Singing:
    """Synthetic singing with ground truth per sample.

    audio : (n,) float64; f0_hz : (n,) float64, 0 where unvoiced; voiced : (n,) bool
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    voiced: np.ndarray
    fs: int


def synthetic_singing(duration_s: float = 12.0, *, seed: int = 0, fs: int = FS) -> Singing:
    """Harmonic notes with vibrato and glides, separated by breaths (noise) and silence.

    Notes span 80–1000 Hz; levels vary by ±6 dB; a -80 dBFS noise floor runs throughout.
    """
    rng = np.random.default_rng(seed)
    audio, f0, voiced = [], [], []
    total = 0
    while total < duration_s * fs:
        kind = rng.choice(["note", "note", "note", "glide", "breath", "silence"])
        dur_s = float(
            rng.uniform(0.3, 0.6) if kind in ("breath", "silence") else rng.uniform(0.8, 2.5)
        )
        n = int(dur_s * fs)
        t = np.arange(n) / fs
        if kind in ("note", "glide"):
            start_hz = float(np.exp(rng.uniform(np.log(90), np.log(900))))
            end_hz = start_hz * (2 ** (rng.uniform(-7, 7) / 12) if kind == "glide" else 1.0)
            vibrato_semitones = rng.uniform(0.1, 0.8) * np.sin(
                2 * np.pi * rng.uniform(4.5, 6.5) * t
            )
            freq = start_hz * (end_hz / start_hz) ** (t / dur_s) * 2 ** (vibrato_semitones / 12)
            phase = 2 * np.pi * np.cumsum(freq) / fs + rng.uniform(0, 2 * np.pi)
            harmonics = [k for k in range(1, 30) if k * freq.max() < 0.45 * fs]
            tone = sum(np.sin(k * phase) / k**1.3 for k in harmonics)
            fade = np.minimum(1.0, np.minimum(t, dur_s - t) / 0.03)
            level = 10 ** (rng.uniform(-16, -4) / 20)
            audio.append(level * fade * tone / np.max(np.abs(tone)))
            f0.append(freq)
            voiced.append(np.ones(n, bool))
        elif kind == "breath":
            noise = rng.standard_normal(n) * 10 ** (rng.uniform(-40, -28) / 20)
            audio.append(noise * np.hanning(n))
            f0.append(np.zeros(n))
            voiced.append(np.zeros(n, bool))
        else:
            audio.append(np.zeros(n))
            f0.append(np.zeros(n))
            voiced.append(np.zeros(n, bool))
        total += n
    n_total = int(duration_s * fs)
    signal = np.concatenate(audio)[:n_total] + rng.standard_normal(n_total) * 1e-4
    return Singing(
        audio=signal,
        f0_hz=np.concatenate(f0)[:n_total],
        voiced=np.concatenate(voiced)[:n_total],
        fs=fs,
    )


def with_consonants(audio: np.ndarray, *, seed: int = 0, fs: int = FS) -> np.ndarray:
    """``audio`` with consonant transients every ~1.5 s: plosive thumps (a damped 60–150 Hz
    pulse, 15–40 ms) and sibilant/stop bursts (high-passed noise, 10–60 ms), peaking 4–10 dB
    above the audio's own peak level. Real vocals' peaks come from these, not from the vowels,
    so this is what makes a limiter work."""
    rng = np.random.default_rng(seed)
    out = audio.copy()
    peak = float(np.max(np.abs(audio))) or 1.0
    for onset_s in np.cumsum(rng.uniform(0.8, 2.2, size=int(len(audio) / fs / 0.8) + 1)):
        start = int(onset_s * fs)
        if start >= len(audio):
            break
        level = peak * 10 ** (rng.uniform(4, 10) / 20)
        if rng.random() < 0.5:
            dur_s = rng.uniform(0.015, 0.04)
            t = np.arange(int(dur_s * fs)) / fs
            burst = np.sin(2 * np.pi * rng.uniform(60, 150) * t) * np.exp(-t / (dur_s / 4))
        else:
            dur_s = rng.uniform(0.01, 0.06)
            t = np.arange(int(dur_s * fs)) / fs
            noise = np.diff(rng.standard_normal(t.size + 1))  # first difference: a tilt upward
            burst = noise / np.max(np.abs(noise)) * np.exp(-t / (dur_s / 3))
        burst = burst[: len(audio) - start]
        out[start : start + burst.size] += level * burst / np.max(np.abs(burst))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic vocal stem.")
    parser.add_argument("output")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--rate", type=int, default=FS)
    parser.add_argument("--stereo", action="store_true")
    parser.add_argument("--subtype", default="PCM_24")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--consonants", action="store_true", help="add plosive and sibilant transients"
    )
    args = parser.parse_args()
    mono = synthetic_singing(args.seconds, seed=args.seed, fs=args.rate).audio
    if args.consonants:
        mono = with_consonants(mono, seed=args.seed, fs=args.rate)
    mono = mono * min(1.0, 0.9 / float(np.max(np.abs(mono))))  # peak at most 0.9 (-0.9 dBFS)
    audio = np.stack([mono, 0.8 * mono + 0.001 * np.roll(mono, 7)], axis=1) if args.stereo else mono
    sf.write(args.output, audio, args.rate, subtype=args.subtype)


if __name__ == "__main__":
    main()
