from __future__ import annotations

from pathlib import Path

import click

from ..errors import HostUnfit
from .apply_options import host_facts
from .common import json_option, print_json


def context_tokens(text: str) -> int:
    """'16k' is 16384 tokens (context sizes are powers of two), '4096' is 4096."""
    from ..fit import parse_quantity

    stripped = text.strip()
    if stripped[-1:] in ("k", "K"):
        return int(parse_quantity(stripped[:-1], "--context") * 1024)
    return int(parse_quantity(stripped, "--context"))


@click.command("fit")
@click.option("--model", "model_name", help="A model from the built-in table (see --list-models).")
@click.option("--params", help="Parameter count instead of --model, e.g. 671B, 7B.")
@click.option("--bits", type=int, default=4, show_default=True, help="Weight bits for inference.")
@click.option("--context", default="4k", show_default=True, help="Context length for the KV cache, e.g. 16k.")
@click.option("--train", is_flag=True, help="Plan training instead of inference.")
@click.option("--tokens", default="1T", show_default=True, help="Training tokens, e.g. 2T.")
@click.option("--precision", type=click.Choice(["mixed", "fp32"]), default="mixed", show_default=True)
@click.option("--checkpointing", is_flag=True, help="Full activation checkpointing (training).")
@click.option("--seq", type=int, default=4096, show_default=True, help="Training sequence length.")
@click.option("--batch", type=int, default=1, show_default=True, help="Training micro-batch per device.")
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
    from ..fit import GIB, MODELS, estimated_architecture, inference_fit, parse_memory, parse_quantity, training_fit

    if list_models:
        for spec in MODELS.values():
            click.echo(f"{spec.name:<16} {spec.params / 1e9:6.1f}B  {spec.source}")
        return
    if bool(model_name) == bool(params):
        raise click.UsageError("give --model NAME or --params COUNT (one of them)")
    if model_name and model_name not in MODELS:
        raise click.UsageError(f"unknown model {model_name!r}; known: {', '.join(MODELS)}")
    spec = MODELS[model_name] if model_name else estimated_architecture(parse_quantity(params or "", "--params"))
    host = host_facts(facts_dir) if not (chip and memory) else None
    memory_bytes = parse_memory(memory) if memory else (host.memory_bytes if host else None)
    if not memory_bytes:
        raise click.UsageError("this machine's memory is unknown; give --memory, e.g. 64GB")
    chip_name = chip or (host.chip if host else None)
    wired = host.wired_limit_mb if host and not chip else None
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
        fit = inference_fit(spec, bits, tokens_of_context, memory_bytes, wired)
        lines, ok = fit.lines, fit.verdict != "does not fit"
        summary = {"verdict": fit.verdict, "need_bytes": fit.need_bytes, "gpu_limit_bytes": fit.ceiling_bytes,
                   "suggested_wired_limit_mb": fit.suggested_limit_mb}  # fmt: skip
    if as_json:
        print_json({**summary, "explanation": lines})
    else:
        click.echo(
            f"machine    {chip_name or 'this machine'}, {memory_bytes / GIB:.0f} GiB ({memory_bytes / 1e9:.1f} GB)"
        )
        click.echo("\n".join(lines))
    if not ok:
        raise HostUnfit(f"{spec.name} does not fit on this machine; see the explanation above.")
