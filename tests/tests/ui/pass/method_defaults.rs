//! What `#[b24_method]` derives when arguments are left out: scope, function name (also from a
//! mixed-case name, and a keyword one), no error codes, and `Default` without required fields.
#![deny(warnings)]

use b24::__private::serde_json::{json, to_value};
use b24::Method;

mod tasks {
    use b24::b24_method;

    /// Reads a flow. No required parameters: `new()` takes none, and `Default` exists.
    #[b24_method("tasks.flow.Flow.get", response = i64)]
    #[derive(Debug)]
    pub struct FlowGet {
        /// The flow.
        pub flow_id: Option<i64>,
        /// A field named with a keyword.
        pub r#type: Option<String>,
    }

    /// No parameters at all, in a module-private declaration.
    #[b24_method("profile", response = bool, idempotent = false)]
    pub(crate) struct Profile {}

    /// The user derives `Default`; the macro then leaves it to them.
    #[b24_method("x.type", response = bool, idempotent = true)]
    #[derive(Default)]
    pub struct Kind {
        /// Optional.
        pub id: Option<u32>,
    }
}

fn main() {
    use tasks::{FlowGet, Kind, Profile};

    assert_eq!(FlowGet::NAME, "tasks.flow.Flow.get");
    assert_eq!(FlowGet::SCOPE, "tasks");
    assert!(!FlowGet::IDEMPOTENT);
    let none: Option<b24::NoMethodErrors> =
        <<FlowGet as Method>::Error as b24::MethodError>::from_code("X", 400, "");
    assert!(none.is_none());

    assert_eq!(to_value(FlowGet::default()).unwrap(), json!({}));
    assert_eq!(to_value(FlowGet::new()).unwrap(), json!({}));
    assert_eq!(
        to_value(FlowGet::new().flow_id(5).r#type("a")).unwrap(),
        json!({"FLOW_ID": 5, "TYPE": "a"})
    );

    assert_eq!(Profile::SCOPE, "profile");
    assert!(!Profile::IDEMPOTENT);
    assert_eq!(to_value(Profile::default()).unwrap(), json!({}));

    assert_eq!(Kind::SCOPE, "x");
    assert!(Kind::IDEMPOTENT);
    assert_eq!(
        to_value(Kind::default().id(7_u8)).unwrap(),
        json!({"ID": 7})
    );

    // Free functions named after the method less its first segment.
    let client = b24::Client::from_webhook("https://example.bitrix24.com/rest/1/abc123/").unwrap();
    let _: b24::Call<'_, FlowGet> = tasks::flow_flow_get(&client);
    let _: b24::Call<'_, Profile> = tasks::profile(&client);
    let _: b24::Call<'_, Kind> = tasks::r#type(&client);
}
