"""provision: declarative, locked and verified ML environments."""

__version__ = "0.1.0"
