#!/usr/bin/python3
"""tests/live/k8s_schema.py MANIFEST - checks every document of a Kubernetes
manifest against the Kubernetes API's types (Debian's python3-kubernetes, whose
models are generated from the API's OpenAPI schema): an unknown field, a value
of the wrong type or a missing required field is an error naming its path.
Prints one line per document; exit 1 on any error."""
import sys

import yaml
from kubernetes import client

KINDS = {("v1", "Namespace"): "V1Namespace", ("v1", "ServiceAccount"): "V1ServiceAccount",
         ("v1", "ConfigMap"): "V1ConfigMap", ("apps/v1", "DaemonSet"): "V1DaemonSet"}
SCALARS = {"str": str, "bool": bool, "int": int, "float": (int, float)}


def check(value, typ, path):
    """value as the API type typ; raises ValueError naming path."""
    if typ.startswith("list["):
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected a list, got {type(value).__name__}")
        return [check(v, typ[5:-1], f"{path}[{i}]") for i, v in enumerate(value)]
    if typ.startswith("dict("):
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected a map, got {type(value).__name__}")
        inner = typ[5:-1].split(", ", 1)[1]
        return {k: check(v, inner, f"{path}.{k}") for k, v in value.items()}
    if typ in SCALARS:
        if not isinstance(value, SCALARS[typ]) or (typ == "int" and isinstance(value, bool)):
            raise ValueError(f"{path}: expected {typ}, got {type(value).__name__} {value!r}")
        return value
    if typ in ("object", "datetime", "date"):
        return value
    cls = getattr(client.models, typ)
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a {typ} object, got {type(value).__name__}")
    names = {v: k for k, v in cls.attribute_map.items()}
    kwargs = {}
    for key, v in value.items():
        if key not in names:
            raise ValueError(f"{path}: unknown field '{key}' in {typ}")
        kwargs[names[key]] = check(v, cls.openapi_types[names[key]], f"{path}.{key}")
    try:
        return cls(**kwargs)  # the models check required fields and enums
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def main():
    bad = 0
    with open(sys.argv[1]) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for d in docs:
        key = (d.get("apiVersion"), d.get("kind"))
        name = f"{key[1]}/{d.get('metadata', {}).get('name')}"
        if key not in KINDS:
            print(f"error: {name}: kind {key} not checked here")
            bad += 1
            continue
        try:
            check(d, KINDS[key], name)
            print(f"ok: {name} is a valid {KINDS[key]}")
        except ValueError as e:
            print(f"error: {e}")
            bad += 1
    sys.exit(1 if bad or not docs else 0)


main()
