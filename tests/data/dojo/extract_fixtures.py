#!/usr/bin/python3
"""Extracts the Dojo JSON fixtures in this directory from the official spec.

Run from anywhere: /usr/bin/python3 tests/data/dojo/extract_fixtures.py
Needs PyYAML. The example files are the spec's examples verbatim (same keys,
values and key order), re-indented.
"""

import json
import os

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "..", "openapi", "openapi-2025-09-10.yaml")


def write(name, value):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as out:
        json.dump(value, out, indent=2, ensure_ascii=False)
        out.write("\n")


def json_content(node):
    return node["content"]["application/json"]


def resolve(spec, node):
    """Follows $ref, allOf, oneOf (single branch) to a list of object schemas."""
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        return resolve(spec, spec["components"]["schemas"][name])
    parts = []
    for combinator in ("allOf", "oneOf", "anyOf"):
        for branch in node.get(combinator, []):
            parts.extend(resolve(spec, branch))
    if "properties" in node or node.get("type") in ("object", "array"):
        parts.append(node)
    return parts


def collect_keys(spec, node, path, out):
    """Records the allowed property names of every object under `path`.

    Paths are JSON-pointer-like: "" is the root, "/amount", array elements
    are "/itemLines/*". A map (additionalProperties with a schema) is "*".
    """
    schemas = resolve(spec, node)
    items = [s["items"] for s in schemas if s.get("type") == "array" and "items" in s]
    if items:
        collect_keys(spec, items[0], path + "/*", out)
        return
    properties = {}
    open_map = False
    for schema in schemas:
        properties.update(schema.get("properties", {}))
        if isinstance(schema.get("additionalProperties"), dict):
            open_map = True
    if open_map and not properties:
        out[path] = "*"
        return
    if not properties:
        return
    out[path] = sorted(properties)
    for key, child in properties.items():
        collect_keys(spec, child, path + "/" + key, out)


def main():
    with open(SPEC, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    paths = spec["paths"]

    create = paths["/payment-intents"]["post"]
    for name, example in json_content(create["requestBody"])["examples"].items():
        write("create_request_%s.json" % name.lower(), example["value"])
    for name, example in json_content(create["responses"]["200"])["examples"].items():
        write("create_response_%s.json" % name.lower(), example["value"])

    singles = {
        "get_response.json": ("/payment-intents/{paymentIntentId}", "get"),
        "refresh_response.json": (
            "/payment-intents/{paymentIntentId}/refresh-client-session-secret",
            "post"),
    }
    for file_name, (path, method) in singles.items():
        content = json_content(paths[path][method]["responses"]["200"])
        if "example" in content:
            write(file_name, content["example"])

    keys = {}
    collect_keys(spec,
                 {"$ref": "#/components/schemas/CreatePaymentIntentRequest"},
                 "", keys)
    write("create_request_schema_keys.json", keys)


if __name__ == "__main__":
    main()
