//! The two readers of a PHP form agree with the writer: whatever event a portal encodes
//! (`b24_emulator::events::form::encode`, PHP's `http_build_query`), the application's reader
//! (`b24::app::form::parse`) and the emulator's (`b24_emulator::wire::php_query::parse`, PHP's
//! `$_POST` rules) both read back exactly that event.

use b24::app::form::{parse, FormLimits};
use b24_emulator::events::form::encode;
use b24_emulator::wire::php_query;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// A form as Bitrix24 sends one: string leaves (PHP writes every scalar as text), names of
/// letters, digits and `_` (an event's keys), values of any text, lists and maps never empty
/// (`http_build_query` leaves empty ones out), at most 4 levels deep.
fn form() -> impl Strategy<Value = Value> {
    let name = "[A-Za-z_][A-Za-z0-9_]{0,8}";
    let leaf = any::<String>().prop_map(Value::String);
    let tree = leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..6).prop_map(Value::Array),
            prop::collection::btree_map(name, inner, 1..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    });
    prop::collection::btree_map(name, tree, 0..6)
        .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn both_readers_read_back_what_the_portal_wrote(event in form()) {
        let body = encode(&event);
        let app = parse(body.as_bytes(), FormLimits::default()).map(Value::Object);
        let emulator = php_query::parse(body.as_bytes()).map(Value::Object);
        prop_assert_eq!(app.as_ref().ok(), Some(&event), "{}", body);
        prop_assert_eq!(emulator.as_ref().ok(), Some(&event), "{}", body);
    }
}

/// Where PHP's receiving rules and the application's reader part ways, by choice: the
/// application reads what the portal meant (names as sent), PHP's `$_POST` mangles them. A
/// portal never sends such names; the table keeps the difference known.
#[test]
fn the_readers_differ_only_where_php_mangles_names() {
    for (body, app, emulator) in [
        ("a.b=1", r#"{"a.b": "1"}"#, r#"{"a_b": "1"}"#),
        ("a+b=1", r#"{"a b": "1"}"#, r#"{"a_b": "1"}"#),
        ("a[b=1", r#"{"a[b": "1"}"#, r#"{"a_b": "1"}"#),
        (
            "a[x]=1&a[]=2",
            r#"{"a": {"x": "1", "0": "2"}}"#,
            r#"{"a": {"x": "1", "0": "2"}}"#,
        ),
    ] {
        let read = |v: Result<Map<String, Value>, String>| v.map(Value::Object).unwrap();
        let want = |text: &str| serde_json::from_str::<Value>(text).unwrap();
        let got_app =
            read(parse(body.as_bytes(), FormLimits::default()).map_err(|e| e.to_string()));
        let got_emulator = read(php_query::parse(body.as_bytes()).map_err(|e| e.to_string()));
        assert_eq!(got_app, want(app), "{body}: the application's reader");
        assert_eq!(
            got_emulator,
            want(emulator),
            "{body}: the emulator's reader"
        );
    }
}
