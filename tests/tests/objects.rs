//! `#[b24_object]` structs decode through the runtime's shared field loop
//! (`b24_runtime::decl`), not serde's derive: what serde's derive did must still hold (missing
//! and repeated keys, PHP's `[]` for an empty object, positional arrays, flatten), for objects of
//! any size.

use std::collections::BTreeMap;

use b24::de::from_str_lenient;
use b24::exports::serde_json::{self, json, Value};
use b24::{b24_object, DateTime};

/// A lead row, as `crm.*.list` answers carry them.
#[b24_object(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: u64,
    pub title: Option<String>,
    pub date_create: Option<DateTime>,
    #[b24(default)]
    pub tags: Vec<String>,
    pub nested: Option<Inner>,
    #[b24(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// Every field optional or defaulted: PHP sends `[]` for it when empty.
#[b24_object(rename_all = "camelCase")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inner {
    pub can_join: Option<bool>,
    #[b24(default)]
    pub count: i64,
    #[b24(rename = "type", default)]
    pub kind: String,
}

/// Seventy fields: past the 64 whose repeats are tracked in one word.
macro_rules! wide {
    ($($f:ident),*) => {
        #[b24_object]
        #[derive(Debug, Default, PartialEq)]
        pub struct Wide {
            $(#[b24(default)] pub $f: i64,)*
        }
    };
}

wide!(
    f00, f01, f02, f03, f04, f05, f06, f07, f08, f09, f10, f11, f12, f13, f14, f15, f16, f17, f18,
    f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31, f32, f33, f34, f35, f36, f37,
    f38, f39, f40, f41, f42, f43, f44, f45, f46, f47, f48, f49, f50, f51, f52, f53, f54, f55, f56,
    f57, f58, f59, f60, f61, f62, f63, f64, f65, f66, f67, f68, f69
);

fn err<T: b24::Lenient + std::fmt::Debug>(json: &str) -> String {
    from_str_lenient::<T>(json).expect_err(json).to_string()
}

#[test]
fn decodes_leniently_with_defaults_and_flatten() {
    let row: Row = from_str_lenient(
        r#"{"ID": "12", "TITLE": "", "DATE_CREATE": "",
            "NESTED": {"canJoin": "Y", "count": "3", "type": "x"}, "UF_CRM_1": [1], "X": null}"#,
    )
    .unwrap();
    assert_eq!(row.id, 12);
    assert_eq!(row.title.as_deref(), Some(""), "a string takes \"\"");
    assert_eq!(row.date_create, None, "a date does not: \"\" is no value");
    assert!(row.tags.is_empty(), "missing: the default");
    assert_eq!(
        row.nested,
        Some(Inner {
            can_join: Some(true),
            count: 3,
            kind: "x".into()
        })
    );
    assert_eq!(
        row.other,
        BTreeMap::from([("UF_CRM_1".into(), json!([1])), ("X".into(), Value::Null)]),
        "the keys no field takes, and only those"
    );
    // Written back: declared names, `None` left out, flattened keys inline.
    assert_eq!(
        serde_json::to_value(&row).unwrap(),
        json!({"ID": 12, "TITLE": "", "TAGS": [],
               "NESTED": {"canJoin": true, "count": 3, "type": "x"}, "UF_CRM_1": [1], "X": null})
    );
}

#[test]
fn php_empty_arrays_and_positional_arrays() {
    // `[]` for an object whose fields all have defaults: the object of defaults.
    assert_eq!(from_str_lenient::<Inner>("[]").unwrap(), Inner::default());
    let row: Row = from_str_lenient(r#"{"ID": 1, "NESTED": []}"#).unwrap();
    assert_eq!(row.nested, Some(Inner::default()));
    // As serde's derive read them: an array is the fields in order.
    assert_eq!(
        from_str_lenient::<Inner>(r#"["N", 2]"#).unwrap(),
        Inner {
            can_join: Some(false),
            count: 2,
            kind: String::new()
        }
    );
    assert!(err::<Inner>(r#"[true, 1, "a", "extra"]"#).contains("invalid length"));
}

#[test]
fn shape_errors_name_the_key() {
    let cases = [
        (r#"{"TITLE": "x"}"#, "missing field `ID`"),
        (r#"{"ID": 1, "ID": 2}"#, "duplicate field `ID`"),
        (r#"{"ID": "x1"}"#, "an integer"),
        (r#""row""#, "expected struct Row"),
        ("null", "expected struct Row"),
    ];
    for (json, expected) in cases {
        let message = err::<Row>(json);
        assert!(message.contains(expected), "{json}: {message}");
    }
    // The paths of shape errors (`.DEPARTMENTS[1]`, `.ADMIN` …) through the client are checked
    // in `e2e_client.rs`.
}

#[test]
fn repeated_keys_are_caught_past_64_fields() {
    let wide: Wide = from_str_lenient(r#"{"f00": 1, "f63": "2", "f64": 3, "f69": 4}"#).unwrap();
    assert_eq!((wide.f00, wide.f63, wide.f64, wide.f69), (1, 2, 3, 4));
    for key in ["f00", "f63", "f64", "f69"] {
        let json = format!(r#"{{"{key}": 1, "f01": 2, "{key}": 3}}"#);
        let message = err::<Wide>(&json);
        assert!(
            message.contains(&format!("duplicate field `{key}`")),
            "{message}"
        );
    }
}

/// Flags of a request object, as a portal wants them (`bizproc.activity.update`'s
/// `FIELDS.USE_SUBSCRIPTION` is `"Y"`/`"N"`): written so, read back from any of the portal's forms.
#[b24_object(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    #[b24(yn)]
    pub use_subscription: Option<bool>,
    #[b24(int_bool)]
    pub active: bool,
    pub plain: Option<bool>,
}

/// The same, on a struct with serde attributes of its own (serde's derive writes it).
#[b24_object]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DerivedFlags {
    #[b24(yn)]
    #[serde(alias = "open")]
    pub opened: bool,
}

#[test]
fn flags_in_objects_are_written_as_declared() {
    let cases = [
        (
            Flags {
                use_subscription: Some(true),
                active: false,
                plain: Some(true),
            },
            json!({"USE_SUBSCRIPTION": "Y", "ACTIVE": 0, "PLAIN": true}),
        ),
        (
            Flags {
                use_subscription: Some(false),
                active: true,
                plain: None,
            },
            json!({"USE_SUBSCRIPTION": "N", "ACTIVE": 1}),
        ),
        (Flags::default(), json!({"ACTIVE": 0})),
    ];
    for (flags, wire) in cases {
        assert_eq!(serde_json::to_value(&flags).unwrap(), wire);
        assert_eq!(from_str_lenient::<Flags>(&wire.to_string()).unwrap(), flags);
    }
    let derived = DerivedFlags { opened: true };
    assert_eq!(
        serde_json::to_value(&derived).unwrap(),
        json!({"opened": "Y"})
    );
    assert_eq!(
        from_str_lenient::<DerivedFlags>(r#"{"open": "Y"}"#).unwrap(),
        derived
    );
}
