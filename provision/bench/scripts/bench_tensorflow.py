"""Acceptance benchmark for TensorFlow (CPU, CUDA, tensorflow-metal). Prints one JSON document.

Run by the target environment's interpreter: python bench_tensorflow.py --device auto
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _benchcore as core


class TensorFlow(core.Adapter):
    framework = "tensorflow"
    modules = ("numpy", "tensorflow")

    def __init__(self, modules, args):  # type: ignore[no-untyped-def]
        super().__init__(modules, args)
        self.np, self.tf = modules
        tf = self.tf
        self.gpus = tf.config.list_physical_devices("GPU")
        # An op without a kernel on the requested device must raise, never run quietly on the CPU.
        tf.config.set_soft_device_placement(False)
        tf.config.experimental.enable_tensor_float_32_execution(False)  # "fp32" is true fp32
        self.sync_devices = getattr(getattr(tf.test, "experimental", None), "sync_devices", None)

    def environment(self):  # type: ignore[no-untyped-def]
        return {"tensorflow": self.tf.__version__, "gpus": [str(d) for d in self.gpus],
                "built_with_cuda": self.tf.test.is_built_with_cuda()}  # fmt: skip

    def select(self):  # type: ignore[no-untyped-def]
        tf, gpus = self.tf, self.gpus
        wants_gpu = self.args.device in ("cuda", "mps", "gpu") or (self.args.device == "auto" and bool(gpus))
        if wants_gpu and not gpus:
            return f"no GPU visible to TensorFlow {tf.__version__} (plugin not loaded?)"
        metal = any("metal" in str(d).lower() for d in gpus) or (sys.platform == "darwin" and bool(gpus))
        self.name = "/GPU:0" if wants_gpu else "/CPU:0"
        self.half = tf.float16 if wants_gpu else tf.bfloat16
        self.half_name = "float16" if wants_gpu else "bfloat16"
        kind = ("apple-gpu" if metal else "nvidia-gpu") if wants_gpu else "cpu"
        short = ("gpu" if metal else "cuda") if wants_gpu else "cpu"
        return short, kind, str(gpus[0].name) if wants_gpu else "cpu"

    def ready(self):  # type: ignore[no-untyped-def]
        return "PASS", f"tensorflow {self.tf.__version__}, placing on {self.name}"

    def sync(self, value=None):  # type: ignore[no-untyped-def]
        if self.sync_devices is not None:
            self.sync_devices()
        elif value is not None:  # older TF: a tiny reduction forces completion
            self.tf.reduce_sum(value[:1, :1]).numpy()

    def placement(self):  # type: ignore[no-untyped-def]
        tf = self.tf
        with tf.device(self.name):
            y = tf.matmul(tf.ones((64, 64)), tf.ones((64, 64)))
        ok = y.device.upper().endswith(self.name.strip("/").upper())
        return ok, f"matmul result on {y.device} (requested {self.name})"

    def _dtype(self, dtype):  # type: ignore[no-untyped-def]
        return self.tf.float32 if dtype == "float32" else self.half

    def matmul(self, dtype):  # type: ignore[no-untyped-def]
        tf, kind = self.tf, self._dtype(dtype)

        def run(a, b):  # type: ignore[no-untyped-def]
            with tf.device(self.name):
                out = tf.matmul(tf.constant(a, kind), tf.constant(b, kind))
            return tf.cast(out, tf.float32).numpy()

        return run

    def softmax_tanh(self, a):  # type: ignore[no-untyped-def]
        tf = self.tf
        with tf.device(self.name):
            x = tf.constant(a, tf.float32)
            return (tf.nn.softmax(x, axis=1) * tf.tanh(x)).numpy()

    def gemm(self, device, dtype, n):  # type: ignore[no-untyped-def]
        tf = self.tf
        where = "/CPU:0" if device == "cpu" else self.name
        with tf.device(where):
            a = tf.cast(tf.random.normal((n, n), dtype=tf.float32), self._dtype(dtype))
            op = tf.function(lambda: tf.matmul(a, a))
            self.sync(a)

        def run():  # type: ignore[no-untyped-def]
            with tf.device(where):
                return op()

        return run

    def training(self, report):  # type: ignore[no-untyped-def]
        training(report, self.tf, self.np, self.name, self.device != "cpu")

    def mixed_precision(self, report):  # type: ignore[no-untyped-def]
        mixed_precision(report, self.tf, self.name, self.half_name, self.device)

    def checkpointing(self, report):  # type: ignore[no-untyped-def]
        report.check("activation-checkpointing", "SKIP",
                     "TensorFlow has no per-step peak-memory counter comparable across runs; "
                     "measured by torch and MLX")  # fmt: skip


def main() -> None:
    core.run(TensorFlow)


def training(report, tf, np, name, accelerator) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32)).astype(np.float32)
    y = np.argmax(x @ rng.standard_normal((32, 10)), axis=1)
    init = [rng.standard_normal(s).astype(np.float32) * 0.2 for s in ((32, 64), (64,), (64, 10), (10,))]

    def loss_of(weights, xb, yb):  # type: ignore[no-untyped-def]
        logits = tf.tanh(xb @ weights[0] + weights[1]) @ weights[2] + weights[3]
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=logits))

    def grads_on(where):  # type: ignore[no-untyped-def]
        with tf.device(where):
            weights = [tf.Variable(w) for w in init]
            with tf.GradientTape() as tape:
                loss = loss_of(weights, tf.constant(x), tf.constant(y))
            return np.concatenate([g.numpy().ravel() for g in tape.gradient(loss, weights)])

    parity = core.rel_fro(grads_on(name), grads_on("/CPU:0").astype(np.float64)) if accelerator else None
    with tf.device(name):
        weights = [tf.Variable(w) for w in init]
        optimizer = tf.keras.optimizers.Adam(learning_rate=1e-2)
        xb, yb = tf.constant(x), tf.constant(y)

        @tf.function
        def step():  # type: ignore[no-untyped-def]
            with tf.GradientTape() as tape:
                loss = loss_of(weights, xb, yb)
            grads = tape.gradient(loss, weights)
            optimizer.apply_gradients(zip(grads, weights, strict=True))
            return loss, tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])

        losses, finite = [], True
        for _ in range(300):
            loss, ok = step()
            losses.append(float(loss))
            finite = finite and bool(ok)
    changed = any(not np.allclose(w.numpy(), i) for w, i in zip(weights, init, strict=True))
    on_device = all(w.device.upper().endswith(name.strip("/").upper()) for w in weights)
    core.overfit_check(report, losses, finite, changed, on_device, parity)


def mixed_precision(report, tf, name, half_name, short) -> None:  # type: ignore[no-untyped-def]
    policy = "mixed_float16" if half_name == "float16" else "mixed_bfloat16"
    tf.keras.mixed_precision.set_global_policy(policy)
    try:
        with tf.device(name):
            layer = tf.keras.layers.Dense(64)
            out = layer(tf.ones((8, 32)))
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    speedup = core.half_speedup(report, short, half_name)
    took = out.dtype.name == half_name
    text = f"{policy}: Dense output dtype {out.dtype.name}"
    if speedup:
        text += f"; measured {half_name}/fp32 GEMM speed-up {speedup:.2f}x"
    report.check("mixed-precision", "PASS" if took else "FAIL", text, speedup=speedup)


if __name__ == "__main__":
    main()
