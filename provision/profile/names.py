"""Packages that conda-forge and PyPI spell differently: one package, two names.

Used to refuse a package declared in both layers, and to keep the PyPI layer from
locking again what the conda layer already installs."""

CONDA_TO_PYPI = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "matplotlib-base": "matplotlib",
    "py-opencv": "opencv-python",
}
