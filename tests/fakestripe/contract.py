"""Stripe's published API contract (an OpenAPI 3.0 subset in ../shared/stripe/) as JSON Schema.

OpenAPI 3.0 is not quite JSON Schema: ``nullable: true`` becomes a union with ``null`` here.
Expandable fields need nothing more: Stripe's description already writes them as ``anyOf`` of a
string id and the object (``x-expandableFields`` lists them), so either form validates.
"""

import json
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# CI clones the repo into a folder and puts a copy of shared/ beside the clone.
SCHEMA_DIR = ROOT.parent / "shared" / "stripe"
SCHEMA_FILE = SCHEMA_DIR / "openapi-2023-08-16-subset.json"
SCHEMA_VERSION = "2023-08-16"


def to_json_schema(node):
    """Turn one OpenAPI 3.0 schema (and everything below it) into JSON Schema."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: to_json_schema(value)
        for key, value in node.items()
        if key != "nullable" and not key.startswith("x-")
    }
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def document():
    """The whole converted description (paths and components)."""
    return to_json_schema(json.loads(SCHEMA_FILE.read_text()))


@cache
def raw_document():
    """The description as published, x- extensions and all."""
    return json.loads(SCHEMA_FILE.read_text())


@cache
def _validator(ref):
    from jsonschema import Draft202012Validator

    doc = document()
    return Draft202012Validator({"$ref": ref, "components": doc["components"]})


def errors(instance, ref):
    """Every way instance breaks the schema at ref, as readable lines (empty if it conforms)."""
    found = []
    for error in _validator(ref).iter_errors(instance):
        # anyOf failures (nullable or expandable fields) hide the useful part in their context.
        leaves = [e for e in error.context if not e.context] or [error]
        best = min(leaves, key=lambda e: len(e.path))
        where = "/".join(str(p) for p in best.absolute_path) or "(top)"
        found.append(f"{where}: {best.message[:200]}")
    return sorted(set(found))


def schema_ref(name):
    return f"#/components/schemas/{name}"


def _path_regex(template):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


@cache
def _operations():
    ops = []
    for template, item in document()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                ops.append((method.upper(), _path_regex(template), template))
    # Literal paths first: /v1/payment_intents/{intent}/confirm before /v1/payment_intents/{x}
    ops.sort(key=lambda op: op[2].count("{"))
    return ops


def operation(method, path):
    """The path template of the documented operation serving method and path, or None."""
    for op_method, regex, template in _operations():
        if op_method == method.upper() and regex.match(path):
            return template
    return None


def response_ref(method, template, status=200):
    """A JSON pointer to the schema of an operation's answer with this status."""
    op = document()["paths"][template][method.lower()]
    key = str(status) if str(status) in op["responses"] else "default"
    return (
        f"#/paths/{template.replace('~', '~0').replace('/', '~1')}/{method.lower()}"
        f"/responses/{key}/content/application~1json/schema"
    )


@cache
def _path_validator(ref):
    from jsonschema import Draft202012Validator

    doc = document()
    root = {"$ref": ref, "paths": doc["paths"], "components": doc["components"]}
    return Draft202012Validator(root)


def response_errors(method, path, status, body):
    """How an API answer breaks the documented schema of its operation (empty if it conforms)."""
    template = operation(method, path)
    if template is None:
        return [f"{method} {path}: not in the description"]
    found = []
    for error in _path_validator(response_ref(method, template, status)).iter_errors(body):
        leaves = [e for e in error.context if not e.context] or [error]
        best = min(leaves, key=lambda e: len(e.path))
        where = "/".join(str(p) for p in best.absolute_path) or "(top)"
        found.append(f"{where}: {best.message[:200]}")
    return sorted(set(found))


def object_errors(obj):
    """How an object (by its ``object`` field, e.g. a webhook's data.object) breaks its schema."""
    name = obj.get("object") if isinstance(obj, dict) else None
    if name not in document()["components"]["schemas"]:
        return [f"no schema for object {name!r}"]
    return errors(obj, schema_ref(name))
