"""Distributed acceptance for PyTorch, the same three checks and the same JSON as dist_jax.py, through
torch.distributed: NCCL between GPUs, gloo over TCP on CPUs; the data-parallel step is torch's own
DistributedDataParallel. Standard library, numpy and torch only. Arguments: COORDINATOR RANKS RANK SIZES_MB
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
    import numpy as np
    import torch
    import torch.distributed as dist

    cuda = torch.cuda.is_available()
    device = torch.device("cuda", int(os.environ.get("SLURM_LOCALID", "0"))) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo", init_method=f"tcp://{coordinator}", world_size=ranks,
                            rank=rank)  # fmt: skip

    def synchronize() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    expected = ranks * (ranks + 1) / 2
    summed = torch.full((1 << 20,), float(rank + 1), device=device)
    dist.all_reduce(summed)
    correct = bool(torch.all(summed == expected).item())

    bandwidth = []
    for megabytes in sizes:
        tensor = torch.ones(megabytes * (1 << 20) // 4, dtype=torch.float32, device=device)
        dist.all_reduce(tensor)  # warmed once
        synchronize()
        repeats = 5 if megabytes <= 16 else 2
        started = time.perf_counter()
        for _ in range(repeats):
            dist.all_reduce(tensor)
        synchronize()
        seconds = (time.perf_counter() - started) / repeats
        nbytes = tensor.numel() * 4
        algbw = nbytes / seconds / 1e9
        bandwidth.append({"bytes": nbytes, "seconds": seconds, "algbw_gbs": algbw,
                          "busbw_gbs": algbw * 2 * (ranks - 1) / ranks})  # fmt: skip
        del tensor

    # DDP: a linear model, mean-squared error; each rank holds PER_RANK rows of the batch; DDP averages
    # the gradients, which for equal shards is the gradient of the whole batch.
    generator = np.random.default_rng(0)
    inputs = generator.standard_normal((ranks * PER_RANK, FEATURES)).astype(np.float32)
    truth = generator.standard_normal(FEATURES).astype(np.float32)
    targets = inputs @ truth + 0.01 * generator.standard_normal(ranks * PER_RANK).astype(np.float32)
    mine = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
    model = torch.nn.Linear(FEATURES, 1, bias=False).to(device)
    torch.nn.init.zeros_(model.weight)
    parallel = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None)
    optimizer = torch.optim.SGD(parallel.parameters(), lr=0.1)
    x, y = torch.from_numpy(inputs[mine]).to(device), torch.from_numpy(targets[mine]).to(device)
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = torch.mean((parallel(x).squeeze(1) - y) ** 2)
        loss.backward()
        optimizer.step()
    weights = model.weight.detach().cpu().numpy().astype(np.float64).ravel()
    reference = np.zeros(FEATURES, dtype=np.float64)
    for _ in range(STEPS):
        whole = inputs.astype(np.float64) @ reference - targets
        reference = reference - 0.1 * 2 * (inputs.astype(np.float64).T @ whole) / (ranks * PER_RANK)
    final = float(np.mean((inputs @ weights - targets) ** 2))
    reference_loss = float(np.mean((inputs.astype(np.float64) @ reference - targets) ** 2))
    difference = abs(final - reference_loss) / max(abs(reference_loss), 1e-12)

    mine_result = {
        "rank": rank, "node": os.environ.get("SLURMD_NODENAME") or os.uname().nodename, "correct": correct,
        "bandwidth": bandwidth, "ddp": {"loss": final, "reference": reference_loss, "difference": difference},
        "backend": "cuda" if cuda else "cpu", "devices": ranks,
    }  # fmt: skip
    gathered: list[object] = [None] * ranks
    dist.all_gather_object(gathered, mine_result)
    if rank == 0:
        print(json.dumps({"ranks": gathered, "tolerance": TOLERANCE, "steps": STEPS}), flush=True)
    dist.barrier()
    # Every rank has its result; leave without running gloo's C++ teardown, whose threads can abort the
    # process at exit ("terminate called without an active exception") when the ranks leave at once.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
