import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import strategies as vst
from voxregen_core.errors import InvalidParamsError
from voxregen_core.params import Quality, RenderParams, Style

BRIEF_DEFAULTS = {
    "style": "natural",
    "intensity": 0.5,
    "quality": "standard",
    "sample_rate": 48000,
    "output_channels": "stereo_dual_mono",
    "target_lufs": -18.0,
    "true_peak_db": -1.0,
    "output_format": "wav16",
}


def test_defaults_are_the_briefs():
    assert RenderParams().to_json() == BRIEF_DEFAULTS
    assert RenderParams.from_json({}) == RenderParams()


@given(vst.render_params())
def test_round_trips_through_json(params):
    data = params.to_json()
    assert json.loads(json.dumps(data)) == data  # JSON primitives only
    assert RenderParams.from_json(json.loads(json.dumps(data))) == params


@given(vst.render_params(), vst.render_params())
def test_fingerprint_identifies_the_params(first, second):
    assert (first.fingerprint() == second.fingerprint()) == (first == second)
    assert re.fullmatch("[0-9a-f]{64}", first.fingerprint())


@given(vst.styles, vst.intensities, vst.qualities)
def test_accepts_every_documented_value(style, intensity, quality):
    params = RenderParams.from_json(
        {"style": style.value, "intensity": intensity, "quality": quality.value}
    )
    assert (params.style, params.intensity, params.quality) == (style, intensity, quality)


def test_whole_numbers_are_numbers():
    assert RenderParams.from_json({"intensity": 1, "target_lufs": -18}).intensity == 1.0
    assert RenderParams.from_json({"sample_rate": 48000.0}).sample_rate == 48000


@given(vst.render_params(), vst.render_params())
def test_overrides_apply_and_validate(base, other):
    overrides = {"style": other.style.value, "intensity": other.intensity}
    result = base.with_overrides(overrides)
    assert (result.style, result.intensity, result.quality) == (
        other.style,
        other.intensity,
        base.quality,
    )
    with pytest.raises(InvalidParamsError, match="intensity"):
        base.with_overrides({"intensity": 2.0})


not_a_number = st.one_of(st.text(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2))


@given(st.sampled_from(["intensity", "target_lufs", "true_peak_db"]), not_a_number)
def test_non_numbers_are_refused_naming_field_and_value(field, value):
    with pytest.raises(InvalidParamsError, match=f"^{field} must be a number, got ") as raised:
        RenderParams.from_json({field: value})
    assert str(raised.value).endswith(repr(value))


@pytest.mark.parametrize("field", ["intensity", "target_lufs", "true_peak_db"])
def test_integers_beyond_the_float_range_are_refused(field):
    with pytest.raises(
        InvalidParamsError, match=f"^{field} must be a number, got an integer of 401 digits$"
    ):
        RenderParams.from_json({field: 10**400})


@given(
    st.one_of(
        st.floats(max_value=0.0, exclude_max=True),
        st.floats(min_value=1.0, exclude_min=True),
        st.just(float("nan")),
    )
)
def test_intensity_out_of_range_is_refused(intensity):
    with pytest.raises(InvalidParamsError, match=r"'intensity' must be [<>]= [01]\.0: ") as raised:
        RenderParams.from_json({"intensity": intensity})
    assert str(raised.value).endswith(repr(intensity))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("style", "operatic", "style must be one of natural, warm, bright, airy; got 'operatic'"),
        ("style", "Natural", "style must be one of natural, warm, bright, airy; got 'Natural'"),
        ("style", 3, "style must be one of natural, warm, bright, airy; got 3"),
        ("quality", "ultra", "quality must be one of draft, standard, high; got 'ultra'"),
        ("quality", None, "quality must be one of draft, standard, high; got None"),
    ],
)
def test_unknown_choices_are_refused(field, value, message):
    with pytest.raises(InvalidParamsError, match=f"^{re.escape(message)}$"):
        RenderParams.from_json({field: value})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sample_rate", 44100, "sample_rate is locked to 48000 by the product, got 44100"),
        ("sample_rate", 48000.5, "sample_rate must be a whole number, got 48000.5"),
        ("sample_rate", "48000", "sample_rate must be a whole number, got '48000'"),
        ("sample_rate", True, "sample_rate must be a whole number, got True"),
        ("sample_rate", float("inf"), "sample_rate must be a whole number, got inf"),
        ("sample_rate", float("nan"), "sample_rate must be a whole number, got nan"),
        (
            "output_channels",
            "stereo",
            "output_channels is locked to 'stereo_dual_mono' by the product, got 'stereo'",
        ),
        ("target_lufs", -14, "target_lufs is locked to -18.0 by the product, got -14.0"),
        ("true_peak_db", 0.0, "true_peak_db is locked to -1.0 by the product, got 0.0"),
        ("output_format", "mp3", "output_format is locked to 'wav16' by the product, got 'mp3'"),
    ],
)
def test_locked_fields_refuse_other_values(field, value, message):
    with pytest.raises(InvalidParamsError, match=f"^{re.escape(message)}$"):
        RenderParams.from_json({field: value})


unknown_names = st.text().filter(lambda name: name not in BRIEF_DEFAULTS)


@given(st.dictionaries(unknown_names, st.integers(), min_size=1), vst.render_params())
def test_unknown_fields_are_refused_by_name(unknown, params):
    first = re.escape(repr(min(unknown)))
    with pytest.raises(InvalidParamsError, match=f"^unknown params field {first}; allowed: "):
        RenderParams.from_json({**params.to_json(), **unknown})


@pytest.mark.parametrize("data", [None, [], "style=warm", 1])
def test_params_must_be_an_object(data):
    with pytest.raises(
        InvalidParamsError, match=f"params must be a JSON object, got {re.escape(repr(data))}"
    ):
        RenderParams.from_json(data)


def test_enums_are_the_documented_sets():
    assert [style.value for style in Style] == ["natural", "warm", "bright", "airy"]
    assert [quality.value for quality in Quality] == ["draft", "standard", "high"]
