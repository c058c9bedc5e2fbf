"""``python -m voxregen_adapters.cli``: the ``voxregen`` command (``voxregen serve`` runs its
children this way, so they need no script on the PATH)."""

from voxregen_adapters.cli import main

main()
