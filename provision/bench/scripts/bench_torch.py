"""Acceptance benchmark for PyTorch (CPU, CUDA, MPS). Prints one JSON document.

Run by the target environment's interpreter: python bench_torch.py --device auto
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _benchcore as core


def pick_device(torch, requested):  # type: ignore[no-untyped-def]
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    order = {"auto": ["cuda", "mps", "cpu"], "gpu": ["cuda", "mps"], "cuda": ["cuda"], "mps": ["mps"], "cpu": ["cpu"]}
    for name in order[requested]:
        if name == "cpu" or (name == "cuda" and cuda) or (name == "mps" and mps):
            return name
    return None


class Torch(core.Adapter):
    framework = "torch"
    modules = ("numpy", "torch")

    def __init__(self, modules, args):  # type: ignore[no-untyped-def]
        super().__init__(modules, args)
        self.torch = modules[1]

    def environment(self):  # type: ignore[no-untyped-def]
        torch = self.torch
        built = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_built()
        return {"torch": torch.__version__, "cuda_available": torch.cuda.is_available(),
                "cuda_version": torch.version.cuda, "mps_built": built,
                "mps_available": built and torch.backends.mps.is_available(),
                "threads": torch.get_num_threads()}  # fmt: skip

    def select(self):  # type: ignore[no-untyped-def]
        torch = self.torch
        name = pick_device(torch, self.args.device)
        if name is None:
            return f"no {self.args.device} device: {self.environment()}"
        torch.backends.cuda.matmul.allow_tf32 = False  # "fp32" means true fp32; TF32 is measured separately
        torch.manual_seed(0)
        self.half = {"cuda": torch.bfloat16, "mps": torch.float16, "cpu": torch.bfloat16}[name]
        self.half_name = "bfloat16" if self.half == torch.bfloat16 else "float16"
        self.extra_dtypes = ("tf32",) if name == "cuda" else ()
        self.where = torch.device(name)
        label = torch.cuda.get_device_name(0) if name == "cuda" else name
        return name, {"cpu": "cpu", "mps": "apple-gpu", "cuda": "nvidia-gpu"}[name], label

    def ready(self):  # type: ignore[no-untyped-def]
        return "PASS", f"torch {self.torch.__version__} on {self.device}"

    def architecture(self):  # type: ignore[no-untyped-def]
        if self.device != "cuda":
            return None
        return core.arch_verdict(self.torch.cuda.get_device_capability(0), list(self.torch.cuda.get_arch_list()))

    def sync(self, value=None):  # type: ignore[no-untyped-def]
        if self.device == "cuda":
            self.torch.cuda.synchronize()
        elif self.device == "mps":
            self.torch.mps.synchronize()

    def placement(self):  # type: ignore[no-untyped-def]
        torch = self.torch
        y = torch.ones(64, 64, device=self.where) @ torch.ones(64, 64, device=self.where)
        self.sync()
        return y.device.type == self.device, f"matmul result on {y.device}"

    def _dtype(self, name):  # type: ignore[no-untyped-def]
        return {"float32": self.torch.float32, "tf32": self.torch.float32}.get(name, self.half)

    def matmul(self, dtype):  # type: ignore[no-untyped-def]
        torch, kind = self.torch, self._dtype(dtype)

        def run(a, b):  # type: ignore[no-untyped-def]
            out = torch.from_numpy(a).to(self.where, kind) @ torch.from_numpy(b).to(self.where, kind)
            return out.float().cpu().numpy()

        return run

    def softmax_tanh(self, a):  # type: ignore[no-untyped-def]
        x = self.torch.from_numpy(a).to(self.where, self.torch.float32)
        return (self.torch.softmax(x, dim=1) * self.torch.tanh(x)).cpu().numpy()

    def gemm(self, device, dtype, n):  # type: ignore[no-untyped-def]
        torch = self.torch
        a = torch.randn(n, n, device=device, dtype=self._dtype(dtype))
        self.sync()
        tf32 = dtype == "tf32"

        def op():  # type: ignore[no-untyped-def]
            torch.backends.cuda.matmul.allow_tf32 = tf32
            return a @ a

        return op

    def training(self, report):  # type: ignore[no-untyped-def]
        self.torch.backends.cuda.matmul.allow_tf32 = False
        training(report, self.torch, self.where)

    def mixed_precision(self, report):  # type: ignore[no-untyped-def]
        mixed_precision(report, self.torch, self.where, self.half, self.half_name)

    def checkpointing(self, report):  # type: ignore[no-untyped-def]
        checkpointing(report, self.torch, self.where, self.sync)


def main() -> None:
    core.run(Torch)


def _model(torch):  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Tanh(), torch.nn.Linear(64, 10))


def _batch(torch):  # type: ignore[no-untyped-def]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 32, generator=generator)
    y = (x @ torch.randn(32, 10, generator=generator)).argmax(dim=1)
    return x, y


def training(report, torch, device) -> None:  # type: ignore[no-untyped-def]
    import copy

    x, y = _batch(torch)
    reference = _model(torch)
    model = copy.deepcopy(reference).to(device)
    loss_fn = torch.nn.CrossEntropyLoss()
    parity = None
    if device.type != "cpu":  # one step on the same batch, CPU vs device: same loss and gradients
        cpu_model = copy.deepcopy(reference)
        loss_fn(cpu_model(x), y).backward()
        loss_fn(model(x.to(device)), y.to(device)).backward()
        cpu_grads = torch.cat([p.grad.flatten() for p in cpu_model.parameters()]).double().numpy()
        dev_grads = torch.cat([p.grad.flatten() for p in model.parameters()]).double().cpu().numpy()
        parity = core.rel_fro(dev_grads, cpu_grads)
        model.zero_grad()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    xb, yb = x.to(device), y.to(device)
    losses, finite = [], True
    for _ in range(300):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        finite = finite and all(bool(torch.isfinite(p.grad).all()) for p in model.parameters())
        optimizer.step()
        losses.append(loss.item())
    changed = any(not torch.equal(a.cpu(), b) for a, b in zip(model.parameters(), reference.parameters(), strict=True))
    on_device = all(p.device.type == device.type for p in model.parameters()) and loss.device.type == device.type
    core.overfit_check(report, losses, finite, changed, on_device, parity)


def mixed_precision(report, torch, device, half, half_name) -> None:  # type: ignore[no-untyped-def]
    layer = torch.nn.Linear(256, 256).to(device)
    x = torch.randn(64, 256, device=device)
    with torch.autocast(device_type=device.type, dtype=half):
        out = layer(x)
    speedup = core.half_speedup(report, device.type, half_name)
    took = out.dtype == half
    text = f"autocast output dtype {out.dtype} (wanted {half})"
    if speedup:
        text += f"; measured {half_name}/fp32 GEMM speed-up {speedup:.2f}x"
    report.check("mixed-precision", "PASS" if took and bool(torch.isfinite(out).all()) else "FAIL", text,
                 speedup=speedup)  # fmt: skip


def checkpointing(report, torch, device, sync) -> None:  # type: ignore[no-untyped-def]
    if device.type != "cuda":
        report.check("activation-checkpointing", "SKIP",
                     f"torch exposes a peak-memory counter only on CUDA, not on {device.type}")  # fmt: skip
        return
    import time

    from torch.utils.checkpoint import checkpoint

    def block():  # type: ignore[no-untyped-def]
        return torch.nn.Sequential(torch.nn.Linear(1024, 4096), torch.nn.GELU(), torch.nn.Linear(4096, 1024))

    blocks = torch.nn.ModuleList(block() for _ in range(8)).to(device)
    x = torch.randn(64, 512, 1024, device=device, requires_grad=True)

    def step(remat):  # type: ignore[no-untyped-def]
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        start = time.perf_counter()
        h = x
        for block in blocks:
            h = checkpoint(block, h, use_reentrant=False) if remat else block(h)
        h.sum().backward()
        sync()
        return torch.cuda.max_memory_allocated() - base, time.perf_counter() - start

    step(False)
    plain, t_plain = step(False)
    remat, t_remat = step(True)
    saving = 1 - remat / plain
    ok = saving >= 0.3 and t_remat / t_plain <= 1.6
    report.check("activation-checkpointing", "PASS" if ok else "FAIL",
                 f"peak memory {-saving:+.0%} ({plain / 2**20:.0f} -> {remat / 2**20:.0f} MiB), "
                 f"step time x{t_remat / t_plain:.2f}", saving=saving, time_ratio=t_remat / t_plain)  # fmt: skip


if __name__ == "__main__":
    main()
