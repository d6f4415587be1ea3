//! b24's generator: Bitrix24 docs → schema (`methods/schema/*.json`) → Rust declarations
//! (`methods/src/**`). See the README's "Generated API" section.

pub mod docs;
pub mod emit;
pub mod overrides;
pub mod parse;
pub mod schema;
pub mod types;
pub mod yfm;

use std::path::{Path, PathBuf};

use schema::ScopeFile;

/// Both stages: reads the docs at `docs`, writes `<root>/methods/schema/` and the generated Rust
/// under `<root>/methods/`. Returns a summary of counts.
pub fn run(docs: &Path, root: &Path) -> Result<String, String> {
    let stage1 = docs::read(docs).map_err(|e| format!("reading {}: {e}", docs.display()))?;
    let ov = load_overrides(root)?;
    let out = emit::generate(&stage1.scopes, &ov);
    let schema_dir = root.join("methods/schema");
    docs::write(&schema_dir, &stage1, &out.skipped).map_err(|e| e.to_string())?;
    write_rust(root, &out)?;
    let methods: usize = stage1.scopes.iter().map(|s| s.methods.len()).sum();
    let events: usize = stage1.scopes.iter().map(|s| s.events.len()).sum();
    let st = &out.stats;
    Ok(format!(
        "pages {}, method pages {}, methods in schema {methods}, skipped {}, event pages {}, events {events}\n\
         rust: methods {}, event payloads {}, without rust (selected) {}, objects {} (+{} aliases of the same shape), params typed {} / Value {}, result fields typed {} / Value {}, overrides {}",
        stage1.pages,
        stage1.method_pages,
        stage1.skipped.len(),
        stage1.event_pages,
        st.methods,
        st.events,
        out.skipped.len(),
        st.objects,
        st.aliases,
        st.params_typed,
        st.params_value,
        st.results_typed,
        st.results_value,
        ov.count(),
    ))
}

/// Reads `methods/overrides.toml`.
pub fn load_overrides(root: &Path) -> Result<overrides::Overrides, String> {
    let path = root.join("methods/overrides.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    overrides::Overrides::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads the committed schema files.
pub fn load_schema(root: &Path) -> Result<Vec<ScopeFile>, String> {
    let dir = root.join("methods/schema");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

/// The files the Rust stage writes, with their expected text: generated files, and the
/// hand-written files with their generated regions replaced.
pub fn expected_rust(root: &Path, out: &emit::Output) -> Result<Vec<(PathBuf, String)>, String> {
    let methods = root.join("methods");
    let mut files: Vec<(PathBuf, String)> = out
        .files
        .iter()
        .map(|(p, t)| (methods.join(p), t.clone()))
        .collect();
    for (file, block, comment) in [
        ("Cargo.toml", &out.features, "#"),
        ("src/lib.rs", &out.lib_mods, "//"),
    ] {
        let path = methods.join(file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.push((
            path.clone(),
            splice(&text, block, comment).ok_or_else(|| {
                format!(
                    "{}: no `{comment} {}` … `{comment} {}` markers",
                    path.display(),
                    emit::BEGIN,
                    emit::END
                )
            })?,
        ));
    }
    Ok(files)
}

/// Replaces the lines between the markers.
fn splice(text: &str, block: &str, comment: &str) -> Option<String> {
    let begin = format!("{comment} {}", emit::BEGIN);
    let end = format!("{comment} {}", emit::END);
    let b = text.find(&begin)?;
    let b_line_end = b + text[b..].find('\n')? + 1;
    let e = text[b_line_end..].find(&end)? + b_line_end;
    Some(format!("{}{}{}", &text[..b_line_end], block, &text[e..]))
}

/// Generated `.rs` files under `methods/src` (their first line is [`emit::HEADER`]).
pub fn generated_on_disk(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs")
                && std::fs::read_to_string(&p).is_ok_and(|t| t.starts_with(emit::HEADER))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root.join("methods/src"), &mut out);
    walk(&root.join("methods/tests"), &mut out);
    out.sort();
    out
}

fn write_rust(root: &Path, out: &emit::Output) -> Result<(), String> {
    let expected = expected_rust(root, out)?;
    let keep: std::collections::BTreeSet<&PathBuf> = expected.iter().map(|(p, _)| p).collect();
    for stale in generated_on_disk(root) {
        if !keep.contains(&stale) {
            std::fs::remove_file(&stale).map_err(|e| format!("{}: {e}", stale.display()))?;
        }
    }
    for (path, text) in &expected {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Regenerates the Rust from the committed schema and overrides, in memory, and lists every
/// file that differs from what is committed (or is generated but no longer expected).
pub fn check(root: &Path) -> Result<Vec<String>, String> {
    let scopes = load_schema(root)?;
    let ov = load_overrides(root)?;
    let out = emit::generate(&scopes, &ov);
    let expected = expected_rust(root, &out)?;
    let mut diffs = Vec::new();
    for (path, text) in &expected {
        match std::fs::read_to_string(path) {
            Ok(disk) if disk == *text => {}
            Ok(_) => diffs.push(format!("{} differs", path.display())),
            Err(_) => diffs.push(format!("{} is missing", path.display())),
        }
    }
    let keep: std::collections::BTreeSet<&PathBuf> = expected.iter().map(|(p, _)| p).collect();
    for p in generated_on_disk(root) {
        if !keep.contains(&p) {
            diffs.push(format!(
                "{} is generated but no longer expected",
                p.display()
            ));
        }
    }
    Ok(diffs)
}
