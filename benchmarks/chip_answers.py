"""What provision says about each real machine in the corpus: doctor's header, the variant `plan torch-linux`
chooses (or what stops it), and `fit` for Llama 3.1 70B at 4 bits. Each row replays a real output
(tests/data/fixtures/nvidia-smi and mac, with their provenance) as a facts folder, the layout
`doctor --save-facts` writes, through the installed `provision`.

    python benchmarks/chip_answers.py [--output benchmarks/results/chip-answers.md]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "data" / "fixtures"
PROVISION = str(Path(sys.executable).parent / "provision")


def linux_facts(folder: Path, smi: Path | None) -> Path:
    folder.mkdir(parents=True)
    (folder / "python.txt").write_text(json.dumps({"system": "Linux", "machine": "x86_64", "libc": ["glibc", "2.36"]}))
    (folder / "environment.txt").write_text("{}")
    (folder / "disk.txt").write_text(json.dumps({"free": 500 * 10**9}))
    (folder / "meminfo.txt").write_text("MemTotal:       263855456 kB\n")  # 252 GiB: the GPU decides, not RAM
    if smi is not None:  # a csv query is saved under its own name, as `doctor --save-facts` does
        shutil.copy(smi, folder / ("nvidia-smi-query.txt" if "csv" in smi.name else "nvidia-smi.txt"))
    return folder


def mac_facts(folder: Path, sysctl: Path) -> Path:
    folder.mkdir(parents=True)
    # The Python that saved the facts: Rosetta's and an Intel Mac's report x86_64.
    arm = "x86_64" if "rosetta" in sysctl.name or "intel" in sysctl.name else "arm64"
    (folder / "python.txt").write_text(json.dumps({"system": "Darwin", "machine": arm, "libc": ["", ""]}))
    (folder / "sysctl.txt").write_text(sysctl.read_text())
    (folder / "disk.txt").write_text(json.dumps({"free": 200 * 10**9}))
    return folder


def provision(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROVISION, "--root", str(REPO), *args], capture_output=True, text=True, timeout=120)


def first_line(text: str, starting: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.startswith(starting)), "-")


def answers(name: str, facts: Path, profile: str) -> dict[str, str]:
    doctor = provision("doctor", "--facts", str(facts))
    plan = provision("plan", profile, "--facts", str(facts), "--prefix", str(facts.parent / "env"))
    fit = provision("fit", "--model", "llama-3.1-70b", "--bits", "4", "--facts", str(facts))
    said = plan.stdout + plan.stderr
    chosen = first_line(plan.stderr, "note: variant").removeprefix("note: ")
    stop = first_line(said, "preflight:").removeprefix("preflight: ")
    return {
        "machine": name,
        "doctor": doctor.stdout.splitlines()[0] if doctor.stdout else doctor.stderr.strip()[:200],
        "plan": f"exit {plan.returncode}" + ("" if chosen == "-" else f"; {chosen}")
        + ("" if stop == "-" else f"; stop: {stop}"),
        "fit": " / ".join(" ".join(line.split()) for line in fit.stdout.splitlines()
                          if line.startswith(("need", "GPU memory", "usable", "verdict")))
        or fit.stderr.strip().splitlines()[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="chip-answers-") as tmp:
        root = Path(tmp)
        rows.append(answers("no NVIDIA driver (CPU host)", linux_facts(root / "cpu" / "facts", None), "torch-linux"))
        for smi in sorted((FIXTURES / "nvidia-smi").glob("*.txt")):
            rows.append(answers(smi.stem, linux_facts(root / smi.stem / "facts", smi), "torch-linux"))
        for sysctl in sorted((FIXTURES / "mac" / "sysctl").glob("*.txt")):
            rows.append(answers(f"mac {sysctl.stem}", mac_facts(root / sysctl.stem / "facts", sysctl), "torch-mps"))
    lines = ["| fixture | doctor (header) | plan (torch-linux; torch-mps on a Mac) | fit llama-3.1-70b at 4 bits |",
             "|---|---|---|---|"]  # fmt: skip
    for row in rows:
        cells = [row[k].replace("|", "\\|") for k in ("machine", "doctor", "plan", "fit")]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    if options.output:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
