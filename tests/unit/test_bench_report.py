"""The benchmarks' machine description: whether the host takes back freed memory."""

from pathlib import Path

import pytest

from benchmarks.report import host_takes_back_freed_memory


def _device(devices: Path, name: str, driver: str, features: str) -> None:
    drivers = devices.parent / "drivers"
    (drivers / driver).mkdir(parents=True, exist_ok=True)
    (devices / name).mkdir(parents=True)
    (devices / name / "driver").symlink_to(drivers / driver)
    (devices / name / "features").write_text(features + "\n")


@pytest.mark.parametrize(
    ("features", "reports"),
    [("0110010100000000", True), ("0110000100000000", False), ("01100", False)],
)
def test_a_balloon_reports_free_pages_when_its_feature_bit_5_is_set(tmp_path, features, reports):
    devices = tmp_path / "devices"
    _device(devices, "virtio1", "virtio_blk", "0010011111111111")
    _device(devices, "virtio0", "virtio_balloon", features)
    assert host_takes_back_freed_memory(devices) is reports


def test_without_a_balloon_nothing_is_taken_back(tmp_path):
    devices = tmp_path / "devices"
    _device(devices, "virtio1", "virtio_blk", "0000011111111111")  # bit 5 set, not a balloon
    assert host_takes_back_freed_memory(devices) is False
    assert host_takes_back_freed_memory(tmp_path / "absent") is False
