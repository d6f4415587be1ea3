#!/usr/bin/env python3
"""Writes a throwaway crate declaring N methods with #[b24::b24_method], for decl_cost.sh.

    gen.py --methods N --dir DIR --b24 PATH [--lock Cargo.lock]

The declarations vary as real ones do, deterministically by index:
- 1-3 required and 1-3 optional parameters (i64, String, Option<...>), some renamed;
- a `yn` flag on every method (required `bool` or `Option<bool>`), an `int_bool` one on some;
- 2-4 documented error codes each (identifiers with or without an HTTP status, string codes);
- every other method answers a #[b24_object] struct of 5 fields (one of them optional, one a
  date, one a list with a default); the others answer bool, i64, String or Vec<i64>;
- a third of them idempotent.

Writes DIR/Cargo.toml (its own empty [workspace], the `b24` dependency by path) and
DIR/src/lib.rs, only when their text changes, so that an unchanged crate stays built.
"""

import argparse
import os
import shutil

SCALARS = ["bool", "i64", "String", "Vec<i64>"]
ERROR_POOL = [
    ("ACCESS_DENIED", "400", "The calling user has no access."),
    ("NOT_FOUND", "404", "The entity was not found."),
    ("WRONG_TYPE", None, "The entity has the wrong type."),
    ('"ERROR_CORE"', "400", "An internal error of the module."),
    ("LIMIT_EXCEEDED", "503", "Too many requests."),
    ('"invalid-value"', None, "A parameter value is invalid."),
]


def camel(words):
    return "".join(w[:1].upper() + w[1:] for w in words)


def method(i):
    """The declaration of method i (and its response object, if any), as Rust source."""
    scope = f"scope{i % 7}"
    entity = f"entity{i}"
    action = ["get", "add", "update", "delete", "list.get"][i % 5]
    name = f"{scope}.{entity}.{action}"
    type_name = camel([entity] + action.split("."))
    out = []

    has_object = i % 2 == 0
    if has_object:
        response = f"{type_name}Item"
    else:
        response = SCALARS[(i // 2) % len(SCALARS)]

    errors = []
    for k in range(2 + i % 3):  # 2..4 codes
        code, status, text = ERROR_POOL[(i + k) % len(ERROR_POOL)]
        # Codes must be unique within a method: the pool is walked without repeats.
        status_part = f"({status})" if status else ""
        errors.append(f'        {code}{status_part} = "{text}",')

    args = [f'    "{name}"', f"    response = {response}"]
    if i % 3 == 0:
        args.append("    idempotent")
    args.append("    errors(\n" + "\n".join(errors) + "\n    )")

    out.append(f"/// Method {i}: `{name}`.")
    out.append("#[b24_method(\n" + ",\n".join(args) + ",\n)]")
    out.append("#[derive(Debug, Clone, PartialEq)]")
    out.append(f"pub struct {type_name} {{")
    required = 1 + i % 3
    optional = 1 + (i // 3) % 3
    for k in range(required):
        ty = "i64" if k % 2 == 0 else "String"
        out.append(f"    /// Required parameter {k}.")
        if k == 1 and i % 4 == 1:
            out.append(f'    #[b24(rename = "FIELDS[{k}]")]')
        out.append(f"    pub req_{k}: {ty},")
    for k in range(optional):
        ty = ["Option<i64>", "Option<String>", "Option<Vec<i64>>"][k % 3]
        out.append(f"    /// Optional parameter {k}.")
        out.append(f"    pub opt_{k}: {ty},")
    out.append("    /// A Y/N flag.")
    out.append("    #[b24(yn)]")
    out.append(f"    pub flag: {'bool' if i % 2 else 'Option<bool>'},")
    if i % 4 == 0:
        out.append("    /// A 1/0 flag.")
        out.append("    #[b24(int_bool)]")
        out.append("    pub numeric_flag: Option<bool>,")
    out.append("}")
    out.append("")

    if has_object:
        out.append(f"/// The result of `{name}`.")
        out.append("#[b24_object]")
        out.append("#[derive(Debug, Clone, PartialEq)]")
        out.append(f"pub struct {response} {{")
        out.append("    /// The id.")
        out.append("    pub id: i64,")
        out.append("    /// The title.")
        out.append("    pub title: String,")
        out.append("    /// The description, if any.")
        out.append("    pub description: Option<String>,")
        out.append("    /// When it was created.")
        out.append("    pub date_create: b24::DateTime,")
        out.append("    /// Related ids.")
        out.append("    #[b24(default)]")
        out.append("    pub related: Vec<i64>,")
        out.append("}")
        out.append("")
    return "\n".join(out)


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--b24", required=True, help="path of the b24 facade crate (methods/)")
    ap.add_argument("--lock", help="a Cargo.lock to start from (pins the same versions)")
    args = ap.parse_args()

    os.makedirs(os.path.join(args.dir, "src"), exist_ok=True)
    b24 = os.path.abspath(args.b24)
    write_if_changed(
        os.path.join(args.dir, "Cargo.toml"),
        "# Generated by benches/decl_cost/gen.py: a throwaway crate, not part of the workspace.\n"
        "[package]\n"
        'name = "decl-cost"\n'
        'version = "0.0.0"\n'
        'edition = "2021"\n'
        "publish = false\n\n"
        "[dependencies]\n"
        f'b24 = {{ path = "{b24}" }}\n\n'
        "[workspace]\n",
    )
    lock = os.path.join(args.dir, "Cargo.lock")
    if args.lock and not os.path.exists(lock):
        shutil.copyfile(args.lock, lock)

    parts = [
        f"//! {args.methods} generated declarations (benches/decl_cost/gen.py).\n",
        "#![allow(dead_code)]\n",
        "use b24::{b24_method, b24_object};\n",
    ]
    if args.methods == 0:
        # Still expand each macro once, so that the warm-up builds everything they need.
        parts.append("#[b24_object]\n#[derive(Debug)]\npub struct Nothing {\n    pub id: i64,\n}\n")
        parts.append(
            '#[b24_method("scope.nothing.get", response = bool)]\n'
            "#[derive(Debug)]\npub struct NothingGet {\n    pub id: i64,\n}\n"
        )
    for i in range(args.methods):
        parts.append(method(i))
    write_if_changed(os.path.join(args.dir, "src", "lib.rs"), "\n".join(parts))


if __name__ == "__main__":
    main()
