//! Stage 1 on awkward pages kept as fixtures (`tests/fixtures/api-reference/**.md`): each parse
//! is compared with the expected schema beside it (`<page>.json`, reviewed by hand), and the
//! awkward part of each page is asserted on its own.
//!
//! `B24_CODEGEN_BLESS=1 cargo test -p b24-codegen --test fixtures` rewrites the expected files.

use std::path::Path;

use b24_codegen::parse::{self, Page};
use b24_codegen::schema::{Event, Method};
use serde_json::Value;

fn parsed(rel: &str) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = std::fs::read_to_string(dir.join(rel)).expect("fixture");
    let value = match parse::page(rel, &text) {
        Page::Method(m) => serde_json::to_value(m).unwrap(),
        Page::Event(e) => serde_json::to_value(e).unwrap(),
        other => panic!("{rel}: not a method or event: {other:?}"),
    };
    let expected_path = dir.join(rel.replace(".md", ".json"));
    if std::env::var_os("B24_CODEGEN_BLESS").is_some() {
        let mut text = serde_json::to_string_pretty(&value).unwrap();
        text.push('\n');
        std::fs::write(&expected_path, text).unwrap();
    }
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(&expected_path).expect("expected json"))
            .expect("expected json parses");
    assert_eq!(
        value, expected,
        "{rel}: the parse differs from the expected schema"
    );
    value
}

fn method(rel: &str) -> Method {
    serde_json::from_value(parsed(rel)).unwrap()
}

#[test]
fn nested_result_with_link_to_a_sub_table() {
    let m = method("api-reference/imopenlines/openlines/sessions/imopenlines-dialog-get.md");
    assert_eq!(m.name, "imopenlines.dialog.get");
    assert_eq!(m.scopes, ["imopenlines"]);
    assert!(m.params.iter().all(|p| !p.required));
    let result = m.result.expect("result");
    let restrictions = result
        .fields
        .iter()
        .find(|f| f.name == "restrictions")
        .expect("restrictions");
    assert!(restrictions
        .fields
        .iter()
        .any(|f| f.name == "avatar" && f.ty == "boolean"));
    assert_eq!(m.errors.len(), 2);
    assert_eq!(m.errors[0].code, "IM_NOT_INSTALLED");
    assert_eq!(m.errors[0].status, Some(400));
    assert_eq!(m.examples.requests[0]["USER_CODE"], "livechat|1|1373|211");
}

#[test]
fn deprecated_page_with_anchored_result_type() {
    let m = method("api-reference/crm/deals/crm-deal-get.md");
    assert_eq!(m.name, "crm.deal.get");
    assert!(m.deprecated.as_deref().unwrap().contains("crm.item.get"));
    assert_eq!(m.params[0].name, "id");
    assert!(m.params[0].required);
    let result = m.result.expect("result");
    assert_eq!(result.ty, "deal");
    assert!(result.fields.len() > 40, "the `#deal` table is followed");
    assert_eq!(m.examples.success[0]["result"]["ID"], "410");
}

#[test]
fn rest_v3_page() {
    let m = method("api-reference/tasks/tasks-task-get-rest-v3.md");
    assert_eq!((m.name.as_str(), m.rest_version), ("tasks.task.get", 3));
    assert!(m.params.iter().any(|p| p.name == "id" && p.required));
}

#[test]
fn list_method() {
    let m = method("api-reference/crm/deals/crm-deal-list.md");
    assert_eq!(m.name, "crm.deal.list");
    let names: Vec<&str> = m.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["select", "filter", "order", "start"]);
    assert_eq!(m.params[0].ty, "string[]");
}

#[test]
fn page_without_an_error_table() {
    let m = method("api-reference/user/user-get.md");
    assert_eq!(m.name, "user.get");
    assert!(m.errors.is_empty());
    assert!(!m.examples.success.is_empty());
}

#[test]
fn odd_markup_required_mark_and_type_column_header() {
    let m = method("api-reference/telephony/voximplant/users/voximplant-user-deactivate-phone.md");
    assert_eq!(m.name, "voximplant.user.deactivatePhone");
    assert_eq!(m.params[0].name, "USER_ID");
    assert!(m.params[0].required, "`**USER_ID**^*^` is required");
    assert_eq!(m.params[0].ty, "integer");
}

#[test]
fn event_with_dotted_rows_and_anchored_sub_table() {
    let e: Event =
        serde_json::from_value(parsed("api-reference/crm/deals/events/on-crm-deal-add.md"))
            .unwrap();
    assert_eq!(e.name, "ONCRMDEALADD");
    let data = e.payload.iter().find(|f| f.name == "data").expect("data");
    let fields = data
        .fields
        .iter()
        .find(|f| f.name == "FIELDS")
        .expect("data.FIELDS nests");
    assert_eq!(fields.fields[0].name, "ID");
    assert_eq!(e.examples[0]["data"]["FIELDS"]["ID"], "6641");
}

#[test]
fn method_page_under_an_events_folder() {
    // `events/` holds the pages of methods about events too: a title naming a dotted method
    // without an `on` part makes it a method page, not an event page.
    let m = method("api-reference/events/event-bind.md");
    assert_eq!(m.name, "event.bind");
    let names: Vec<&str> = m.params.iter().map(|p| p.name.as_str()).collect();
    assert!(
        names.contains(&"event") && names.contains(&"handler"),
        "{names:?}"
    );
}
