"""Will a model run here, and what must change? Pure arithmetic over stated assumptions.

Every figure the command prints comes with how it was computed, so a user can disagree
with an assumption rather than with a number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..errors import ProvisionError

GB = 1e9
GIB = 2**30
MIB = 2**20
QUANT_OVERHEAD_BITS = 0.5  # one fp16 scale + one fp16 bias per group of 64 weights: 32/64 bit per weight
OS_RESERVE = 8 * GB  # what macOS itself needs; a wired limit above RAM - this starves the system
ASSUMED_MFU = 0.4  # model FLOPs utilisation for the "realistic" training time


@dataclass(frozen=True)
class ModelSpec:
    name: str
    params: float
    layers: int
    hidden: int
    heads: int
    kv_bytes_per_token_fp16: float  # K and V for every layer, per token of context
    quantized_bytes: dict[int, float] = field(default_factory=dict)  # bits -> published size
    source: str = ""


def _gqa(layers: int, kv_heads: int, head_dim: int) -> float:
    return 2 * layers * kv_heads * head_dim * 2


# Architectures from each model's published config.json on Hugging Face; sizes as cited.
MODELS = {
    m.name: m
    for m in (
        ModelSpec("deepseek-r1", 671e9, 61, 7168, 128, 61 * (512 + 64) * 2, {4: 404 * GB},
                  "DeepSeek-V3/R1 config.json (61 layers, MLA kv_lora_rank 512 + rope 64); 4-bit size ~404 GB "
                  "(wccftech.com/m3-ultra-chip-handles-deepseek-r1-model-with-671-billion-parameters)"),
        ModelSpec("llama-3.1-8b", 8.03e9, 32, 4096, 32, _gqa(32, 8, 128), {},
                  "meta-llama/Llama-3.1-8B config.json (32 layers, 8 KV heads x 128)"),
        ModelSpec("llama-3.1-70b", 70.6e9, 80, 8192, 64, _gqa(80, 8, 128), {},
                  "meta-llama/Llama-3.1-70B config.json (80 layers, 8 KV heads x 128)"),
        ModelSpec("mistral-7b", 7.24e9, 32, 4096, 32, _gqa(32, 8, 128), {},
                  "mistralai/Mistral-7B-v0.1 config.json (32 layers, 8 KV heads x 128)"),
        ModelSpec("qwen2.5-7b", 7.62e9, 28, 3584, 28, _gqa(28, 4, 128), {},
                  "Qwen/Qwen2.5-7B config.json (28 layers, 4 KV heads x 128)"),
    )
}  # fmt: skip


def parse_quantity(text: str, what: str) -> float:
    """'671B', '2T', '16k', '512GB', '70e9' -> a number (GB and TB are decimal)."""
    match = re.fullmatch(r"\s*([\d.]+(?:e\d+)?)\s*([kKmMbBtT]|GB|TB|GiB|TiB)?\s*", text)
    if not match:
        raise ProvisionError(f"{what} {text!r}: write a number with an optional unit, e.g. 671B, 16k, 512GB.")
    scale = {None: 1, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "b": 1e9, "B": 1e9, "t": 1e12, "T": 1e12,
             "GB": GB, "TB": 1e12, "GiB": GIB, "TiB": 2**40}[match.group(2)]  # fmt: skip
    try:
        value = float(match.group(1)) * scale
    except (ValueError, OverflowError):
        value = math.nan
    # A quantity is a positive, finite number of at most 1e18 (no machine or model is larger).
    if not (0 < value <= 1e18 * scale):
        raise ProvisionError(f"{what} {text!r}: write a positive number with an optional unit, e.g. 671B, 16k, 512GB.")
    return value


def parse_memory(text: str) -> float:
    """A machine's memory in bytes. GB and TB here mean what Apple and every RAM vendor mean on the
    box: binary units (a "64GB" Mac has 64 GiB), so 64GB and 64GiB are the same figure."""
    stripped = text.strip()
    for unit, scale in (("TB", 2**40), ("GB", GIB), ("TiB", 2**40), ("GiB", GIB)):
        if stripped.endswith(unit):
            return parse_quantity(stripped[: -len(unit)], "--memory") * scale
    raise ProvisionError(f"--memory {text!r}: give a size with its unit, e.g. 64GB (binary, as sold) or 64GiB.")


def estimated_architecture(params: float) -> ModelSpec:
    """A dense decoder of `params`: N ~ 12 L d^2 with d/L ~ 128 (the usual aspect ratio), 8:1 GQA.
    Checked against Llama-3.1-70B: 72 layers, d = 9070, 323 kB of KV per token (real: 80, 8192, 328 kB)."""
    hidden = (params * 128 / 12) ** (1 / 3)
    layers = max(1, round(hidden / 128))
    return ModelSpec(f"{params / 1e9:g}B (estimated architecture)", params, layers, int(hidden),
                     max(1, int(hidden / 128)), 2 * layers * (hidden / 8) * 2)  # fmt: skip


def default_gpu_ceiling(memory_bytes: float) -> tuple[float, str]:
    """macOS's default GPU working set when it cannot be read on the host (planning another machine).

    Conservative: 2/3 up to 16 GiB, 3/4 above (the "2/3 or 3/4" rule: chigkim/prompt-test README,
    gpustack/gpustack#1375). Observed values run higher on big machines (81-84 % in MLX device_info
    dumps), yet a 512 GB M3 Ultra still needed its limit raised for DeepSeek-R1 at 4 bits
    (wccftech, Dave Lee's run), so the planner errs low and says so."""
    fraction = 2 / 3 if memory_bytes / GIB <= 16 else 0.75
    return memory_bytes * fraction, f"estimated default ~{fraction:.0%} of memory (observed 67-84 %, reference §7.1)"


@dataclass
class Fit:
    verdict: str  # "fits", "fits with a raised wired limit", "does not fit"
    lines: list[str]
    need_bytes: float
    ceiling_bytes: float
    suggested_limit_mb: int | None = None


def _need(model: ModelSpec, bits: int, context: int) -> tuple[list[str], float]:
    """What running `model` at `bits` needs, line by line, in decimal GB (10^9 bytes)."""
    effective = bits + (QUANT_OVERHEAD_BITS if bits < 16 else 0)
    formula = model.params * effective / 8
    formula_how = f"{model.params / 1e9:g}B params x {effective:g} bits" + (
        f" ({bits} + {QUANT_OVERHEAD_BITS} for group scales)" if bits < 16 else ""
    )
    extra = []
    if bits in model.quantized_bytes:
        weights, how = model.quantized_bytes[bits], f"published {bits}-bit size"
        # --params gives the formula's figure; a published file differs (embeddings and some layers
        # are kept at higher precision), so say both and why rather than two silent answers.
        extra = [f"           (--params would estimate {formula / GB:.1f} GB = {formula_how}; the published file "
                 "keeps some layers at higher precision)"]  # fmt: skip
    else:
        weights, how = formula, formula_how
    kv = model.kv_bytes_per_token_fp16 * context
    overhead = max(1 * GB, 0.05 * weights)
    need = weights + kv + overhead
    lines = [
        f"model      {model.name}" + (f" ({model.source})" if model.source else ""),
        f"weights    {weights / GB:8.1f} GB  = {how}",
        *extra,
        f"KV cache   {kv / GB:8.1f} GB  = {context} tokens x {model.kv_bytes_per_token_fp16 / 1e3:.1f} kB/token (fp16)",
        f"overhead   {overhead / GB:8.1f} GB  = max(1 GB, 5 % of weights): runtime buffers, activations",
        f"need       {need / GB:8.1f} GB  (GB = 10^9 bytes throughout)",
    ]
    return lines, need


CUDA_RESERVE = 0.05  # of each GPU's memory: the CUDA context and the allocator's fragmentation
CPU_RESERVE = 2 * GB  # what a Linux system keeps for itself beside a CPU inference run


def gpu_fit(model: ModelSpec, bits: int, context: int, gpu_bytes: list[float], names: str) -> Fit:
    """A CUDA machine: the model must fit in the GPUs' own memory (split across them), not the system's."""
    lines, need = _need(model, bits, context)
    total = sum(gpu_bytes)
    ceiling = total * (1 - CUDA_RESERVE)
    same = len(set(gpu_bytes)) == 1
    count = f"{len(gpu_bytes)} x {gpu_bytes[0] / GB:.1f} GB" if same else "+".join(f"{b / GB:.1f}" for b in gpu_bytes)
    lines += [
        f"GPU memory {total / GB:8.1f} GB  = {count} ({names})",
        f"usable     {ceiling / GB:8.1f} GB  (minus {CUDA_RESERVE:.0%} for the CUDA context and allocator)",
    ]
    if need <= ceiling:
        one = ceiling / len(gpu_bytes)
        split = " (split across the GPUs: tensor or pipeline parallel)" if len(gpu_bytes) > 1 and need > one else ""
        return Fit("fits", [*lines, f"verdict    fits in GPU memory{split}"], need, ceiling)
    lines.append(f"verdict    does not fit: needs {need / GB:.1f} GB of GPU memory; use fewer bits, a smaller model, "
                 "or more GPUs")  # fmt: skip
    return Fit("does not fit", lines, need, ceiling)


def cpu_fit(model: ModelSpec, bits: int, context: int, memory_bytes: float) -> Fit:
    """A machine with no GPU: the model runs from system memory on the CPU."""
    lines, need = _need(model, bits, context)
    ceiling = memory_bytes - CPU_RESERVE
    lines += [f"memory     {memory_bytes / GB:8.1f} GB  system memory (no GPU here: the model runs on the CPU)",
              f"usable     {ceiling / GB:8.1f} GB  (minus {CPU_RESERVE / GB:.0f} GB for the system)"]  # fmt: skip
    if need <= ceiling:
        return Fit("fits", [*lines, "verdict    fits in system memory (CPU inference is slow: expect a few tokens/s)"],
                   need, ceiling)  # fmt: skip
    lines.append(f"verdict    does not fit: needs {need / GB:.1f} GB; use fewer bits, a smaller model, or more memory")
    return Fit("does not fit", lines, need, ceiling)


def inference_fit(model: ModelSpec, bits: int, context: int, memory_bytes: float, wired_limit_mb: int | None) -> Fit:
    """Apple silicon: the GPU uses unified memory up to the wired limit (macOS's default, or the one set)."""
    lines, need = _need(model, bits, context)
    if wired_limit_mb:
        ceiling, ceiling_how = float(wired_limit_mb * MIB), f"iogpu.wired_limit_mb = {wired_limit_mb} MiB"
    else:
        ceiling, ceiling_how = default_gpu_ceiling(memory_bytes)
    lines += [
        f"memory     {memory_bytes / GB:8.1f} GB unified",
        f"GPU limit  {ceiling / GB:8.1f} GB  ({ceiling_how})",
    ]
    usable = memory_bytes - OS_RESERVE
    if need <= ceiling:
        return Fit("fits", [*lines, "verdict    fits within the GPU limit as it is"], need, ceiling)
    if need > usable:
        lines.append(
            f"verdict    does not fit: needs {need / GB:.1f} GB, and no wired limit can go above "
            f"{usable / GB:.1f} GB (memory minus {OS_RESERVE / GB:.0f} GB for macOS); use fewer bits, "
            "a smaller model, or a machine with more memory"
        )
        return Fit("does not fit", lines, need, ceiling)
    suggested = min(need * 1.05, usable)  # 5 % headroom over the estimate, never into the OS reserve
    limit_mb = math.ceil(suggested / MIB)
    lines += [
        f"verdict    fits only with a raised GPU wired limit (~{suggested / GB:.0f} GB):",
        f"           sudo sysctl iogpu.wired_limit_mb={limit_mb}   (the value is in MiB, 2^20 bytes)",
        "           This resets at reboot (persisting it needs a LaunchDaemon or /etc/sysctl.conf).",
        "           Risk: wired memory cannot be paged out; on small Macs keep it near model size + 4 GB,",
        "           or the system can freeze (exo PR #1672). Undo: sudo sysctl iogpu.wired_limit_mb=0",
    ]
    return Fit("fits with a raised wired limit", lines, need, ceiling, limit_mb)


@dataclass
class TrainingFit:
    lines: list[str]
    memory_bytes_needed: float
    fits: bool


def training_fit(
    model: ModelSpec, tokens: float, precision: str, checkpointing: bool, seq: int, batch: int,
    memory_bytes: float, peak_tflops: float | None, peak_source: str,
) -> TrainingFit:  # fmt: skip
    # Adam model states (ZeRO paper, arXiv 1910.02054): mixed = fp16 weights 2 + grads 2 + fp32 master 4 +
    # moments 8 = 16 bytes/param; fp32 = weights 4 + grads 4 + moments 8 = 16 bytes/param.
    per_param = 16
    states = model.params * per_param
    s, b, h, a, layers = seq, batch, model.hidden, model.heads, model.layers
    # Activations per layer, 16-bit, no recomputation: s b h (34 + 5 a s / h) bytes (Korthikanti et al. 2022);
    # with full checkpointing only each layer's input (2 s b h) is kept, plus one layer during recompute.
    full_layer = s * b * h * (34 + 5 * a * s / h) * (2 if precision == "fp32" else 1)
    activations = layers * 2 * s * b * h + full_layer if checkpointing else layers * full_layer
    need = states + activations
    flops = 6 * model.params * tokens
    lines = [
        f"model            {model.name}",
        f"model states     {states / GB:10.1f} GB = {model.params / 1e9:g}B params x {per_param} bytes "
        f"(Adam, {precision}: weights, gradients, optimizer moments)",
        f"activations      {activations / GB:10.1f} GB = {layers} layers, seq {s}, batch {b}, hidden {h}, heads {a}"
        + (" with full activation checkpointing" if checkpointing else " (no checkpointing)"),
        f"memory needed    {need / GB:10.1f} GB; this machine has {memory_bytes / GB:.1f} GB",
        f"compute          {flops:.3g} FLOPs = 6 x {model.params:.3g} params x {tokens:.3g} tokens",
    ]
    if peak_tflops:
        at_peak = flops / (peak_tflops * 1e12)
        realistic = at_peak / ASSUMED_MFU
        lines.append(f"time at peak     {_duration(at_peak)} at {peak_tflops:g} TFLOPS ({peak_source})")
        lines.append(f"time, realistic  {_duration(realistic)} at {ASSUMED_MFU:.0%} model FLOPs utilisation")
    else:
        lines.append("time             unknown: no peak for this device (give --chip)")
    fits = need <= memory_bytes - OS_RESERVE
    advice = "does not fit in memory: shard across machines (FSDP/ZeRO), use checkpointing, or a smaller model"
    lines.append("verdict          " + ("fits in memory" if fits else advice))
    return TrainingFit(lines, need, fits)


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.1f} s"
