//! The committed Rust is what the generator makes of the committed schema and overrides
//! (like teloxide-core's codegen check). On failure: `cargo run -p b24-codegen -- --docs <docs>`.

use std::path::Path;

#[test]
fn committed_rust_matches_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let diffs = b24_codegen::check(&root).expect("schema and overrides load");
    assert!(
        diffs.is_empty(),
        "generated code is stale; run `cargo run -p b24-codegen -- --docs <docs>`:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn committed_schema_round_trips() {
    // Every schema file decodes into the typed schema and re-encodes to the same text, so the
    // files stay in the generator's stable form.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let scopes = b24_codegen::load_schema(&root).expect("schema loads");
    assert!(scopes.iter().map(|s| s.methods.len()).sum::<usize>() > 1500);
    for file in &scopes {
        let path = root.join(format!("methods/schema/{}.json", file.scope));
        let text = std::fs::read_to_string(&path).expect("file");
        assert_eq!(text, b24_codegen::docs::to_json(file), "{}", path.display());
    }
}
