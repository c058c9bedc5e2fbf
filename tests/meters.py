"""ffmpeg's ebur128 filter as the independent loudness and true-peak meter.

ffmpeg is a system package (`.ci/run` installs it); tests that need it fail, never skip,
when it is missing.
"""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import attrs
import numpy as np
import scipy.fft
import scipy.signal
import soundfile as sf


@attrs.frozen
class Reading:
    integrated_lufs: float
    true_peak_dbtp: float


def ffmpeg_ebur128(wav: bytes | Path) -> Reading:
    """Integrated loudness and true peak of a WAV file, read from ffmpeg's per-frame metadata
    (three decimals; the printed summary has only one). ffmpeg's true peak resamples to 192 kHz."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is required as the independent meter (apt-get install ffmpeg)"
    with tempfile.TemporaryDirectory() as folder:
        path = wav if isinstance(wav, Path) else Path(folder) / "in.wav"
        if not isinstance(wav, Path):
            path.write_bytes(wav)
        metadata = Path(folder) / "meta.txt"
        subprocess.run(
            [
                ffmpeg,
                "-nostdin",
                "-hide_banner",
                "-nostats",
                "-loglevel",
                "error",
                "-i",
                str(path),
                "-af",
                f"ebur128=peak=true:metadata=1,ametadata=mode=print:file={metadata}",
                "-f",
                "null",
                "-",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        text = metadata.read_text()
    integrated = re.findall(r"lavfi\.r128\.I=(\S+)", text)
    peaks = [float(value) for value in re.findall(r"lavfi\.r128\.true_peaks_ch\d+=(\S+)", text)]
    assert integrated and peaks, f"unexpected ffmpeg metadata:\n{text[-2000:]}"
    peak = max(peaks)
    return Reading(float(integrated[-1]), 20 * np.log10(peak) if peak > 0 else float("-inf"))


def ffmpeg_ebur128_array(audio: np.ndarray, *, fs: int, subtype: str = "FLOAT") -> Reading:
    """Meter an array by writing it to a WAV (float32 by default, so nothing is quantized)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.wav"
        sf.write(path, audio, fs, subtype=subtype)
        return ffmpeg_ebur128(path)


def reference_true_peak_dbtp(x: np.ndarray, *, fs: int, oversample: int = 16) -> float:
    """True peak by ideal band-limited interpolation: FFT resampling of the whole signal.

    Independent of voxregen's polyphase FIR. The signal is zero-padded on both sides (as a file
    is silent outside its samples) so the FFT's periodic wrap-around joins silence to silence; an
    abrupt start or end therefore shows its real overshoot. ``fs`` only documents the rate: ideal
    interpolation does not depend on it.
    """
    x = np.asarray(x, dtype=np.float64)
    length = scipy.fft.next_fast_len(x.shape[0] + 8192)  # >= 4096 zeros on each side
    padded = np.zeros(length)
    padded[4096 : 4096 + x.shape[0]] = x
    peak = np.abs(scipy.signal.resample(padded, padded.shape[0] * oversample)).max()
    return 20 * np.log10(peak) if peak > 0 else float("-inf")
