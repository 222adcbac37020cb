"""`export --format cyclonedx`: a CycloneDX 1.6 SBOM of one platform of a lock, for a security review's
"what is in this environment". Written with cyclonedx-python-lib (the CycloneDX project's own library),
an optional dependency: `pip install 'provision[sbom]'`.

Each locked package is a component with its package URL (purl spec: `pkg:conda/NAME@VERSION?build=&channel=
&subdir=&type=`, `pkg:pypi/NAME@VERSION`), its hashes and its download URL; the lock's dependency edges
become the SBOM's dependency graph. The serial number is derived from the lock's hash, so the same lock
gives the same document apart from its timestamp.
"""

from __future__ import annotations

import uuid
from typing import Any

from .. import __version__
from ..errors import ProvisionError
from ..lock.records import LockedPackage
from .deptree import roots


def cyclonedx(packages: list[LockedPackage], platform: str, label: str, lock_sha256: str) -> str:
    try:
        from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, XsUri
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.output.json import JsonV1Dot6
    except ImportError:
        raise ProvisionError("--format cyclonedx needs cyclonedx-python-lib: pip install 'provision[sbom]'") from None

    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"provision-lock:{lock_sha256}:{platform}"))
    environment = Component(name=label, version=lock_sha256[:12], type=ComponentType.APPLICATION,
                            bom_ref=f"environment:{label}:{platform}",
                            description=f"the environment locked for {platform}")  # fmt: skip
    bom.metadata.component = environment
    bom.metadata.tools.components.add(Component(name="provision", version=__version__, type=ComponentType.APPLICATION))
    components: dict[str, Any] = {}
    for package in packages:
        purl = package_url(package, platform)
        hashes = [HashType(alg=HashAlgorithm.SHA_256, content=package.sha256)] if package.sha256 else []
        hashes += [HashType(alg=HashAlgorithm.MD5, content=package.md5)] if package.md5 else []
        component = Component(
            name=package.name, version=package.version, type=ComponentType.LIBRARY, purl=purl, bom_ref=str(purl),
            hashes=hashes, external_references=[ExternalReference(type=ExternalReferenceType.DISTRIBUTION,
                                                                  url=XsUri(package.url))],
        )  # fmt: skip
        components[package.name] = component
        bom.components.add(component)
    for package in packages:
        needed = [components[name] for name in package.dependencies if name in components and name != package.name]
        bom.register_dependency(components[package.name], needed)
    # The environment depends on what nothing else in it needs: the graph is complete from its root.
    bom.register_dependency(environment, [components[name] for name in roots(packages) if name in components])
    text: str = JsonV1Dot6(bom).output_as_string(indent=2)
    return text + "\n"


def package_url(package: LockedPackage, platform: str) -> Any:
    from packageurl import PackageURL

    if package.manager == "pip":
        return PackageURL(type="pypi", name=package.name.lower(), version=package.version)
    channel, subdir = _channel_and_subdir(package.url, platform)
    archive = "conda" if package.file_name.endswith(".conda") else "tar.bz2"
    qualifiers = {"build": package.build or "", "channel": channel, "subdir": subdir, "type": archive}
    return PackageURL(type="conda", name=package.name, version=package.version,
                      qualifiers={k: v for k, v in qualifiers.items() if v})  # fmt: skip


def _channel_and_subdir(url: str, platform: str) -> tuple[str, str]:
    """`https://conda.anaconda.org/conda-forge/linux-64/x.conda` -> ('conda-forge', 'linux-64')."""
    parts = url.split("/")
    if len(parts) >= 3 and parts[-2] in (platform, "noarch"):
        return parts[-3], parts[-2]
    return "", platform
