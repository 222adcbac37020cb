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


def main() -> None:
    args = core.arguments(__doc__ or "")
    report = core.Report("torch", args.device)
    loaded = core.load_framework(report, "numpy", "torch")
    if loaded is None:
        return
    _numpy, torch = loaded  # numpy is imported for the reference in _benchcore
    name = pick_device(torch, args.device)
    mps_built = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_built()
    report.doc["environment"] = {
        "torch": torch.__version__, "cuda_available": torch.cuda.is_available(), "cuda_version": torch.version.cuda,
        "mps_built": mps_built, "mps_available": mps_built and torch.backends.mps.is_available(),
        "threads": torch.get_num_threads(),
    }  # fmt: skip
    if name is None:
        report.check("environment", "FAIL", f"no {args.device} device: {report.doc['environment']}")
        report.emit()
        return
    device = torch.device(name)
    kind = {"cpu": "cpu", "mps": "apple-gpu", "cuda": "nvidia-gpu"}[name]
    label = torch.cuda.get_device_name(0) if name == "cuda" else name
    report.doc.update(device=name, device_kind=kind, device_name=label)
    report.check("environment", "PASS", f"torch {torch.__version__} on {label}")
    torch.backends.cuda.matmul.allow_tf32 = False  # "fp32" means true fp32; TF32 is measured separately
    torch.manual_seed(0)
    half = {"cuda": torch.bfloat16, "mps": torch.float16, "cpu": torch.bfloat16}[name]
    half_name = "bfloat16" if half == torch.bfloat16 else "float16"

    def sync(_=None):  # type: ignore[no-untyped-def]
        if name == "cuda":
            torch.cuda.synchronize()
        elif name == "mps":
            torch.mps.synchronize()

    def placement() -> None:
        y = torch.ones(64, 64, device=device) @ torch.ones(64, 64, device=device)
        sync()
        report.check("placement", "PASS" if y.device.type == name else "FAIL", f"matmul result on {y.device}")

    report.guarded("placement", placement)

    def device_matmul(dtype):  # type: ignore[no-untyped-def]
        def run(a, b):  # type: ignore[no-untyped-def]
            out = torch.from_numpy(a).to(device, dtype) @ torch.from_numpy(b).to(device, dtype)
            return out.float().cpu().numpy()

        return run

    report.guarded("correctness-float32", lambda: core.correctness(report, "float32", device_matmul(torch.float32)))
    report.guarded(f"correctness-{half_name}", lambda: core.correctness(report, half_name, device_matmul(half)))

    def softmax_tanh(a):  # type: ignore[no-untyped-def]
        x = torch.from_numpy(a).to(device, torch.float32)
        return (torch.softmax(x, dim=1) * torch.tanh(x)).cpu().numpy()

    report.guarded("correctness-ops", lambda: core.ops_check(report, softmax_tanh))

    def gemm(dev_name, dtype, label, n):  # type: ignore[no-untyped-def]
        a = torch.randn(n, n, device=dev_name, dtype=dtype)
        sync()
        result = core.time_op(lambda: a @ a, sync, 2.0 * n**3, args.quick)
        report.doc["throughput"].append({"device": dev_name, "dtype": label, "n": n, **result})

    def throughput() -> None:
        for n in core.gemm_sizes(args, name != "cpu"):
            gemm(name, torch.float32, "float32", n)
            if n in core.half_sizes(core.gemm_sizes(args, name != "cpu"), name != "cpu"):
                gemm(name, half, half_name, n)
            if name == "cuda":
                torch.backends.cuda.matmul.allow_tf32 = True
                gemm(name, torch.float32, "tf32", n)
                torch.backends.cuda.matmul.allow_tf32 = False
        if name != "cpu":
            gemm("cpu", torch.float32, "float32", core.gemm_sizes(args, False)[-1])
        report.check("throughput", "PASS", f"{len(report.doc['throughput'])} GEMM measurements")

    report.guarded("throughput", throughput)
    report.guarded("training-step", lambda: training(report, torch, device))
    report.guarded("mixed-precision", lambda: mixed_precision(report, torch, device, half, half_name))
    report.guarded("activation-checkpointing", lambda: checkpointing(report, torch, device, sync))
    report.emit()


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
