"""Render params: what a producer may choose for one render, with the brief's defaults.

| field             | type   | allowed values                               | default            |
|-------------------|--------|----------------------------------------------|--------------------|
| `style`           | str    | `natural`, `warm`, `bright`, `airy`          | `natural`          |
| `intensity`       | number | 0.0 ≤ x ≤ 1.0 (0: barely any effect)         | 0.5                |
| `quality`         | str    | `draft`, `standard`, `high`                  | `standard`         |
| `sample_rate`     | int    | 48000 only (locked)                          | 48000              |
| `output_channels` | str    | `stereo_dual_mono` only (locked)             | `stereo_dual_mono` |
| `target_lufs`     | number | -18 only (locked)                            | -18                |
| `true_peak_db`    | number | -1.0 only (locked)                           | -1.0               |
| `output_format`   | str    | `wav16` only (locked)                        | `wav16`            |

The locked fields exist so clients can state them explicitly; any other value is refused
rather than silently ignored. `quality` is the model's effort knob (sampling steps, say);
the v1 stub generator ignores it.
"""

import enum
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs
from attrs import validators as v

from voxregen_core import spec
from voxregen_core.errors import InvalidParamsError

MIN_INTENSITY = 0.0
MAX_INTENSITY = 1.0
"""The range of ``intensity``, both ends included (0: barely any effect)."""


class Style(enum.StrEnum):
    NATURAL = "natural"
    WARM = "warm"
    BRIGHT = "bright"
    AIRY = "airy"


class Quality(enum.StrEnum):
    DRAFT = "draft"
    STANDARD = "standard"
    HIGH = "high"


def _locked(value: object):
    def check(instance: object, attribute: attrs.Attribute, got: object) -> None:
        if got != value:
            raise InvalidParamsError(
                f"{attribute.name} is locked to {value!r} by the product, got {got!r}"
            )

    return check


def _number(name: str):
    """Converter to float that refuses strings and booleans (JSON true is not 1)."""

    def convert(got: object) -> float:
        if isinstance(got, bool) or not isinstance(got, int | float):
            raise InvalidParamsError(f"{name} must be a number, got {got!r}")
        try:
            return float(got)
        except OverflowError:  # a JSON integer beyond the float range
            raise InvalidParamsError(
                f"{name} must be a number, got an integer of {len(str(got))} digits"
            ) from None

    return convert


def _whole_number(name: str):
    def convert(got: object) -> int:
        if (
            isinstance(got, bool)
            or not isinstance(got, int | float)
            or (isinstance(got, float) and not got.is_integer())  # also NaN and ±inf
        ):
            raise InvalidParamsError(f"{name} must be a whole number, got {got!r}")
        return int(got)

    return convert


def _enum(enum_cls: type[enum.StrEnum]):
    def convert(got: object) -> enum.StrEnum:
        try:
            return enum_cls(got)
        except ValueError:
            allowed = ", ".join(member.value for member in enum_cls)
            raise InvalidParamsError(
                f"{enum_cls.__name__.lower()} must be one of {allowed}; got {got!r}"
            ) from None

    return convert


@attrs.frozen
class RenderParams:
    """Validated render params; build from JSON with :meth:`from_json`."""

    style: Style = attrs.field(default=Style.NATURAL, converter=_enum(Style))
    intensity: float = attrs.field(
        default=0.5,
        converter=_number("intensity"),
        validator=[v.ge(MIN_INTENSITY), v.le(MAX_INTENSITY)],
    )
    quality: Quality = attrs.field(default=Quality.STANDARD, converter=_enum(Quality))
    sample_rate: int = attrs.field(
        default=spec.SAMPLE_RATE_HZ,
        converter=_whole_number("sample_rate"),
        validator=_locked(spec.SAMPLE_RATE_HZ),
    )
    output_channels: str = attrs.field(
        default="stereo_dual_mono", validator=_locked("stereo_dual_mono")
    )
    target_lufs: float = attrs.field(
        default=spec.TARGET_LUFS,
        converter=_number("target_lufs"),
        validator=_locked(spec.TARGET_LUFS),
    )
    true_peak_db: float = attrs.field(
        default=spec.CEILING_DBTP,
        converter=_number("true_peak_db"),
        validator=_locked(spec.CEILING_DBTP),
    )
    output_format: str = attrs.field(default="wav16", validator=_locked("wav16"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RenderParams":
        """Params from a JSON object; unknown fields and out-of-range values raise
        :class:`InvalidParamsError` naming the field and the value."""
        if not isinstance(data, Mapping):
            raise InvalidParamsError(f"params must be a JSON object, got {data!r}")
        known = {field.name for field in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidParamsError(
                f"unknown params field {unknown[0]!r}; allowed: {', '.join(sorted(known))}"
            )
        try:
            return cls(**data)
        except InvalidParamsError:
            raise
        except (TypeError, ValueError) as error:
            # attrs' own validators: "'intensity' must be <= 1.0: 1.5"
            raise InvalidParamsError(str(error)) from None

    def to_json(self) -> dict[str, Any]:
        """JSON-primitive form; ``from_json(p.to_json()) == p``."""
        return {
            field.name: (value.value if isinstance(value, enum.Enum) else value)
            for field, value in zip(attrs.fields(type(self)), attrs.astuple(self), strict=True)
        }

    def with_overrides(self, overrides: Mapping[str, Any]) -> "RenderParams":
        """These params with ``overrides`` applied, validated like :meth:`from_json`."""
        return RenderParams.from_json({**self.to_json(), **overrides})

    def fingerprint(self) -> str:
        """Stable sha256 hex of the canonical JSON form (for seeds and chunk provenance)."""
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
