"""``python -m trucewatch.cli``: the same command as the ``trucewatch`` console script."""

from trucewatch.cli import main

main()
