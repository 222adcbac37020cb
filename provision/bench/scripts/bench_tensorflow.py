"""Acceptance benchmark for TensorFlow (CPU, CUDA, tensorflow-metal). Prints one JSON document.

Run by the target environment's interpreter: python bench_tensorflow.py --device auto
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _benchcore as core


def main() -> None:
    args = core.arguments(__doc__ or "")
    report = core.Report("tensorflow", args.device)
    loaded = core.load_framework(report, "numpy", "tensorflow")
    if loaded is None:
        return
    np, tf = loaded
    gpus = tf.config.list_physical_devices("GPU")
    # An op without a kernel on the requested device must raise, never run quietly on the CPU.
    tf.config.set_soft_device_placement(False)
    tf.config.experimental.enable_tensor_float_32_execution(False)  # "fp32" is true fp32
    metal = any("metal" in str(d).lower() for d in gpus) or (sys.platform == "darwin" and bool(gpus))
    wants_gpu = args.device in ("cuda", "mps", "gpu") or (args.device == "auto" and gpus)
    report.doc["environment"] = {"tensorflow": tf.__version__, "gpus": [str(d) for d in gpus],
                                 "built_with_cuda": tf.test.is_built_with_cuda()}  # fmt: skip
    if wants_gpu and not gpus:
        report.check("environment", "FAIL", f"no GPU visible to TensorFlow {tf.__version__} (plugin not loaded?)")
        report.emit()
        return
    name = "/GPU:0" if wants_gpu else "/CPU:0"
    kind = ("apple-gpu" if metal else "nvidia-gpu") if wants_gpu else "cpu"
    short = ("gpu" if metal else "cuda") if wants_gpu else "cpu"
    report.doc.update(device=short, device_kind=kind, device_name=str(gpus[0].name) if wants_gpu else "cpu")
    report.check("environment", "PASS", f"tensorflow {tf.__version__}, placing on {name}")
    half = tf.float16 if wants_gpu else tf.bfloat16
    half_name = "float16" if wants_gpu else "bfloat16"
    sync_devices = getattr(getattr(tf.test, "experimental", None), "sync_devices", None)

    def sync(x):  # type: ignore[no-untyped-def]
        if sync_devices is not None:
            sync_devices()
        else:  # older TF: a tiny reduction forces completion
            tf.reduce_sum(x[:1, :1]).numpy()

    def placement() -> None:
        with tf.device(name):
            y = tf.matmul(tf.ones((64, 64)), tf.ones((64, 64)))
        ok = y.device.upper().endswith(name.strip("/").upper())
        report.check("placement", "PASS" if ok else "FAIL", f"matmul result on {y.device} (requested {name})")

    report.guarded("placement", placement)

    def device_matmul(dtype):  # type: ignore[no-untyped-def]
        def run(a, b):  # type: ignore[no-untyped-def]
            with tf.device(name):
                out = tf.matmul(tf.constant(a, dtype), tf.constant(b, dtype))
            return tf.cast(out, tf.float32).numpy()

        return run

    report.guarded("correctness-float32", lambda: core.correctness(report, "float32", device_matmul(tf.float32)))
    report.guarded(f"correctness-{half_name}", lambda: core.correctness(report, half_name, device_matmul(half)))

    def softmax_tanh(a):  # type: ignore[no-untyped-def]
        with tf.device(name):
            x = tf.constant(a, tf.float32)
            return (tf.nn.softmax(x, axis=1) * tf.tanh(x)).numpy()

    report.guarded("correctness-ops", lambda: core.ops_check(report, softmax_tanh))

    def gemm(where, short_name, dtype, label, n):  # type: ignore[no-untyped-def]
        with tf.device(where):
            a = tf.random.normal((n, n), dtype=tf.float32)
            a = tf.cast(a, dtype)
            op = tf.function(lambda: tf.matmul(a, a))
            sync(a)
            result = core.time_op(op, sync, 2.0 * n**3, args.quick)
        report.doc["throughput"].append({"device": short_name, "dtype": label, "n": n, **result})

    def throughput() -> None:
        for n in core.gemm_sizes(args, wants_gpu):
            gemm(name, short, tf.float32, "float32", n)
            if n in core.half_sizes(core.gemm_sizes(args, wants_gpu), wants_gpu):
                gemm(name, short, half, half_name, n)
        if wants_gpu:
            gemm("/CPU:0", "cpu", tf.float32, "float32", core.gemm_sizes(args, False)[-1])
        report.check("throughput", "PASS", f"{len(report.doc['throughput'])} GEMM measurements")

    report.guarded("throughput", throughput)
    report.guarded("training-step", lambda: training(report, tf, np, name, wants_gpu))
    report.guarded("mixed-precision", lambda: mixed_precision(report, tf, name, half_name, short))
    report.check(
        "activation-checkpointing",
        "SKIP",
        "TensorFlow has no per-step peak-memory counter comparable across runs; measured by torch and MLX",
    )
    report.emit()


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
