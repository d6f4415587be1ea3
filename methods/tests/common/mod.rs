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

/// Method name, docs path, the request's parameter wire names, and the builder of the request
/// from an example, which returns what the request serializes to.
pub type RequestCase = (
    &'static str,
    &'static str,
    &'static [&'static str],
    fn(&Value) -> Result<Value, String>,
);

/// The example's parameter `wire` decoded into a field of type `T` the lenient way (a missing
/// parameter is `null`: `None` for an optional field).
pub fn field<T: b24::Lenient>(example: &Value, wire: &str) -> Result<T, String> {
    let value = example.get(wire).unwrap_or(&Value::Null);
    b24::de::from_str_lenient::<T>(&value.to_string()).map_err(|e| format!("`{wire}`: {e}"))
}

/// What a request serializes to.
pub fn encode<M: b24::exports::serde::Serialize>(request: &M) -> Result<Value, String> {
    serde_json::to_value(request).map_err(|e| e.to_string())
}

/// A value compared as parameters: scalars as their text (the wire is form-like: `5` and `"5"`
/// are the same parameter; a float that is a whole number, `2000.0`, is the number `2000`, as
/// the portal reads it), `null`s left out.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{f:.0}"),
            _ => n.to_string(),
        }),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalize(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Builds every request example of every method in `cases` as its typed request and compares
/// what it serializes to with the example, prints the counts, and compares the failures with
/// `methods/tests/request_examples.expected`.
pub fn run_requests(cases: &[RequestCase]) {
    let examples = examples("methods", |m| &m["examples"]["requests"]);
    let (mut found, mut same) = (0usize, 0usize);
    let mut failures: BTreeSet<String> = BTreeSet::new();
    let mut why: Vec<String> = Vec::new();
    for (name, docs, wires, build) in cases {
        for (i, example) in examples.get(*docs).into_iter().flatten().enumerate() {
            let Some(params) = example.as_object() else {
                continue;
            };
            found += 1;
            let unknown: Vec<&String> = params
                .keys()
                .filter(|k| !k.eq_ignore_ascii_case("auth") && !wires.contains(&k.as_str()))
                .collect();
            let outcome = if !unknown.is_empty() {
                Err(format!("not parameters of the request: {unknown:?}"))
            } else {
                build(example).and_then(|sent| {
                    let mut expected = params.clone();
                    expected.retain(|k, _| !k.eq_ignore_ascii_case("auth"));
                    let (a, b) = (normalize(&Value::Object(expected)), normalize(&sent));
                    if a == b {
                        Ok(())
                    } else {
                        Err(format!("serializes to {b}, the example sends {a}"))
                    }
                })
            };
            match outcome {
                Ok(()) => same += 1,
                Err(e) => {
                    failures.insert(format!("{docs} #{i}"));
                    why.push(format!("{name} ({docs} #{i}): {e}"));
                }
            }
        }
    }
    println!(
        "request examples: {found} found, {same} expressed and serialized the same, {} failed",
        failures.len()
    );
    for line in &why {
        println!("  {}", line.chars().take(400).collect::<String>());
    }
    compare_expected(
        "request_examples.expected",
        "Request examples not expressible with the generated request today (see request_examples.rs).",
        &failures,
        cases.iter().map(|c| c.1).collect(),
    );
    assert!(found > 0, "no request examples found");
}
