"""The product's locked numbers (see the brief's "Hard requirements"), in one place."""

SAMPLE_RATE_HZ = 48_000
"""Internal and output sample rate."""

TARGET_LUFS = -18.0
"""Integrated loudness of the delivered stereo dual-mono file (ITU-R BS.1770-4)."""

CEILING_DBTP = -1.0
"""No true peak of the delivered file may exceed this (BS.1770-4 Annex 2)."""

MAX_INPUT_S = 480.0
"""Longest accepted stem: 8 minutes."""

CHUNK_S = 18.0
OVERLAP_S = 2.0
STRIDE_S = CHUNK_S - OVERLAP_S

FEATURE_VERSION = "v1"
