//! b24's generator: Bitrix24 docs → schema (`methods/schema/*.json`) → Rust declarations
//! (`methods/src/**`). See the README's "Generated API" section.

pub mod docs;
pub mod emit;
pub mod overrides;
pub mod parse;
pub mod schema;
pub mod types;
pub mod yfm;

use std::path::Path;

/// Both stages: reads the docs at `docs`, writes `<root>/methods/schema/` and the generated Rust
/// under `<root>/methods/`. Returns a summary of counts.
pub fn run(docs: &Path, root: &Path) -> std::io::Result<String> {
    let stage1 = docs::read(docs)?;
    let schema_dir = root.join("methods/schema");
    docs::write(&schema_dir, &stage1, &[])?;
    let methods: usize = stage1.scopes.iter().map(|s| s.methods.len()).sum();
    let events: usize = stage1.scopes.iter().map(|s| s.events.len()).sum();
    Ok(format!(
        "pages {}, method pages {}, methods {methods}, skipped {}, event pages {}, events {events}",
        stage1.pages,
        stage1.method_pages,
        stage1.skipped.len(),
        stage1.event_pages
    ))
}
