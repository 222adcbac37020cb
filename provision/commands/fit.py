from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from ..errors import HostUnfit
from .apply_options import host_facts
from .common import json_option, print_json


def context_tokens(text: str) -> int:
    """'16k' is 16384 tokens (context sizes are powers of two), '4096' is 4096."""
    from ..machine.fit import parse_quantity

    stripped = text.strip()
    if stripped[-1:] in ("k", "K"):
        return int(parse_quantity(stripped[:-1], "--context") * 1024)
    return int(parse_quantity(stripped, "--context"))


@click.command("fit")
@click.option("--model", "model_name", help="A model from the built-in table (see --list-models).")
@click.option("--params", help="Parameter count instead of --model, e.g. 671B, 7B.")
@click.option("--bits", type=click.IntRange(1, 32), default=4, show_default=True, help="Weight bits for inference.")
@click.option("--context", default="4k", show_default=True, help="Context length for the KV cache, e.g. 16k.")
@click.option("--train", is_flag=True, help="Plan training instead of inference.")
@click.option("--tokens", default="1T", show_default=True, help="Training tokens, e.g. 2T.")
@click.option("--precision", type=click.Choice(["mixed", "fp32"]), default="mixed", show_default=True,
              help="Training: mixed (16-bit weights and gradients, fp32 master weights and Adam states) "
              "or fp32.")  # fmt: skip
@click.option("--checkpointing", is_flag=True, help="Full activation checkpointing (training).")
@click.option("--seq", type=int, default=4096, show_default=True, help="Training sequence length.")
@click.option("--batch", type=click.IntRange(1, 1 << 20), default=1, show_default=True,
              help="Training micro-batch per device.")
@click.option("--chip", help='Plan for another machine, e.g. "Apple M3 Ultra" or "H100".')
@click.option("--memory", help="Memory of that machine, e.g. 512GB (default: this machine's).")
@click.option("--facts", "facts_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Use saved host facts (provision doctor --save-facts).")  # fmt: skip
@click.option("--list-models", is_flag=True, help="Print the built-in model table and exit.")
@json_option
def command(
    model_name: str | None, params: str | None, bits: int, context: str, train: bool, tokens: str, precision: str,
    checkpointing: bool, seq: int, batch: int, chip: str | None, memory: str | None, facts_dir: Path | None,
    list_models: bool, as_json: bool,
) -> None:  # fmt: skip
    """Will this model run here, and what must change? Exit 3 when it cannot fit."""
    from ..bench.peaks import apple_peak, nvidia_peak
    from ..grammar import printable
    from ..machine.fit import (
        GIB,
        MODELS,
        cpu_fit,
        estimated_architecture,
        gpu_fit,
        inference_fit,
        parse_quantity,
        training_fit,
    )

    if list_models:
        for spec in MODELS.values():
            click.echo(f"{spec.name:<16} {spec.params / 1e9:6.1f}B  {spec.source}")
        return
    if bool(model_name) == bool(params):
        raise click.UsageError("give --model NAME or --params COUNT (one of them)")
    if model_name and model_name not in MODELS:
        raise click.UsageError(f"unknown model {model_name!r}; known: {', '.join(MODELS)}")
    spec = MODELS[model_name] if model_name else estimated_architecture(parse_quantity(params or "", "--params"))
    machine = _machine(chip, memory, facts_dir)
    memory_bytes, chip_name = machine.memory_bytes, machine.name
    wired = machine.wired_limit_mb
    if train:
        peak = apple_peak(chip_name) or nvidia_peak(chip_name)
        dtype = "float32" if precision == "fp32" else "bfloat16"
        tflops = (peak.tflops.get(dtype) or peak.tflops.get("float32")) if peak else None
        result = training_fit(spec, parse_quantity(tokens, "--tokens"), precision, checkpointing, seq, batch,
                              memory_bytes, tflops, peak.source if peak else "")  # fmt: skip
        lines, ok = result.lines, result.fits
        summary: dict[str, object] = {"memory_needed_bytes": result.memory_bytes_needed, "fits": ok}
    else:
        tokens_of_context = context_tokens(context)
        if machine.kind == "cuda":
            fit = gpu_fit(spec, bits, tokens_of_context, machine.gpu_bytes, machine.gpu_names)
        elif machine.kind == "cpu":
            fit = cpu_fit(spec, bits, tokens_of_context, memory_bytes)
        else:
            fit = inference_fit(spec, bits, tokens_of_context, memory_bytes, wired)
        lines, ok = fit.lines, fit.verdict != "does not fit"
        summary = {"verdict": fit.verdict, "need_bytes": fit.need_bytes, "gpu_limit_bytes": fit.ceiling_bytes,
                   "suggested_wired_limit_mb": fit.suggested_limit_mb}  # fmt: skip
    if as_json:
        print_json({**summary, "explanation": lines})
    else:
        click.echo(
            f"machine    {printable(chip_name or 'this machine')} ({machine.kind_words}), {memory_bytes / GIB:.0f} GiB "
            f"({memory_bytes / 1e9:.1f} GB) of {machine.memory_words} memory"
        )
        click.echo("\n".join(printable(line) for line in lines))  # GPU names may come from a facts folder
    if not ok:
        raise HostUnfit(f"{spec.name} does not fit on this machine; see the explanation above.")


@dataclass(frozen=True)
class Machine:
    """The machine a fit is for, and which memory model applies: unified (Apple silicon), the GPUs'
    own (a CUDA machine), or system memory (a CPU-only machine)."""

    kind: str  # "apple", "cuda" or "cpu"
    name: str | None
    memory_bytes: float
    wired_limit_mb: int | None = None
    gpu_bytes: list[float] = field(default_factory=list)
    gpu_names: str = ""
    memory_words: str = "system"  # what memory_bytes is: "unified", "system", or "GPU" (a chip planned for)

    @property
    def kind_words(self) -> str:
        return {"apple": "Apple silicon, unified memory", "cuda": "NVIDIA GPUs", "cpu": "no GPU"}[self.kind]


def _machine(chip: str | None, memory: str | None, facts_dir: Path | None) -> Machine:
    from ..bench.peaks import chips
    from ..machine.fit import GIB, parse_memory

    if chip:
        apple = next((c for c in chips()["apple"] if c["chip"].lower() == chip.strip().lower()), None)
        wanted = chip.strip().lower()
        known = [(e, [n.lower() for n in [e["name"], *e.get("name_patterns", [])]]) for e in chips()["nvidia"]]
        # A model name as people write it ("H100", "A100 80GB"): a whole word of the table's names, never one letter.
        words = set(wanted.split())
        nvidia = next((e for e, spelled in known if len(wanted) >= 3 and any(
            n in wanted or (wanted in n and words <= set(n.split())) for n in spelled)), None)  # fmt: skip
        if apple is not None:
            if not memory:  # this host's memory says nothing about another machine
                raise click.UsageError(f"--chip {chip!r} needs --memory: the {apple['chip']} comes with up to "
                                       f"{apple['max_memory_gb']} GB of unified memory; give the one planned for, "
                                       "e.g. --memory 192GB")  # fmt: skip
            return Machine("apple", apple["chip"], parse_memory(memory), memory_words="unified")
        if nvidia is not None:
            # The datasheet's "80GB" is binary, as parse_memory reads "80GB" (nvidia-smi: 81559 MiB).
            per_gpu = float(nvidia["memory_gb"]) * GIB if nvidia.get("memory_gb") else None
            total = parse_memory(memory) if memory else per_gpu
            if not total:
                raise click.UsageError(f"--chip {chip!r}: its memory is not in the table; give --memory")
            if per_gpu and total > 1024 * per_gpu:
                raise click.UsageError(f"--memory {memory}: more than 1,024 of {nvidia['name']}; give the GPUs' total")
            count = max(1, round(total / per_gpu)) if per_gpu else 1
            return Machine("cuda", nvidia["name"], total, gpu_bytes=[total / count] * count, gpu_names=nvidia["name"],
                           memory_words="GPU")  # fmt: skip
        raise click.UsageError(f"--chip {chip!r} is not in the chips table; give an Apple or NVIDIA chip name")
    host = host_facts(facts_dir)
    if memory:
        memory_bytes = parse_memory(memory)
    elif host.memory_bytes:
        memory_bytes = float(host.memory_bytes)
    else:
        raise click.UsageError("this machine's memory is unknown; give --memory, e.g. 64GB")
    if host.apple_silicon:
        return Machine("apple", host.chip, memory_bytes, host.wired_limit_mb, memory_words="unified")
    sized = [g for g in host.gpus if g.memory_mib]
    if sized:
        names = ", ".join(sorted({g.name for g in sized}))
        return Machine("cuda", names, memory_bytes, gpu_bytes=[g.memory_mib * 2**20 for g in sized if g.memory_mib],
                       gpu_names=names)  # fmt: skip
    return Machine("cpu", host.cpu_model or host.chip, memory_bytes)
