"""The options a producer chooses for one render (``--style``, ``--intensity``, ``--quality``),
shared by ``voxregen render`` and ``voxregen remote render``, and checked the same way."""

import argparse
from typing import Any

from voxregen.cli import fail
from voxregen_core.errors import InvalidParamsError
from voxregen_core.params import MAX_INTENSITY, MIN_INTENSITY, Quality, RenderParams, Style


def add_render_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--style", choices=[style.value for style in Style])
    parser.add_argument("--intensity", type=float, help="0.0 to 1.0 (default 0.5)")
    parser.add_argument("--quality", choices=[quality.value for quality in Quality])


def chosen_params(args: argparse.Namespace) -> dict[str, Any]:
    """The render params the options chose (those not given left out, for their defaults),
    checked: an intensity out of range is refused in one line."""
    chosen = {"style": args.style, "intensity": args.intensity, "quality": args.quality}
    given = {name: value for name, value in chosen.items() if value is not None}
    try:
        RenderParams.from_json(given)
    except InvalidParamsError as error:  # argparse's choices checked --style and --quality
        fail(
            f"--intensity must be from {MIN_INTENSITY:.1f} to {MAX_INTENSITY:.1f}, "
            f"got {args.intensity:g} [{error.code}]"
        )
    return given
