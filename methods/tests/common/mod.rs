//! Runs the decoding of the schema's success examples (see `schema_examples.rs`, generated).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// Method name, docs path, and the decoder of its `result`.
pub type Decoder = (&'static str, &'static str, fn(&str) -> Result<(), String>);

/// Decodes `json` as the output of `M`, as the client does.
pub fn decode<M: b24::Method>(json: &str) -> Result<(), String> {
    b24::de::from_str_lenient::<M::Output>(json)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Decodes every success example of every method in `decoders`, prints the counts, and
/// compares the failures with `methods/tests/schema_examples.expected` (one
/// `<docs path> #<example>` per line). `B24_EXAMPLES_BLESS=1` rewrites that file.
pub fn run(decoders: &[Decoder]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut examples: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for entry in std::fs::read_dir(root.join("schema")).expect("methods/schema") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        for m in file["methods"].as_array().into_iter().flatten() {
            let key = m["docs_path"].as_str().unwrap_or_default().to_owned();
            let list = m["examples"]["success"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            examples.insert(key, list);
        }
    }
    let (mut found, mut decoded) = (0usize, 0usize);
    let mut failures: BTreeSet<String> = BTreeSet::new();
    let mut why: Vec<String> = Vec::new();
    for (name, docs, decode) in decoders {
        for (i, example) in examples.get(*docs).into_iter().flatten().enumerate() {
            let Some(result) = example.get("result") else {
                continue;
            };
            found += 1;
            match decode(&result.to_string()) {
                Ok(()) => decoded += 1,
                Err(e) => {
                    failures.insert(format!("{docs} #{i}"));
                    why.push(format!("{name} ({docs} #{i}): {e}"));
                }
            }
        }
    }
    println!(
        "success examples: {found} found, {decoded} decoded, {} failed",
        failures.len()
    );
    for line in &why {
        println!("  {line}");
    }
    let expected_path = root.join("tests/schema_examples.expected");
    if std::env::var_os("B24_EXAMPLES_BLESS").is_some() {
        let mut text = String::from("# Success examples that do not decode with the generated types today (see schema_examples.rs).\n");
        for f in &failures {
            text.push_str(f);
            text.push('\n');
        }
        std::fs::write(&expected_path, text).expect("write expected");
    }
    let expected: BTreeSet<String> = std::fs::read_to_string(&expected_path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    // Only the methods compiled in (their scope's feature is on) are checked.
    let compiled: BTreeSet<&str> = decoders.iter().map(|d| d.1).collect();
    let expected: BTreeSet<String> = expected
        .into_iter()
        .filter(|l| {
            l.rsplit_once(" #")
                .is_some_and(|(docs, _)| compiled.contains(docs))
        })
        .collect();
    let new: Vec<&String> = failures.difference(&expected).collect();
    let fixed: Vec<&String> = expected.difference(&failures).collect();
    assert!(
        new.is_empty() && fixed.is_empty(),
        "examples that newly fail: {new:?}; expected failures that now decode (remove them from \
         schema_examples.expected): {fixed:?}"
    );
    assert!(found > 0, "no examples found");
}
