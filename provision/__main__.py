"""`python -m provision`: the same entry point as the `provision` command (quick path included)."""

from .quick import main

main()
