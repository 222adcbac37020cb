"""The MPS/Metal branches of the acceptance scripts cannot run here, so every framework attribute they
call is checked against the exact macOS arm64 wheels the committed locks pin: the wheels are read
from PyPI with HTTP range requests (only the zip directory and the few source files needed), and each
attribute must be defined in the wheel's Python sources or `.pyi` stubs."""

from __future__ import annotations

import io
import re
import urllib.request
import zipfile

import pytest

from provision.lock.lockfile import read_lock

from .conftest import REPO

BLOCK = 1 << 18


class RemoteFile(io.RawIOBase):
    """A seekable, read-only view of a URL, fetched in blocks by HTTP range requests."""

    def __init__(self, url: str) -> None:
        self.url, self.position, self.blocks = url, 0, {}
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=60) as response:
            self.size = int(response.headers["Content-Length"])

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: offset, 1: self.position + offset, 2: self.size + offset}[whence]
        return self.position

    def _block(self, index: int) -> bytes:
        if index not in self.blocks:
            start, end = index * BLOCK, min(self.size, (index + 1) * BLOCK) - 1
            request = urllib.request.Request(self.url, headers={"Range": f"bytes={start}-{end}"})
            with urllib.request.urlopen(request, timeout=60) as response:
                self.blocks[index] = response.read()
        return self.blocks[index]

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        wanted = min(len(buffer), self.size - self.position)
        out = bytearray()
        while len(out) < wanted:
            index, offset = divmod(self.position + len(out), BLOCK)
            out += self._block(index)[offset : offset + wanted - len(out)]
        buffer[: len(out)] = out
        self.position += len(out)
        return len(out)


def locked_wheel(profile: str, name: str) -> str:
    lock = read_lock(REPO / "envs" / profile / "conda-lock.yml")
    return next(p.url for p in lock.for_platform("osx-arm64") if p.manager == "pip" and p.name == name)


def sources(url: str, members: list[str]) -> str:
    with zipfile.ZipFile(io.BufferedReader(RemoteFile(url), buffer_size=BLOCK)) as wheel:
        names = set(wheel.namelist())
        missing = [m for m in members if m not in names]
        assert not missing, f"{url.rsplit('/', 1)[-1]} has no {missing}"
        return "\n".join(wheel.read(m).decode("utf-8", errors="replace") for m in members)


def defines(text: str, name: str) -> bool:
    """`def name`, `name =`, or an export of it (tf_export("config.name"), __all__)."""
    pattern = rf"(def {name}\b|^{name}\s*[:=]|['\"]{re.escape(name)}['\"])"
    return re.search(pattern, text, re.MULTILINE) is not None


@pytest.mark.network
def test_torch_mps_calls_exist_in_the_locked_macos_wheel() -> None:
    url = locked_wheel("torch-mps", "torch")
    assert "macosx" in url and "arm64" in url
    text = sources(url, ["torch/mps/__init__.py", "torch/backends/mps/__init__.py"])
    for name in ("synchronize", "current_allocated_memory", "driver_allocated_memory", "is_available", "is_built"):
        assert defines(text, name), name


@pytest.mark.network
def test_mlx_metal_and_memory_calls_exist_in_the_locked_macos_wheel() -> None:
    url = locked_wheel("mlx-llm", "mlx")
    with zipfile.ZipFile(io.BufferedReader(RemoteFile(url), buffer_size=BLOCK)) as wheel:
        stubs = [n for n in wheel.namelist() if n.startswith("mlx/core/") and n.endswith(".pyi")]
        text = "\n".join(wheel.read(n).decode("utf-8", errors="replace") for n in stubs)
    assert stubs, "the mlx wheel ships its type stubs"
    for name in ("set_default_device", "get_active_memory", "get_peak_memory", "reset_peak_memory", "device_info",
                 "is_available", "matmul", "eval"):  # fmt: skip
        assert defines(text, name), name
    assert re.search(r"^(gpu|cpu)\s*:", text, re.MULTILINE), "mx.gpu / mx.cpu devices"


@pytest.mark.network
def test_jax_metal_plugin_and_jax_calls_exist_in_the_locked_wheels() -> None:
    plugin = locked_wheel("jax-metal", "jax-metal")
    with zipfile.ZipFile(io.BufferedReader(RemoteFile(plugin), buffer_size=BLOCK)) as wheel:
        names = wheel.namelist()
    assert any(n.startswith("jax_plugins/metal_plugin/") for n in names), "the jax_plugins entry jax discovers"
    jax_text = sources(locked_wheel("jax-metal", "jax"), ["jax/__init__.py"])
    for name in ("devices", "default_backend", "jit", "device_put"):
        assert defines(jax_text, name) or re.search(rf"\bas {name}\b", jax_text), name


@pytest.mark.network
def test_tensorflow_metal_calls_exist_in_the_locked_wheels() -> None:
    plugin = locked_wheel("tf-metal", "tensorflow-metal")
    with zipfile.ZipFile(io.BufferedReader(RemoteFile(plugin), buffer_size=BLOCK)) as wheel:
        assert any(n.endswith("libmetal_plugin.dylib") for n in wheel.namelist()), "the PluggableDevice library"
    text = sources(locked_wheel("tf-metal", "tensorflow"), ["tensorflow/python/framework/config.py"])
    for exported in ("config.list_physical_devices", "config.set_soft_device_placement",
                     "config.experimental.enable_tensor_float_32_execution"):  # fmt: skip
        assert f"'{exported}'" in text, exported


def test_the_scripts_call_nothing_on_metal_that_this_file_does_not_check() -> None:
    # If a script starts calling another MPS/Metal API, this list must grow with a check above.
    scripts = "\n".join(p.read_text() for p in (REPO / "provision/bench/scripts").glob("bench_*.py"))
    torch_mps = set(re.findall(r"torch\.(?:backends\.)?mps\.(\w+)", scripts))
    mlx_calls = set(re.findall(r"mx\.metal\.(\w+)", scripts))
    assert torch_mps <= {"synchronize", "current_allocated_memory", "driver_allocated_memory", "is_available",
                         "is_built"}, torch_mps  # fmt: skip
    assert mlx_calls <= {"is_available"}, mlx_calls
