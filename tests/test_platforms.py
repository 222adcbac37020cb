"""One table of platform names (provision/platforms.py): every other place that names a platform agrees
with it, including the pack runner, which must stay a single standard-library file of its own."""

from __future__ import annotations

import typing

from provision import platforms
from provision.consumers import pack_runner
from provision.profile.model import Platform


def test_the_profile_type_and_the_table_name_the_same_platforms() -> None:
    assert typing.get_args(Platform) == platforms.NAMES


def test_the_pack_runner_maps_hosts_as_the_table_does() -> None:
    for (system, machine), subdir in pack_runner.PLATFORMS.items():
        assert platforms.subdir_of(system.capitalize(), machine) == subdir, (system, machine)
    assert set(pack_runner.PLATFORMS.values()) == set(platforms.NAMES)


def test_every_platform_has_each_of_its_names() -> None:
    for name, names in platforms.TABLE.items():
        assert names.subdir == name and names.selector and names.nix_system and names.wheel_arch
        assert (names.docker is None) == name.startswith("osx")
        assert platforms.subdir_of(names.system, names.machine) == name
    assert platforms.subdir_of("Darwin", "x86_64") == "osx-64"  # an Intel Mac is named, never provisioned
    assert platforms.subdir_of("Windows", "AMD64") is None
