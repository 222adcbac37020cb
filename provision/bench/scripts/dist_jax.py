"""Distributed acceptance, run by every rank in the environment's own Python: JAX's collectives across
processes (gloo over TCP on CPUs; NCCL between GPUs), three checks, one JSON line from rank 0.

1. all-reduce correctness: every rank contributes rank+1; the sum must be exactly n(n+1)/2 everywhere;
2. bus bandwidth over message sizes (nccl-tests' definition: algbw = bytes / time, busbw = algbw x 2(n-1)/n);
3. a data-parallel (DDP) training step: each rank computes the gradient of its shard of the batch, the
   gradients are all-reduced, and after a few SGD steps the loss must equal a one-process reference on
   the whole batch within a stated tolerance.

Standard library, numpy and jax only. Arguments: COORDINATOR RANKS RANK SIZES_MB
"""

from __future__ import annotations

import json
import os
import sys
import time

STEPS = 5
TOLERANCE = 1e-5  # relative, float32 sums in another order
FEATURES, PER_RANK = 64, 256


def main() -> None:
    coordinator, ranks, rank = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sizes = [int(s) for s in sys.argv[4].split(",")]
    import jax

    # CPU collectives over TCP (it only concerns the CPU backend; GPUs talk through NCCL). Set before
    # anything touches a backend: initialize() must come first.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=ranks, process_id=rank)
    import jax.numpy as jnp
    import numpy as np
    from jax.experimental import multihost_utils
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = Mesh(np.array(jax.devices()[:: jax.local_device_count()]), ("rank",))  # one device per process
    device = jax.local_devices()[0]
    sharded, replicated = NamedSharding(mesh, P("rank")), NamedSharding(mesh, P())
    reduce_sum = jax.jit(lambda a: a.sum(axis=0), out_shardings=replicated)

    def global_array(local: np.ndarray) -> jax.Array:
        shape = (ranks, *local.shape)
        return jax.make_array_from_single_device_arrays(shape, sharded, [jax.device_put(local[None], device)])

    def all_reduce(local: np.ndarray) -> np.ndarray:
        return np.asarray(reduce_sum(global_array(local)).addressable_data(0))

    expected = ranks * (ranks + 1) / 2
    summed = all_reduce(np.full(1 << 20, rank + 1, dtype=np.float32))
    correct = bool(np.all(summed == expected))

    bandwidth = []
    for megabytes in sizes:
        local = np.ones(megabytes * (1 << 20) // 4, dtype=np.float32)
        array = global_array(local)
        reduce_sum(array).block_until_ready()  # compiled and warmed once
        repeats = 5 if megabytes <= 16 else 2
        started = time.perf_counter()
        for _ in range(repeats):
            reduce_sum(array).block_until_ready()
        seconds = (time.perf_counter() - started) / repeats
        algbw = local.nbytes / seconds / 1e9
        bandwidth.append({"bytes": local.nbytes, "seconds": seconds, "algbw_gbs": algbw,
                          "busbw_gbs": algbw * 2 * (ranks - 1) / ranks})  # fmt: skip
        del array, local

    # DDP: a linear model, mean-squared error over the whole batch; each rank holds PER_RANK rows.
    generator = np.random.default_rng(0)
    inputs = generator.standard_normal((ranks * PER_RANK, FEATURES)).astype(np.float32)
    truth = generator.standard_normal(FEATURES).astype(np.float32)
    targets = inputs @ truth + 0.01 * generator.standard_normal(ranks * PER_RANK).astype(np.float32)
    mine = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
    weights = np.zeros(FEATURES, dtype=np.float32)
    reference = np.zeros(FEATURES, dtype=np.float64)
    for _ in range(STEPS):
        residual = inputs[mine] @ weights - targets[mine]
        local = np.concatenate([inputs[mine].T @ residual, [float(residual @ residual)]]).astype(np.float32)
        total = all_reduce(local) / (ranks * PER_RANK)
        weights = (weights - 0.1 * 2 * total[:-1]).astype(np.float32)
        whole = inputs.astype(np.float64) @ reference - targets
        reference = reference - 0.1 * 2 * (inputs.astype(np.float64).T @ whole) / (ranks * PER_RANK)
    loss = float(np.mean((inputs @ weights - targets) ** 2))
    reference_loss = float(np.mean((inputs.astype(np.float64) @ reference - targets) ** 2))
    difference = abs(loss - reference_loss) / max(abs(reference_loss), 1e-12)

    mine_json = json.dumps({
        "rank": rank, "node": os.environ.get("SLURMD_NODENAME") or os.uname().nodename, "correct": correct,
        "bandwidth": bandwidth, "ddp": {"loss": loss, "reference": reference_loss, "difference": difference},
        "backend": jax.default_backend(), "devices": jax.device_count(),
    })  # fmt: skip
    gathered = multihost_utils.process_allgather(np.frombuffer(mine_json.encode().ljust(8192), dtype=np.uint8))
    if rank == 0:
        ranks_json = [json.loads(bytes(row).decode().strip()) for row in np.asarray(gathered)]
        print(json.dumps({"ranks": ranks_json, "tolerance": TOLERANCE, "steps": STEPS}))
    jnp.zeros(1).block_until_ready()
    jax.distributed.shutdown()


if __name__ == "__main__":
    main()
