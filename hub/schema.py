"""JSON Schema of hub.yaml, including every installed plugin's settings (``hub schema``).

Point an editor at it (``# yaml-language-server: $schema=hub.schema.json``) for completion
and inline errors: each ``{use: NAME, ...}`` selection offers the installed plugins of that
kind, and after ``use:`` only that plugin's own settings.
"""

from __future__ import annotations

from typing import Any

from hub.config import Business, HubConfig
from hub.plugins import Plugins
from hub.providers import Kind

_CHOICES = {
    Kind.CALL_SOURCE: "CallSourceChoice",
    Kind.SMS_SENDER: "SmsSenderChoice",
    Kind.REPLY_PARSER: "ReplyParserChoice",
    Kind.SINK: "SinkChoice",
}

_SECRET_REF = {
    "title": "Secret reference",
    "description": "Read the value from an environment variable or a file",
    "oneOf": [
        {
            "type": "object",
            "properties": {"$env": {"type": "string"}, "default": {"type": "string"}},
            "required": ["$env"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"$file": {"type": "string"}},
            "required": ["$file"],
            "additionalProperties": False,
        },
    ],
}


def config_schema(plugins: Plugins) -> dict[str, Any]:
    schema = HubConfig.model_json_schema()
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    for kind, choice in _CHOICES.items():
        variants = []
        for name, cls in sorted(plugins.providers[kind].items()):
            variant = cls.Config.model_json_schema(by_alias=True)
            defs.update(variant.pop("$defs", {}))
            properties: dict[str, Any] = {
                "use": {"const": name, "description": cls.description or name}
            }
            properties.update(variant.get("properties", {}))
            if kind == Kind.SMS_SENDER:
                properties["fallbacks"] = {
                    "type": "array",
                    "description": "Senders to try, in order, when this one cannot send",
                    "items": {"$ref": f"#/$defs/{choice}"},
                }
            variant.update(
                title=f"{name} ({kind.replace('_', ' ')})",
                properties=properties,
                required=["use", *variant.get("required", [])],
                additionalProperties=False,
            )
            variants.append(variant)
        defs[choice] = {"oneOf": variants} if variants else {"not": {}}

    business = defs[Business.__name__]["properties"]
    business["call_source"] = {"$ref": "#/$defs/CallSourceChoice"}
    business["sms_sender"] = {"$ref": "#/$defs/SmsSenderChoice"}
    business["reply_parsers"] = {"type": "array", "items": {"$ref": "#/$defs/ReplyParserChoice"}}
    business["sinks"] = {"type": "array", "items": {"$ref": "#/$defs/SinkChoice"}}
    business.pop("slug", None)
    # Any business setting may come from `defaults:`, so a business alone requires none: the
    # schema must accept every file `hub check` accepts (which checks the merged result).
    defs[Business.__name__].pop("required", None)
    partial = dict(defs[Business.__name__])
    defs["BusinessDefaults"] = partial
    schema["properties"]["defaults"] = {
        "$ref": "#/$defs/BusinessDefaults",
        "description": (
            "Inherited by every business. Mappings (text_back, quiet_hours, follow_ups, owner, "
            "services, templates, a plugin's settings) merge key by key with the business's; "
            "lists, single values and hours are replaced whole, and so is a plugin selection "
            "that names a different `use`"
        ),
    }
    defs["SecretRef"] = _SECRET_REF
    _allow_secret_refs(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "hub.yaml"
    return schema


def _allow_secret_refs(node: Any) -> None:
    """Wherever a secret string is expected, also accept ``{$env: ...}`` / ``{$file: ...}``."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and value.get("format") == "password":
                node[key] = {"anyOf": [value, {"$ref": "#/$defs/SecretRef"}]}
            else:
                _allow_secret_refs(value)
    elif isinstance(node, list):
        # An optional secret (``SecretStr | None``) is a password inside an ``anyOf`` list.
        for index, item in enumerate(node):
            if isinstance(item, dict) and item.get("format") == "password":
                node[index] = {"anyOf": [item, {"$ref": "#/$defs/SecretRef"}]}
            else:
                _allow_secret_refs(item)
