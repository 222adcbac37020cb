#!/usr/bin/env bash
# The CUDA acceptance check, for a machine with an NVIDIA GPU (at most about five minutes):
# `provision bench` for torch and jax on --device cuda with an interpreter that already has CUDA
# builds of both, printing fp32, tf32, bf16 TFLOPS, the fraction of the chip's peak, the architecture
# check (the GPU's sm_XY among the ones torch was built for) and the verdict.
#   bash benchmarks/cuda_check.sh [PYTHON]        (default: python3)
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${1:-python3}"
# provision itself runs from this checkout with whatever interpreter has its dependencies;
# the benchmark scripts run with $PY, the environment under test.
RUNNER="${PROVISION_RUNNER:-$PY}"
status=0
for framework in torch jax; do
  echo "== $framework on cuda with $PY"
  PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" timeout 240 "$RUNNER" -c 'import sys; from provision.cli import main; main(sys.argv[1:])' \
    bench --python "$(command -v "$PY")" --framework "$framework" --device cuda --json > "/tmp/cuda-$framework.json"
  rc=$?
  [ $rc -eq 0 ] || status=$rc
  "$RUNNER" - "/tmp/cuda-$framework.json" <<'PY'
import json, sys
try:
    result = json.load(open(sys.argv[1]))
except (OSError, ValueError) as exc:
    print(f"   no result ({exc})"); sys.exit(0)
doc, peak = result["document"], (result.get("peak") or {}).get("tflops", {})
print(f"   device: {result.get('device_name')}  verdict: {result['verdict']}")
for dtype in ("float32", "tf32", "bfloat16", "float16"):
    rows = [r for r in doc.get("throughput", []) if r["device"] == result["device"] and r["dtype"] == dtype]
    if rows:
        best = max(rows, key=lambda r: r["tflops"])
        of = f" = {best['tflops'] / peak[dtype]:.0%} of {peak[dtype]:g}" if dtype in peak else ""
        print(f"   {dtype:>9}: {best['tflops']:.1f} TFLOPS at n={best['n']}{of}")
for gate in result["gates"]:
    print(f"   gate {gate['name']}: {gate['status']} {gate['reason']}")
PY
done
exit $status
