"""`export --format cyclonedx`: a CycloneDX 1.6 SBOM validated by the CycloneDX library's own JSON-schema
validator, and compared with each lock read independently (PyYAML): every package, version and sha256."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

CASES = [("torch-linux", "cuda", "linux-64"), ("torch-mps", None, "osx-arm64"), ("linux-cpu", None, "linux-64")]


@pytest.mark.parametrize(("profile", "variant", "platform"), CASES)
def test_the_sbom_is_valid_cyclonedx_and_holds_exactly_the_lock(profile: str, variant: str | None, platform: str,
                                                                tmp_path: Path, run_cli) -> None:  # fmt: skip
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    args = ["--root", str(REPO), "export", profile, "--format", "cyclonedx", "--platform", platform,
            "--output", str(tmp_path), *(["--variant", variant] if variant else [])]  # fmt: skip
    done = run_cli(*args)
    assert done.code == 0, done.err
    text = (tmp_path / f"sbom-{platform}.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    document = json.loads(text)
    assert document["specVersion"] == "1.6"
    lock = yaml.safe_load((REPO / "envs" / profile / (variant or "") / "conda-lock.yml").read_text())
    locked = {(p["name"], p["version"], p["hash"]["sha256"], p["manager"])
              for p in lock["package"] if p["platform"] == platform}  # fmt: skip
    components = document["components"]
    found = {(c["name"], c["version"], next(h["content"] for h in c["hashes"] if h["alg"] == "SHA-256"),
              "conda" if c["purl"].startswith("pkg:conda/") else "pip") for c in components}  # fmt: skip
    assert found == locked and len(components) == len(locked)
    refs = {c["bom-ref"] for c in components}
    assert all(set(d.get("dependsOn", [])) <= refs for d in document["dependencies"])
    if any(m == "conda" for *_, m in locked):
        assert any(d.get("dependsOn") for d in document["dependencies"])  # the lock's edges are the graph
