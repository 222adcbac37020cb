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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _distcore as core  # beside this script: it runs as a file, not as a package


def main() -> None:
    coordinator, ranks, rank, sizes = core.arguments()
    import jax

    # CPU collectives over TCP (it only concerns the CPU backend; GPUs talk through NCCL). Set before
    # anything touches a backend: initialize() must come first.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=ranks, process_id=rank)
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

    summed = all_reduce(np.full(1 << 20, rank + 1, dtype=np.float32))
    correct = bool(np.all(summed == ranks * (ranks + 1) / 2))

    bandwidth = []
    for megabytes in sizes:
        local = np.ones(megabytes * (1 << 20) // 4, dtype=np.float32)
        array = global_array(local)
        bandwidth.append(core.timed(local.nbytes, megabytes, ranks, lambda a=array: reduce_sum(a).block_until_ready()))
        del array, local

    # DDP by hand: each rank's gradient of its shard, summed across the ranks by the all-reduce.
    inputs, targets = core.problem(ranks)
    mine = core.shard(rank)
    weights = np.zeros(core.FEATURES, dtype=np.float32)
    for _ in range(core.STEPS):
        residual = inputs[mine] @ weights - targets[mine]
        total = all_reduce((inputs[mine].T @ residual).astype(np.float32)) / len(inputs)
        weights = (weights - core.LEARNING_RATE * 2 * total).astype(np.float32)

    mine_json = json.dumps(core.rank_result(rank, correct, bandwidth, core.ddp_result(inputs, targets, weights),
                                            jax.default_backend(), jax.device_count()))  # fmt: skip
    gathered = multihost_utils.process_allgather(np.frombuffer(mine_json.encode().ljust(8192), dtype=np.uint8))
    if rank == 0:
        print(json.dumps(core.report([json.loads(bytes(row).decode().strip()) for row in np.asarray(gathered)])))
    jax.distributed.shutdown()


if __name__ == "__main__":
    main()
