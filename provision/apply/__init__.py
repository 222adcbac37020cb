"""Apply: make a prefix match a lock, safely (preflight, verified downloads, stamp last)."""
