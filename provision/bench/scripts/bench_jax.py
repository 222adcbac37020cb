"""Acceptance benchmark for JAX (CPU, CUDA, jax-metal). Prints one JSON document.

Run by the target environment's interpreter: python bench_jax.py --device auto
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _benchcore as core

PLATFORMS = {"cuda": ("cuda", "gpu"), "gpu": ("cuda", "gpu", "metal"), "mps": ("metal",), "cpu": ("cpu",)}


def pick_device(jax, requested):  # type: ignore[no-untyped-def]
    wanted = ("cuda", "gpu", "metal", "cpu") if requested == "auto" else PLATFORMS[requested]
    for platform in wanted:
        try:
            devices = jax.devices(platform)
        except RuntimeError:
            continue
        if devices:
            return devices[0]
    return None


def main() -> None:
    args = core.arguments(__doc__ or "")
    report = core.Report("jax", args.device)
    loaded = core.load_framework(report, "numpy", "jax.numpy", "jax")
    if loaded is None:
        return
    np, jnp, jax = loaded
    device = pick_device(jax, args.device)
    cpu = jax.devices("cpu")[0]
    platform = device.platform.lower() if device is not None else None
    kind = {"cpu": "cpu", "metal": "apple-gpu"}.get(platform or "", "nvidia-gpu" if platform else None)
    report.doc.update(device=platform, device_kind=kind, device_name=getattr(device, "device_kind", None))
    report.doc["environment"] = {
        "jax": jax.__version__, "jaxlib": getattr(jax.lib, "__version__", None) or _jaxlib_version(),
        "devices": [str(d) for d in jax.devices()], "default_backend": jax.default_backend(),
    }  # fmt: skip
    if device is None:
        report.check("environment", "FAIL", f"no {args.device} device: jax sees {jax.devices()}")
        report.emit()
        return
    plugin_ok = platform != "metal" or "METAL" in str(jax.devices()).upper()
    report.check("environment", "PASS" if plugin_ok else "FAIL", f"jax {jax.__version__} on {device}")
    accelerator = platform != "cpu"

    def on(dev, array):  # type: ignore[no-untyped-def]
        return jax.device_put(array, dev)

    def sync(x):  # type: ignore[no-untyped-def]
        return x.block_until_ready()

    matmul = jax.jit(lambda a, b: a @ b)

    def placement() -> None:
        a = on(device, jnp.ones((64, 64), jnp.float32))
        y = sync(matmul(a, a))
        where = {d.platform.lower() for d in y.devices()}
        status = "PASS" if where == {platform} else "FAIL"
        report.check("placement", status, f"jitted matmul result lives on {sorted(where)} (requested {platform})")

    report.guarded("placement", placement)

    def device_matmul(dtype, precision):  # type: ignore[no-untyped-def]
        def run(a, b):  # type: ignore[no-untyped-def]
            with jax.default_matmul_precision(precision):
                out = matmul(on(device, jnp.asarray(a, dtype)), on(device, jnp.asarray(b, dtype)))
            return np.asarray(sync(out).astype(jnp.float32))

        return run

    report.guarded(
        "correctness-float32", lambda: core.correctness(report, "float32", device_matmul(jnp.float32, "highest"))
    )
    report.guarded(
        "correctness-bfloat16", lambda: core.correctness(report, "bfloat16", device_matmul(jnp.bfloat16, "default"))
    )

    def softmax_tanh(a):  # type: ignore[no-untyped-def]
        out = jax.jit(lambda x: jax.nn.softmax(x, axis=1) * jnp.tanh(x))(on(device, jnp.asarray(a, jnp.float32)))
        return np.asarray(sync(out))

    report.guarded("correctness-ops", lambda: core.ops_check(report, softmax_tanh))

    def throughput() -> None:
        for n in core.gemm_sizes(args, accelerator):
            for dtype, name, precision in ((jnp.float32, "float32", "highest"), (jnp.bfloat16, "bfloat16", "default")):
                if name == "bfloat16" and n not in core.half_sizes(core.gemm_sizes(args, accelerator), accelerator):
                    continue
                a = sync(on(device, jax.random.normal(jax.random.key(0), (n, n), dtype)))
                with jax.default_matmul_precision(precision):
                    op = jax.jit(lambda x, y: x @ y)
                    result = core.time_op(lambda op=op, a=a: op(a, a), sync, 2.0 * n**3, args.quick)
                report.doc["throughput"].append({"device": platform, "dtype": name, "n": n, **result})
        if accelerator:  # the same GEMM on this machine's CPU, all threads, for the device-vs-CPU ratio
            n = core.gemm_sizes(args, False)[-1]
            a = sync(on(cpu, jax.random.normal(jax.random.key(0), (n, n), jnp.float32)))
            with jax.default_matmul_precision("highest"):
                op = jax.jit(lambda x, y: x @ y)
                result = core.time_op(lambda op=op, a=a: op(a, a), sync, 2.0 * n**3, args.quick)
            report.doc["throughput"].append({"device": "cpu", "dtype": "float32", "n": n, **result})
        report.check(
            "throughput", "PASS", f"{len(report.doc['throughput'])} GEMM measurements (verdict applies thresholds)"
        )

    report.guarded("throughput", throughput)
    report.guarded("training-step", lambda: training(report, jax, jnp, np, device, cpu, accelerator))
    report.guarded("mixed-precision", lambda: mixed_precision(report, jnp, device))
    report.check(
        "activation-checkpointing",
        "SKIP",
        "JAX has no peak-memory reset, so the saving of jax.checkpoint cannot be isolated; "
        "measured by the torch (CUDA) and MLX benchmarks",
    )
    report.emit()


def _jaxlib_version() -> str | None:
    try:
        import jaxlib

        return jaxlib.__version__
    except Exception:
        return None


def _mlp(jax, jnp, np):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32)).astype(np.float32)
    teacher = rng.standard_normal((32, 10)).astype(np.float32)
    y = np.argmax(x @ teacher, axis=1)
    params = [rng.standard_normal(s).astype(np.float32) * 0.2 for s in ((32, 64), (64,), (64, 10), (10,))]

    def loss_fn(p, xb, yb):  # type: ignore[no-untyped-def]
        h = jnp.tanh(xb @ p[0] + p[1])
        logits = h @ p[2] + p[3]
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(yb.shape[0]), yb])

    return x, y, params, loss_fn


def training(report, jax, jnp, np, device, cpu, accelerator) -> None:  # type: ignore[no-untyped-def]
    x, y, params, loss_fn = _mlp(jax, jnp, np)
    grad = jax.jit(jax.value_and_grad(loss_fn))

    def first_step(dev):  # type: ignore[no-untyped-def]
        p = [jax.device_put(w, dev) for w in params]
        _, g = grad(p, jax.device_put(x, dev), jax.device_put(y, dev))
        return np.concatenate([np.asarray(t).ravel() for t in g])

    parity = core.rel_fro(first_step(device), first_step(cpu).astype(np.float64)) if accelerator else None

    @jax.jit
    def adam(p, m, v, t, xb, yb):  # type: ignore[no-untyped-def]
        loss, g = jax.value_and_grad(loss_fn)(p, xb, yb)
        m = [0.9 * mi + 0.1 * gi for mi, gi in zip(m, g, strict=True)]
        v = [0.999 * vi + 0.001 * gi * gi for vi, gi in zip(v, g, strict=True)]
        p = [
            pi - 0.01 * (mi / (1 - 0.9**t)) / (jnp.sqrt(vi / (1 - 0.999**t)) + 1e-8)
            for pi, mi, vi in zip(p, m, v, strict=True)
        ]
        finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(gi)) for gi in g]))
        return p, m, v, loss, finite

    p = [jax.device_put(w, device) for w in params]
    m = [jnp.zeros_like(w) for w in p]
    v = [jnp.zeros_like(w) for w in p]
    xb, yb = jax.device_put(x, device), jax.device_put(y, device)
    losses, finite = [], True
    for t in range(1, 301):
        p, m, v, loss, ok = adam(p, m, v, float(t), xb, yb)
        losses.append(float(loss))
        finite = finite and bool(ok)
    changed = any(not np.allclose(np.asarray(a), b) for a, b in zip(p, params, strict=True))
    on_device = all(d.platform.lower() == device.platform.lower() for w in p for d in w.devices())
    core.overfit_check(report, losses, finite, changed, on_device, parity)


def mixed_precision(report, jnp, device) -> None:  # type: ignore[no-untyped-def]
    import jax

    a = jax.device_put(jnp.ones((128, 128), jnp.float32), device)
    low = a.astype(jnp.bfloat16) @ a.astype(jnp.bfloat16)
    speedup = core.half_speedup(report, device.platform.lower(), "bfloat16")
    ok = low.dtype == jnp.bfloat16 and bool(jnp.all(jnp.isfinite(low)))
    report.check(
        "mixed-precision",
        "PASS" if ok else "FAIL",
        f"bf16 matmul computes in {low.dtype}; measured bf16/fp32 GEMM speed-up {speedup:.2f}x"
        if speedup
        else f"bf16 matmul computes in {low.dtype}",
        speedup=speedup,
    )


if __name__ == "__main__":
    main()
