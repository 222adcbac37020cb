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


class Jax(core.Adapter):
    framework = "jax"
    modules = ("numpy", "jax.numpy", "jax")

    def __init__(self, modules, args):  # type: ignore[no-untyped-def]
        super().__init__(modules, args)
        self.np, self.jnp, self.jax = modules
        self.matmul_jit = self.jax.jit(lambda a, b: a @ b)

    def environment(self):  # type: ignore[no-untyped-def]
        jax = self.jax
        return {"jax": jax.__version__, "jaxlib": getattr(jax.lib, "__version__", None) or _jaxlib_version(),
                "devices": [str(d) for d in jax.devices()], "default_backend": jax.default_backend()}  # fmt: skip

    def select(self):  # type: ignore[no-untyped-def]
        jax = self.jax
        self.where = pick_device(jax, self.args.device)
        if self.where is None:
            return f"no {self.args.device} device: jax sees {jax.devices()}"
        self.cpu = jax.devices("cpu")[0]
        platform = self.where.platform.lower()
        kind = {"cpu": "cpu", "metal": "apple-gpu"}.get(platform, "nvidia-gpu")
        return platform, kind, getattr(self.where, "device_kind", None) or platform

    def ready(self):  # type: ignore[no-untyped-def]
        plugin_ok = self.device != "metal" or "METAL" in str(self.jax.devices()).upper()
        return ("PASS" if plugin_ok else "FAIL"), f"jax {self.jax.__version__} on {self.where}"

    def architecture(self):  # type: ignore[no-untyped-def]
        if self.device != "cuda":
            return None
        # jaxlib publishes no list of built architectures: XLA compiles each kernel for the device it
        # runs on, so the device's own capability is what is recorded (a compile failure fails below).
        capability = getattr(self.jax.devices()[0], "compute_capability", None)
        return "PASS", f"XLA compiles for sm_{str(capability).replace('.', '')} at run time"

    def sync(self, value=None):  # type: ignore[no-untyped-def]
        if value is not None:
            value.block_until_ready()
        return value

    def placement(self):  # type: ignore[no-untyped-def]
        a = self.jax.device_put(self.jnp.ones((64, 64), self.jnp.float32), self.where)
        y = self.sync(self.matmul_jit(a, a))
        where = {d.platform.lower() for d in y.devices()}
        return where == {self.device}, f"jitted matmul result lives on {sorted(where)} (requested {self.device})"

    def _kind(self, dtype):  # type: ignore[no-untyped-def]
        # fp32 at the "highest" precision is true fp32 (no TF32 or bf16 passes on accelerators).
        return (self.jnp.float32, "highest") if dtype == "float32" else (self.jnp.bfloat16, "default")

    def matmul(self, dtype):  # type: ignore[no-untyped-def]
        jax, jnp, np = self.jax, self.jnp, self.np
        kind, precision = self._kind(dtype)

        def run(a, b):  # type: ignore[no-untyped-def]
            with jax.default_matmul_precision(precision):
                out = self.matmul_jit(jax.device_put(jnp.asarray(a, kind), self.where),
                                      jax.device_put(jnp.asarray(b, kind), self.where))  # fmt: skip
            return np.asarray(self.sync(out).astype(jnp.float32))

        return run

    def softmax_tanh(self, a):  # type: ignore[no-untyped-def]
        jax, jnp = self.jax, self.jnp
        x = jax.device_put(jnp.asarray(a, jnp.float32), self.where)
        return self.np.asarray(self.sync(jax.jit(lambda v: jax.nn.softmax(v, axis=1) * jnp.tanh(v))(x)))

    def gemm(self, device, dtype, n):  # type: ignore[no-untyped-def]
        jax = self.jax
        kind, precision = self._kind(dtype)
        target = self.cpu if device == "cpu" else self.where
        a = self.sync(jax.device_put(jax.random.normal(jax.random.key(0), (n, n), kind), target))
        with jax.default_matmul_precision(precision):
            op = jax.jit(lambda x, y: x @ y)
            op(a, a).block_until_ready()  # compiled under this precision

        def run():  # type: ignore[no-untyped-def]
            with jax.default_matmul_precision(precision):
                return op(a, a)

        return run

    def training(self, report):  # type: ignore[no-untyped-def]
        training(report, self.jax, self.jnp, self.np, self.where, self.cpu, self.device != "cpu")

    def mixed_precision(self, report):  # type: ignore[no-untyped-def]
        mixed_precision(report, self.jnp, self.where)

    def checkpointing(self, report):  # type: ignore[no-untyped-def]
        report.check("activation-checkpointing", "SKIP",
                     "JAX has no peak-memory reset, so the saving of jax.checkpoint cannot be isolated; "
                     "measured by the torch (CUDA) and MLX benchmarks")  # fmt: skip


def main() -> None:
    core.run(Jax)


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
