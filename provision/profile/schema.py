"""JSON Schema of the profile format, for editor completion (yaml-language-server)."""

from __future__ import annotations

from typing import Any

from .model import Profile

SCHEMA_ID = "https://provision.dev/schema/profile.schema.json"


def profile_schema() -> dict[str, Any]:
    schema = Profile.model_json_schema()
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "provision profile"
    return schema
