"""Distributed acceptance for PyTorch, the same three checks and the same JSON as dist_jax.py, through
torch.distributed: NCCL between GPUs, gloo over TCP on CPUs; the data-parallel step is torch's own
DistributedDataParallel. Standard library, numpy and torch only. Arguments: COORDINATOR RANKS RANK SIZES_MB
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _distcore as core  # beside this script: it runs as a file, not as a package


def main() -> None:
    coordinator, ranks, rank, sizes = core.arguments()
    import torch
    import torch.distributed as dist

    cuda = torch.cuda.is_available()
    device = torch.device("cuda", int(os.environ.get("SLURM_LOCALID", "0"))) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo", init_method=f"tcp://{coordinator}", world_size=ranks,
                            rank=rank)  # fmt: skip

    def all_reduce(tensor: torch.Tensor) -> None:
        dist.all_reduce(tensor)
        if cuda:
            torch.cuda.synchronize(device)

    summed = torch.full((1 << 20,), float(rank + 1), device=device)
    all_reduce(summed)
    correct = bool(torch.all(summed == ranks * (ranks + 1) / 2).item())

    bandwidth = []
    for megabytes in sizes:
        tensor = torch.ones(megabytes * (1 << 20) // 4, dtype=torch.float32, device=device)
        bandwidth.append(core.timed(tensor.numel() * 4, megabytes, ranks, lambda t=tensor: all_reduce(t)))
        del tensor

    # DDP: torch's own DistributedDataParallel averages the gradients, which for equal shards is the
    # gradient of the whole batch.
    inputs, targets = core.problem(ranks)
    mine = core.shard(rank)
    model = torch.nn.Linear(core.FEATURES, 1, bias=False).to(device)
    torch.nn.init.zeros_(model.weight)
    parallel = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None)
    optimizer = torch.optim.SGD(parallel.parameters(), lr=core.LEARNING_RATE)
    x, y = torch.from_numpy(inputs[mine]).to(device), torch.from_numpy(targets[mine]).to(device)
    for _ in range(core.STEPS):
        optimizer.zero_grad()
        torch.mean((parallel(x).squeeze(1) - y) ** 2).backward()
        optimizer.step()
    ddp = core.ddp_result(inputs, targets, model.weight.detach().cpu().numpy())

    gathered: list[object] = [None] * ranks
    dist.all_gather_object(gathered, core.rank_result(rank, correct, bandwidth, ddp, "cuda" if cuda else "cpu", ranks))
    if rank == 0:
        print(json.dumps(core.report(gathered)), flush=True)
    dist.barrier()
    # Every rank has its result; leave without running gloo's C++ teardown, whose threads can abort the
    # process at exit ("terminate called without an active exception") when the ranks leave at once.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
