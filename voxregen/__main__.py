"""``python -m voxregen``: the ``voxregen`` command (``voxregen serve`` runs its children this
way, so they need no script on the PATH)."""

from voxregen.cli import main

main()
