//! Declarations written by a `macro_rules!` macro: the generated code stays hygienic whatever
//! spans the field names and types come with.
#![deny(warnings)]

use b24::__private::serde_json::{json, to_value};
use b24::Method;

macro_rules! getter {
    ($name:literal, $ty:ident { $($field:ident: $fty:ty),* }) => {
        /// Declared by a macro.
        #[b24::b24_method($name, response = bool, errors(NOT_FOUND(404) = "Not found."))]
        pub struct $ty {
            $(
                /// A field.
                pub $field: $fty,
            )*
        }
    };
}

getter!("crm.deal.get", DealGet { id: u64, client: Option<String> });
getter!("crm.lead.get", LeadGet { id: u64 });

fn main() {
    assert_eq!(DealGet::NAME, "crm.deal.get");
    assert_eq!(
        to_value(DealGet::new(3_u8).client("c")).unwrap(),
        json!({"ID": 3, "CLIENT": "c"})
    );
    assert_eq!(to_value(LeadGet::new(4_u32)).unwrap(), json!({"ID": 4}));
    let client = b24::Client::from_webhook("https://example.bitrix24.com/rest/1/abc123/").unwrap();
    let _ = deal_get(&client, 1_u64);
    let _ = lead_get(&client, 2_u64);
    assert!(<DealGetError as b24::MethodError>::from_code("NOT_FOUND", 404, "").is_some());
}
