//! Runs the decoding of the schema's success examples (`schema_examples.rs`) and event examples
//! (`event_examples.rs`), both generated; each test uses its half.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

/// Method name, docs path, and the decoder of its `result`.
pub type Decoder = (&'static str, &'static str, fn(&str) -> Result<(), String>);

/// Docs path, and the decoder of an event's `data` that returns the type's `NAME`.
pub type EventDecoder = (&'static str, fn(&str) -> Result<&'static str, String>);

/// Decodes `json` as the output of `M`, as the client does.
pub fn decode<M: b24::Method>(json: &str) -> Result<(), String> {
    b24::de::from_str_lenient::<M::Output>(json)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Decodes `json` as the `data` of the event `E`, as a handler does.
pub fn decode_event<E: b24::Event>(json: &str) -> Result<&'static str, String> {
    serde_json::from_str::<E>(json)
        .map(|_| E::NAME)
        .map_err(|e| e.to_string())
}

/// The examples of every schema entry of `kind` (`methods`, `events`) by docs path, found with
/// `pick` in each entry.
fn examples(kind: &str, pick: fn(&Value) -> &Value) -> BTreeMap<String, Vec<Value>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root.join("schema")).expect("methods/schema") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        for m in file[kind].as_array().into_iter().flatten() {
            let key = m["docs_path"].as_str().unwrap_or_default().to_owned();
            out.insert(key, pick(m).as_array().cloned().unwrap_or_default());
        }
    }
    out
}

/// Decodes every success example of every method in `decoders`, prints the counts, and
/// compares the failures with `methods/tests/schema_examples.expected`.
pub fn run(decoders: &[Decoder]) {
    let examples = examples("methods", |m| &m["examples"]["success"]);
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
    compare_expected(
        "schema_examples.expected",
        "Success examples that do not decode with the generated types today (see schema_examples.rs).",
        &failures,
        decoders.iter().map(|d| d.1).collect(),
    );
    assert!(found > 0, "no examples found");
}

/// Decodes the `data` of every example of every event page in `decoders`, checks that the
/// type's `NAME` is the example's `event` (upper-cased), prints the counts, and compares the
/// failures with `methods/tests/event_examples.expected`.
pub fn run_events(decoders: &[EventDecoder]) {
    let examples = examples("events", |e| &e["examples"]);
    let (mut found, mut decoded) = (0usize, 0usize);
    let mut failures: BTreeSet<String> = BTreeSet::new();
    let mut why: Vec<String> = Vec::new();
    for (docs, decode) in decoders {
        for (i, example) in examples.get(*docs).into_iter().flatten().enumerate() {
            let Some(data) = example.get("data") else {
                continue;
            };
            found += 1;
            let sent = example["event"].as_str().unwrap_or_default().to_uppercase();
            match decode(&data.to_string()) {
                Ok(name) if name == sent => decoded += 1,
                Ok(name) => {
                    failures.insert(format!("{docs} #{i}"));
                    why.push(format!(
                        "{docs} #{i}: NAME is {name}, the example sends {sent}"
                    ));
                }
                Err(e) => {
                    failures.insert(format!("{docs} #{i}"));
                    why.push(format!("{docs} #{i}: {e}"));
                }
            }
        }
    }
    println!(
        "event examples: {found} found, {decoded} decoded, {} failed",
        failures.len()
    );
    for line in &why {
        println!("  {line}");
    }
    compare_expected(
        "event_examples.expected",
        "Event examples whose `data` does not decode with the generated types today (see event_examples.rs).",
        &failures,
        decoders.iter().map(|d| d.0).collect(),
    );
    assert!(found > 0, "no event examples found");
}

/// Compares the failures with `methods/tests/<file>` (one `<docs path> #<example>` per line),
/// restricted to the docs paths compiled in (their scope's feature is on): a new failure and an
/// expected one that now decodes both fail. `B24_EXAMPLES_BLESS=1` rewrites the file.
fn compare_expected(
    file: &str,
    title: &str,
    failures: &BTreeSet<String>,
    compiled: BTreeSet<&str>,
) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(file);
    if std::env::var_os("B24_EXAMPLES_BLESS").is_some() {
        let mut text = format!("# {title}\n");
        for f in failures {
            text.push_str(f);
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write expected");
    }
    let expected: BTreeSet<String> = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter(|l| {
            l.rsplit_once(" #")
                .is_some_and(|(docs, _)| compiled.contains(docs))
        })
        .map(str::to_owned)
        .collect();
    let new: Vec<&String> = failures.difference(&expected).collect();
    let fixed: Vec<&String> = expected.difference(failures).collect();
    assert!(
        new.is_empty() && fixed.is_empty(),
        "examples that newly fail: {new:?}; expected failures that now decode (remove them from \
         methods/tests/{file}): {fixed:?}"
    );
}
