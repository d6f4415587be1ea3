//! Stage 2 for events: each event page's `data` payload as a `#[b24_object]` struct that
//! implements `b24::Event`, in `methods/src/<scope>/events/<event>.rs`.
//!
//! Rules:
//! - The feature is the page's first scope; without one, the docs folder below
//!   `api-reference/` when it is a scope with methods (`crm`), else `event`.
//! - The fields are the sub-table of the payload's `data` row; when the page documents none,
//!   they are inferred from the `data` of the page's first JSON example (strings, integers,
//!   nested objects; lists as `serde_json::Value`), and the docs say so.
//! - The struct is named after the page's camel-case spelling of the event (`OnCrmDealAdd`),
//!   found in its title or description, else the name in UpperCamelCase.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_json::Value;

use super::{
    bounded, doc, examples_test_head, mod_ident, root_module, shape, trim_doc_end, write_object,
    Obj, Shapes, Stats, HEADER,
};
use crate::schema::{Event, Field, ScopeFile, Skipped};

/// An event placed in the module tree.
pub(super) struct PlacedEvent<'a> {
    pub(super) event: &'a Event,
    /// `[scope module, "events", file]`.
    pub(super) segments: Vec<String>,
    pub(super) feature: String,
    pub(super) ident: String,
    /// The payload's fields, documented or inferred.
    fields: Vec<Field>,
    /// Whether `fields` were inferred from the example.
    inferred: bool,
}

/// Places every event of the schema; those whose payload cannot be a struct are skipped.
pub(super) fn place_events<'a>(
    scopes: &'a [ScopeFile],
    skipped: &mut Vec<Skipped>,
) -> Vec<PlacedEvent<'a>> {
    let features: BTreeSet<String> = scopes
        .iter()
        .flat_map(|s| &s.methods)
        .filter_map(|m| m.scopes.first())
        .map(|s| s.replace(['.', '-'], "_"))
        .collect();
    let mut all: Vec<&Event> = scopes.iter().flat_map(|s| &s.events).collect();
    all.sort_by(|a, b| (&a.name, &a.docs_path).cmp(&(&b.name, &b.docs_path)));
    let mut taken: BTreeSet<(String, String)> = BTreeSet::new();
    let mut out = Vec::new();
    for e in all {
        let skip = |reason: &str| Skipped {
            docs_path: e.docs_path.clone(),
            reason: format!("event `{}`: {reason}", e.name),
        };
        let feature = match e.scopes.first() {
            Some(s) => s.replace(['.', '-'], "_"),
            None => e
                .docs_path
                .split('/')
                .nth(1)
                .filter(|d| features.contains(*d))
                .unwrap_or("event")
                .to_owned(),
        };
        let documented = e
            .payload
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case("data"))
            .map(|f| f.fields.clone())
            .unwrap_or_default();
        let (fields, inferred) = if documented.is_empty() {
            match e.examples.iter().find_map(|x| x.get("data")) {
                Some(Value::Object(map)) => (infer(map), true),
                Some(Value::Array(a)) if a.is_empty() => (Vec::new(), true),
                Some(_) => {
                    skipped.push(skip("the example's `data` is not an object"));
                    continue;
                }
                None => (Vec::new(), true),
            }
        } else {
            (documented, false)
        };
        let ident = event_ident(e);
        let root = root_module(&feature).unwrap_or(&feature).to_owned();
        if !taken.insert((root.clone(), ident.clone())) {
            skipped.push(skip(&format!("its Rust name `{ident}` is taken")));
            continue;
        }
        let file = ident.to_snake_case();
        out.push(PlacedEvent {
            event: e,
            segments: vec![root, "events".into(), file],
            feature,
            ident,
            fields,
            inferred,
        });
    }
    out
}

/// `OnCrmDealAdd` for `ONCRMDEALADD`, from the page's own spelling.
fn event_ident(e: &Event) -> String {
    let upper = e.name.to_uppercase();
    for text in [&e.title, &e.description] {
        for word in text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
            if word.to_uppercase() == upper && word.chars().any(|c| c.is_ascii_lowercase()) {
                let mut s = word.to_owned();
                if let Some(first) = s.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                return s;
            }
        }
    }
    e.name.to_upper_camel_case()
}

/// Fields from an example object: what its values are.
fn infer(map: &serde_json::Map<String, Value>) -> Vec<Field> {
    map.iter()
        .map(|(k, v)| {
            let (ty, fields) = match v {
                Value::Object(m) if !m.is_empty() => ("object", infer(m)),
                Value::Object(_) => ("object", Vec::new()),
                Value::String(_) => ("string", Vec::new()),
                Value::Number(n) if n.is_i64() || n.is_u64() => ("integer", Vec::new()),
                Value::Number(_) => ("double", Vec::new()),
                Value::Bool(_) => ("boolean", Vec::new()),
                Value::Array(_) | Value::Null => ("", Vec::new()),
            };
            Field {
                name: k.clone(),
                ty: ty.into(),
                required: false,
                description: String::new(),
                fields,
            }
        })
        .collect()
}

/// One event's file: its text and the names to re-export.
pub(super) fn event_file(
    p: &PlacedEvent<'_>,
    shapes: &mut Shapes,
    stats: &mut Stats,
) -> (String, Vec<String>) {
    let e = p.event;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{HEADER} from `{}` (methods/schema/{}.json).\n// Do not edit: run `cargo run -p b24-codegen`.\n",
        e.docs_path,
        e.scopes.first().map_or("unscoped", String::as_str),
    );
    let _ = writeln!(s, "//! The event `{}`: {}", e.name, e.title.trim());
    let _ = writeln!(s, "//!\n//! Docs: `{}`.", e.docs_path);
    if e.deprecated.is_some() {
        let _ = writeln!(s, "\n#![allow(deprecated)]");
    }
    let _ = writeln!(s, "\nuse crate::b24_object;\n");
    let ident = &p.ident;
    let mut description = bounded(&e.description);
    if description.is_empty() {
        description = e.title.clone();
    }
    let mut text = format!("The `data` of the event `{}`. {description}", e.name);
    if p.inferred {
        text.push_str(
            "\n\nThe page documents no fields of `data`: these are inferred from its example, \
             and its lists are untyped (`serde_json::Value`).",
        );
    }
    let mut objects = vec![Obj {
        name: ident.clone(),
        doc: format!("{text}\n\nDocs: `{}`.", e.docs_path),
        fields: p.fields.clone(),
        param: false,
    }];
    let mut exports = Vec::new();
    let mut i = 0;
    while i < objects.len() {
        let obj = Obj {
            name: objects[i].name.clone(),
            doc: objects[i].doc.clone(),
            fields: objects[i].fields.clone(),
            param: false,
        };
        if i > 0 {
            s.push('\n');
        }
        let key = (p.feature.clone(), false, shape(&obj.fields));
        match shapes.get(&key) {
            Some(first) if i > 0 => {
                doc(&mut s, "", &obj.doc);
                trim_doc_end(&mut s, "");
                s.push_str(&super::same_shape(first));
                let _ = writeln!(s, "pub type {} = {first};", obj.name);
                stats.aliases += 1;
            }
            _ => {
                if i == 0 {
                    if let Some(note) = &e.deprecated {
                        let mut attr = String::new();
                        let _ = writeln!(attr, "#[deprecated(note = {:?})]", bounded(note));
                        // written after the docs, before the attribute macro
                        let mut body = String::new();
                        write_object(&mut body, &obj, &mut objects, stats, &[]);
                        let at = body.find("#[b24_object]").unwrap_or(0);
                        body.insert_str(at, &attr);
                        s.push_str(&body);
                    } else {
                        write_object(&mut s, &obj, &mut objects, stats, &[]);
                    }
                } else {
                    let mut module: Vec<String> = p.segments.iter().map(|s| mod_ident(s)).collect();
                    module.push(obj.name.clone());
                    shapes.insert(key, format!("crate::{}", module.join("::")));
                    write_object(&mut s, &obj, &mut objects, stats, &[]);
                }
                stats.objects += 1;
            }
        }
        exports.push(obj.name.clone());
        i += 1;
    }
    let _ = writeln!(
        s,
        "\nimpl crate::Event for {ident} {{\n    const NAME: &'static str = {:?};\n}}",
        e.name.to_uppercase()
    );
    (s, exports)
}

/// `methods/tests/event_examples.rs`: decodes the `data` of every event page's examples with
/// the generated payload type.
pub(super) fn event_examples_test(events: &[PlacedEvent<'_>]) -> String {
    let mut s = examples_test_head(
        "methods/schema/*.json",
        "The `data` of every JSON example on an event page decodes with the generated payload\n\
         type of its event, and the type's `NAME` is the example's `event`.",
        "",
        "The decoders, by event name and docs path.",
        "decoders",
        "common::EventDecoder",
    );
    for e in events {
        let module: Vec<String> = e.segments.iter().map(|s| mod_ident(s)).collect();
        let _ = writeln!(s, "    #[cfg(feature = \"{}\")]", e.feature);
        let _ = writeln!(
            s,
            "    list.push(({:?}, common::decode_event::<b24::{}::{}>));",
            e.event.docs_path,
            module.join("::"),
            e.ident
        );
    }
    s.push_str(
        "    list\n}\n\n#[test]\nfn event_examples_decode() {\n    common::run_events(&decoders());\n}\n",
    );
    s
}
