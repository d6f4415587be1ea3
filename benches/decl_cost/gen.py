#!/usr/bin/env python3
"""Writes a throwaway crate of real #[b24_method] declarations copied N times, for decl_cost.sh.

    gen.py --copies N --dir DIR --b24 PATH [--lock Cargo.lock] [--from FILE_OR_DIR ...]

The declarations are the project's own, read from the workspace (by default the seven declared
methods under methods/src: six imopenlines ones and crm.lead.list, with their 20 result objects).
`--from` takes other files or directories of declarations instead (e.g. a generated scope).
Each copy goes in its own module, `copy_<i>`, with every type declared in the sources renamed
(`DialogGet` -> `DialogGet7`, `DialogGetError` -> `DialogGetError7`) and every method name given
the copy's suffix (`imopenlines.dialog.get7`, so `dialog_get7`): no two copies share an
identifier or a string, as no two real methods do.

Writes DIR/Cargo.toml (its own empty [workspace], the `b24` dependency by path) and
DIR/src/lib.rs, only when their text changes, so that an unchanged crate stays built.
"""

import argparse
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_SOURCES = [
    "methods/src/imopenlines/dialog/get.rs",
    "methods/src/imopenlines/session/open.rs",
    "methods/src/imopenlines/session/join.rs",
    "methods/src/imopenlines/session/history/get.rs",
    "methods/src/imopenlines/session/start.rs",
    "methods/src/imopenlines/session/mode/pin.rs",
    "methods/src/crm/lead/list.rs",
]

DECLARED = re.compile(r"^\s*pub (?:struct|enum) (\w+)", re.M)
METHOD_NAME = re.compile(r'(#\[b24_method\(\s*)"([^"]+)"')


def sources(paths):
    """The .rs files named by `paths` (files, or directories walked in order)."""
    out = []
    for p in paths:
        p = p if os.path.isabs(p) else os.path.join(ROOT, p)
        if os.path.isdir(p):
            for base, dirs, files in os.walk(p):
                dirs.sort()
                out += [os.path.join(base, f) for f in sorted(files) if f.endswith(".rs")
                        and f != "mod.rs"]
        else:
            out.append(p)
    return out


def prepare(text):
    """A declaration file as a module body of a user crate: `crate::` paths become `b24::`,
    module docs (`//!`) are dropped."""
    lines = [l for l in text.splitlines() if not l.startswith("//!")]
    text = "\n".join(lines)
    text = re.sub(r"\buse crate::", "use b24::", text)
    text = re.sub(r"\bcrate::(exports|DateTime|Client|Event)\b", r"b24::\1", text)
    return text


CFG_LINE = re.compile(r"^\s*#\[(cfg\(.*\)|rustfmt::skip)\]\s*$")
MOD_DECL = re.compile(r"^\s*pub mod (r#)?(\w+);\s*$")
EXT_MOD = re.compile(r'#\[path = "(\w+)\.rs"\]\s*mod (\w+);')


def tree(path):
    """A generated scope directory (e.g. methods/src/crm) as one nested inline module body:
    each file `x.rs` becomes `pub mod x { ... }`, each `mod.rs` the body of its directory's
    module, `#[path = "x_ext.rs"] mod x_ext;` the hand-written file inline, and the feature
    `#[cfg]`s go (the throwaway crate has no features)."""
    def body(file, directory):
        text = open(file, encoding="utf-8").read()
        text = EXT_MOD.sub(
            lambda m: f"mod {m.group(2)} {{\n"
            + prepare(open(os.path.join(directory, m.group(1) + ".rs"), encoding="utf-8").read())
            + "\n}", text)
        lines = [l for l in prepare(text).splitlines()
                 if not CFG_LINE.match(l) and not MOD_DECL.match(l)]
        return "\n".join(lines)

    def walk(d):
        parts = []
        mod_rs = os.path.join(d, "mod.rs")
        if os.path.exists(mod_rs):
            parts.append(body(mod_rs, d))
        for name in sorted(os.listdir(d)):
            full = os.path.join(d, name)
            if os.path.isdir(full):
                parts.append(f"pub mod {keyword(name)} {{\n{walk(full)}\n}}")
            elif name.endswith(".rs") and name != "mod.rs" and not name.endswith("_ext.rs"):
                parts.append(f"pub mod {keyword(name[:-3])} {{\n{body(full, d)}\n}}")
        return "\n".join(parts)

    return walk(path)


def keyword(name):
    return "r#" + name if name in ("type", "match", "move", "ref", "impl", "mod", "use", "fn",
                                   "loop", "where", "static", "struct", "enum", "trait", "self",
                                   "super", "crate", "const", "async", "await", "dyn", "box",
                                   "yield", "try", "gen", "final", "macro", "override") else name


def copy(text, names, i):
    """Copy `i` of a declaration file: declared types and method names get the suffix `i`."""
    if names:
        pattern = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True))
                             + r")(Error)?\b")
        text = pattern.sub(lambda m: m.group(1) + (m.group(2) or "") + str(i), text)
    return METHOD_NAME.sub(lambda m: f'{m.group(1)}"{m.group(2)}{i}"', text)


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
    ap.add_argument("--copies", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--b24", required=True, help="path of the b24 facade crate (methods/)")
    ap.add_argument("--lock", help="a Cargo.lock to start from (pins the same versions)")
    ap.add_argument("--from", dest="sources", nargs="+", default=DEFAULT_SOURCES,
                    help="declaration files or directories (default: the seven real methods)")
    ap.add_argument("--tree", action="store_true",
                    help="the --from directories are generated scopes: copy each as a module tree")
    ap.add_argument("--count", action="store_true",
                    help="print the number of #[b24_method] declarations of one copy and exit")
    args = ap.parse_args()

    dirs = [p if os.path.isabs(p) else os.path.join(ROOT, p) for p in args.sources]
    if args.tree:
        # Each directory as a whole module tree: `crate::<dir>::…` paths (aliases between
        # generated files) become `crate::copy_<i>::<dir>::…`.
        trees = [(os.path.basename(d.rstrip("/")), tree(d)) for d in dirs]
        files = [t for _, t in trees]
    else:
        files = [prepare(open(f, encoding="utf-8").read()) for f in sources(args.sources)]
    per_copy = sum(len(METHOD_NAME.findall(f)) for f in files)
    if args.count:
        print(per_copy)
        return

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
        f"//! {args.copies} copies of {per_copy} real declarations (benches/decl_cost/gen.py).\n",
        "#![allow(dead_code, unused_imports)]\n",
    ]
    if args.copies == 0:
        # Still expand each macro once, so that the warm-up builds everything they need.
        parts.append("use b24::{b24_method, b24_object};\n")
        parts.append("#[b24_object]\n#[derive(Debug)]\npub struct Nothing {\n    pub id: i64,\n}\n")
        parts.append(
            '#[b24_method("scope.nothing.get", response = bool)]\n'
            "#[derive(Debug)]\npub struct NothingGet {\n    pub id: i64,\n}\n"
        )
    for i in range(args.copies):
        if args.tree:
            body = []
            for name, text in trees:
                text = re.sub(r"\bcrate::" + name + r"\b", f"crate::copy_{i}::{name}", text)
                # The copy's number goes after the name's first segment (`crm0.lead.list`), so
                # that the call functions keep their names (`lead_list`), which `pub use` names.
                text = METHOD_NAME.sub(
                    lambda m: f'{m.group(1)}"{m.group(2).replace(".", str(i) + ".", 1)}"', text)
                body.append(f"pub mod {name} {{\n{text}\n}}")
            parts.append(f"pub mod copy_{i} {{\n" + "\n".join(body) + "\n}\n")
            continue
        for k, text in enumerate(files):
            names = set(DECLARED.findall(text))
            parts.append(f"pub mod copy_{i}_{k} {{\n{copy(text, names, i)}\n}}\n")
    write_if_changed(os.path.join(args.dir, "src", "lib.rs"), "\n".join(parts))


if __name__ == "__main__":
    main()
