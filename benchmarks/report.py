"""Writing the benchmarks' figures into the docs: each script owns one part of a Markdown file
and leaves the others as they are."""

import os
import platform
import re
from pathlib import Path


def write_section(report: Path, heading: str, text: str, *, title: str) -> None:
    """Replace the ``heading`` section of ``report`` (up to the next ``## `` heading) with
    ``text``, or add it at the end; a missing file starts with ``title``."""
    current = report.read_text() if report.exists() else f"{title}\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text.rstrip("\n") + "\n\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    report.write_text(updated.rstrip("\n") + "\n")


def write_preamble(report: Path, text: str) -> None:
    """Replace what ``report`` has before its first ``## `` heading with ``text``."""
    current = report.read_text() if report.exists() else ""
    first_section = re.search(r"^## ", current, re.MULTILINE)
    sections = current[first_section.start() :] if first_section else ""
    report.write_text(text.rstrip("\n") + "\n" + (f"\n{sections}" if sections else ""))


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    described = f"{os.cpu_count()} cores ({model}), {memory_kb / 2**20:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    if host_takes_back_freed_memory():
        described += (
            "; a VM whose host takes back the memory its kernel frees (virtio-balloon free page"
            " reporting), so memory a process touches for the first time faults in from the"
            " host: system time here is far above a bare machine's, for voxregen and ffmpeg alike"
        )
    return described


def host_takes_back_freed_memory(devices: Path = Path("/sys/bus/virtio/devices")) -> bool:
    """Whether a virtio balloon among ``devices`` reports free pages to the hypervisor
    (feature bit 5, VIRTIO_BALLOON_F_REPORTING, in the device's ``features`` string)."""
    for device in devices.glob("*"):
        driver = device / "driver"
        if driver.exists() and driver.resolve().name == "virtio_balloon":
            features = (device / "features").read_text().strip()
            return features[5:6] == "1"
    return False
