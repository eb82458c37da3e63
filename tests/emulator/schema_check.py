#!/usr/bin/env python3
"""Checks JSON documents against schemas of Dojo's OpenAPI spec.

Usage: schema_check.py SPEC.yaml LIST
LIST has lines "SchemaName<TAB>path/to/document.json". Checks field names
(additionalProperties: false), required fields, types (integer, string,
boolean, array, object), nullability and enums, following $ref and oneOf.
Prints one line per problem and exits 1 if there is any; exits 3 when PyYAML
is missing (the caller reports a skip).

The emulator's PaymentIntent carries two fields that real responses have but
the spec does not list (paymentSource, paymentEvents): they are allowed at
the top level of a PaymentIntent only.
"""
import json
import sys

try:
    import yaml
except ImportError:
    sys.exit(3)

EXTRAS = {"PaymentIntent": {"paymentSource", "paymentEvents"}}


def main():
    spec_path, list_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        schemas = yaml.safe_load(f)["components"]["schemas"]
    problems = []

    def resolve(schema):
        while "$ref" in schema:
            schema = schemas[schema["$ref"].split("/")[-1]]
        return schema

    def check(schema, value, path, extras=frozenset()):
        if value is None:
            if not schema.get("nullable") and not resolve(schema).get("nullable"):
                problems.append(f"{path}: null is not allowed")
            return
        schema = resolve(schema)
        if "oneOf" in schema:
            if len(schema["oneOf"]) != 1:
                return  # not used by the schemas checked here
            check(schema["oneOf"][0], value, path)
            return
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{path}: {value!r} is not one of {schema['enum']}")
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            if not isinstance(value, dict):
                problems.append(f"{path}: want an object")
                return
            props = schema.get("properties", {})
            for name in schema.get("required", []):
                if name not in value:
                    problems.append(f"{path}.{name}: required")
            extra = schema.get("additionalProperties", True)
            for name, item in value.items():
                if name in props:
                    check(props[name], item, f"{path}.{name}")
                elif name in extras:
                    continue
                elif extra is False:
                    problems.append(f"{path}.{name}: not in the schema")
                elif isinstance(extra, dict):
                    check(extra, item, f"{path}.{name}")
        elif kind == "array":
            if not isinstance(value, list):
                problems.append(f"{path}: want an array")
                return
            for i, item in enumerate(value):
                check(schema.get("items", {}), item, f"{path}[{i}]")
        elif kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(f"{path}: want an integer, got {value!r}")
        elif kind == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append(f"{path}: want a number, got {value!r}")
        elif kind == "string":
            if not isinstance(value, str):
                problems.append(f"{path}: want a string, got {value!r}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                problems.append(f"{path}: want a boolean, got {value!r}")

    count = 0
    with open(list_path) as f:
        for line in f:
            if not line.strip():
                continue
            name, doc_path = line.rstrip("\n").split("\t")
            with open(doc_path) as d:
                doc = json.load(d)
            check(schemas[name], doc, f"{name}({doc_path.rsplit('/', 1)[-1]})",
                  frozenset(EXTRAS.get(name, ())))
            count += 1
    for p in problems:
        print(p)
    print(f"{count} documents checked, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
