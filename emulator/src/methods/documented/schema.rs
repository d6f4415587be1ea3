//! The committed docs schema (`methods/schema/<scope>.json`), read as data: each method's
//! required parameters, error table and the page's JSON examples.
//!
//! The files are compiled in with `include_str!` through the `emulator/schema` link to
//! `methods/schema/`, so that the emulator (and its published crate, which carries the files)
//! serves them with no path to find at run time and no second copy to keep in sync. They are
//! parsed once, on the first call of a method that has no handler, and borrowed from the binary:
//! names, descriptions and examples are not copied; an example is parsed when it is answered.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::value::RawValue;

/// The schema files: (scope, JSON text).
pub(crate) const FILES: &[(&str, &str)] = &[
    ("ai_admin", include_str!("../../../schema/ai_admin.json")),
    ("basic", include_str!("../../../schema/basic.json")),
    (
        "biconnector",
        include_str!("../../../schema/biconnector.json"),
    ),
    ("bizproc", include_str!("../../../schema/bizproc.json")),
    ("calendar", include_str!("../../../schema/calendar.json")),
    ("call", include_str!("../../../schema/call.json")),
    ("cashbox", include_str!("../../../schema/cashbox.json")),
    ("catalog", include_str!("../../../schema/catalog.json")),
    ("crm", include_str!("../../../schema/crm.json")),
    ("delivery", include_str!("../../../schema/delivery.json")),
    (
        "department",
        include_str!("../../../schema/department.json"),
    ),
    ("disk", include_str!("../../../schema/disk.json")),
    (
        "documentgenerator",
        include_str!("../../../schema/documentgenerator.json"),
    ),
    ("entity", include_str!("../../../schema/entity.json")),
    (
        "humanresources",
        include_str!("../../../schema/humanresources.json"),
    ),
    ("im", include_str!("../../../schema/im.json")),
    ("imbot", include_str!("../../../schema/imbot.json")),
    (
        "imconnector",
        include_str!("../../../schema/imconnector.json"),
    ),
    (
        "imopenlines",
        include_str!("../../../schema/imopenlines.json"),
    ),
    ("landing", include_str!("../../../schema/landing.json")),
    ("lists", include_str!("../../../schema/lists.json")),
    ("log", include_str!("../../../schema/log.json")),
    ("mail", include_str!("../../../schema/mail.json")),
    (
        "mailservice",
        include_str!("../../../schema/mailservice.json"),
    ),
    ("main", include_str!("../../../schema/main.json")),
    (
        "messageservice",
        include_str!("../../../schema/messageservice.json"),
    ),
    ("note", include_str!("../../../schema/note.json")),
    (
        "pay_system",
        include_str!("../../../schema/pay_system.json"),
    ),
    ("placement", include_str!("../../../schema/placement.json")),
    ("rpa", include_str!("../../../schema/rpa.json")),
    ("sale", include_str!("../../../schema/sale.json")),
    (
        "salescenter",
        include_str!("../../../schema/salescenter.json"),
    ),
    (
        "socialnetwork",
        include_str!("../../../schema/socialnetwork.json"),
    ),
    ("sonet", include_str!("../../../schema/sonet.json")),
    ("task", include_str!("../../../schema/task.json")),
    ("tasks", include_str!("../../../schema/tasks.json")),
    ("telephony", include_str!("../../../schema/telephony.json")),
    ("unscoped", include_str!("../../../schema/unscoped.json")),
    ("user", include_str!("../../../schema/user.json")),
    (
        "user.userfield",
        include_str!("../../../schema/user.userfield.json"),
    ),
    (
        "userconsent",
        include_str!("../../../schema/userconsent.json"),
    ),
    (
        "userfieldconfig",
        include_str!("../../../schema/userfieldconfig.json"),
    ),
    ("vote", include_str!("../../../schema/vote.json")),
];

/// One method of the docs, as far as the emulator needs it.
#[derive(Debug)]
pub struct DocumentedMethod {
    pub(super) name: Cow<'static, str>,
    pub(super) docs_path: Cow<'static, str>,
    pub(super) rest_version: u8,
    /// Names of the top-level parameters the page marks required.
    pub(super) required: Vec<Cow<'static, str>>,
    /// Names of all top-level parameters (to tell a generic error text from one naming another
    /// parameter).
    pub(super) params: Vec<Cow<'static, str>>,
    /// The error table.
    pub(super) errors: Vec<TableError<'static>>,
    /// The page's first JSON success example: the whole envelope (`result`, `next`, `total`,
    /// `time`).
    pub(super) success: Option<&'static RawValue>,
    /// The page's JSON error examples (`{"error": …, "error_description": …}`).
    pub(super) error_examples: Vec<&'static RawValue>,
}

/// A row of a page's error table.
#[derive(Debug, Deserialize)]
pub(super) struct TableError<'a> {
    #[serde(borrow)]
    pub(super) code: Cow<'a, str>,
    #[serde(default)]
    pub(super) status: Option<u16>,
    #[serde(default, borrow)]
    pub(super) description: Cow<'a, str>,
}

/// Every method, by lowercased name: REST 2 (`/rest/…`) and REST 3.0 (`/rest/api/…`) apart.
#[derive(Debug, Default)]
pub(crate) struct Index {
    pub(crate) classic: HashMap<String, DocumentedMethod>,
    pub(crate) v3: HashMap<String, DocumentedMethod>,
    /// Files that did not parse (scope, reason); empty for the committed schema (tested).
    pub(crate) broken: Vec<(&'static str, String)>,
}

/// The index, built on first use.
pub(crate) fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| build(FILES))
}

#[derive(Deserialize)]
struct File<'a> {
    #[serde(borrow)]
    methods: Vec<RawMethod<'a>>,
}

#[derive(Deserialize)]
struct RawMethod<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    rest_version: u8,
    #[serde(default, borrow)]
    docs_path: Cow<'a, str>,
    #[serde(default, borrow)]
    params: Vec<RawParam<'a>>,
    #[serde(default, borrow)]
    errors: Vec<TableError<'a>>,
    #[serde(default, borrow)]
    examples: RawExamples<'a>,
}

#[derive(Deserialize)]
struct RawParam<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    required: bool,
}

#[derive(Default, Deserialize)]
struct RawExamples<'a> {
    #[serde(default, borrow)]
    success: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    errors: Vec<&'a RawValue>,
}

/// A name a client can send: the docs tables sometimes hold prose ("Automation rule name") or a
/// note ("TITLE (LANG)") in the name column; those are not checked.
fn is_wire_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn build(files: &[(&'static str, &'static str)]) -> Index {
    let mut index = Index::default();
    for &(scope, text) in files {
        let file: File<'static> = match serde_json::from_str(text) {
            Ok(file) => file,
            Err(error) => {
                tracing::warn!(scope, %error, "b24-emulator: a schema file does not parse");
                index.broken.push((scope, error.to_string()));
                continue;
            }
        };
        for raw in file.methods {
            let method = DocumentedMethod {
                required: raw
                    .params
                    .iter()
                    .filter(|p| p.required && is_wire_name(&p.name))
                    .map(|p| p.name.clone())
                    .collect(),
                params: raw
                    .params
                    .iter()
                    .filter(|p| is_wire_name(&p.name))
                    .map(|p| p.name.clone())
                    .collect(),
                name: raw.name,
                docs_path: raw.docs_path,
                rest_version: raw.rest_version,
                errors: raw.errors,
                success: raw.examples.success.first().copied(),
                error_examples: raw.examples.errors,
            };
            let map = if method.rest_version == 3 {
                &mut index.v3
            } else {
                &mut index.classic
            };
            // A name on several pages (an old and a new page of one method): the first page with
            // a success example answers.
            let key = method.name.to_lowercase();
            match map.get(&key) {
                Some(kept) if kept.success.is_some() || method.success.is_none() => {}
                _ => {
                    map.insert(key, method);
                }
            }
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_committed_file_is_compiled_in_and_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schema");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("emulator/schema links to methods/schema")
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                Some(name.strip_suffix(".json")?.to_owned())
            })
            .collect();
        on_disk.sort();
        let mut compiled: Vec<String> = FILES.iter().map(|(s, _)| (*s).to_owned()).collect();
        compiled.sort();
        assert_eq!(compiled, on_disk, "add the new schema file to FILES");

        let index = index();
        assert!(index.broken.is_empty(), "{:?}", index.broken);
        assert!(index.classic.len() > 1_000, "{}", index.classic.len());
        assert!(!index.v3.is_empty());
    }

    #[test]
    fn a_broken_file_is_skipped_not_fatal() {
        let index = build(&[
            ("broken", "{\"methods\": [{\"name\": 1}]}"),
            ("good", "{\"methods\": [{\"name\": \"a.b\", \"params\": [{\"name\": \"X\", \"required\": true}, {\"name\": \"Y (LANG)\", \"required\": true}]}]}"),
        ]);
        assert_eq!(index.broken.len(), 1);
        assert_eq!(index.classic["a.b"].required, ["X"]);
    }

    #[test]
    fn the_first_page_with_a_success_example_answers_for_a_name() {
        let index = build(&[(
            "dup",
            r#"{"methods": [
                {"name": "A.B", "docs_path": "old.md"},
                {"name": "a.b", "docs_path": "new.md", "examples": {"success": [{"result": 1}]}},
                {"name": "a.b", "docs_path": "newer.md", "examples": {"success": [{"result": 2}]}}
            ]}"#,
        )]);
        assert_eq!(index.classic["a.b"].docs_path, "new.md");
    }
}
