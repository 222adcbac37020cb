"""Project settings from `provision.yaml` at the project root (optional).

mirrors:                      # channel -> folder (relative to the project) or URL
  conda-forge: ../mirror/conda-forge
"""

from __future__ import annotations

from .errors import ProfileError
from .lock.mirrors import Mirrors, parse_mirrors
from .project import Project
from .yamlsrc import load_yaml

CONFIG_NAME = "provision.yaml"


def project_mirrors(project: Project, cli_values: tuple[str, ...]) -> Mirrors:
    """Mirrors from the config file, overridden channel by channel by `--mirror`."""
    path = project.root / CONFIG_NAME
    from_file = Mirrors({})
    if path.is_file():
        doc = load_yaml(path, project.relative(path))
        data = doc.data or {}
        unknown = sorted(set(data) - {"mirrors"}) if isinstance(data, dict) else ["(not a mapping)"]
        if unknown:
            raise ProfileError(f"{doc.where((unknown[0],))}: unknown setting {unknown[0]!r}; allowed: mirrors.")
        items = data.get("mirrors") or {}
        if not isinstance(items, dict):
            raise ProfileError(f"{doc.where(('mirrors',))}: mirrors: is a mapping of channel: folder-or-URL.")
        from_file = parse_mirrors([f"{k}={v}" for k, v in items.items()], project.root, origin=str(doc.path))
    from_cli = parse_mirrors(list(cli_values), project.root)
    return Mirrors({**from_file.by_channel, **from_cli.by_channel}, {**from_file.as_written, **from_cli.as_written})
