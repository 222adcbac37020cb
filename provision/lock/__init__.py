"""Locking: conda layer (py-rattler), PyPI layer (uv), the conda-lock.yml file, freshness."""
