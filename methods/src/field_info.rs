//! [`FieldInfo`]: one field of an entity as its `*.fields` method describes it.

use std::collections::BTreeMap;

use crate::b24_object;
use crate::exports::serde_json::Value;

/// One field of an entity as its `*.fields` method describes it: `crm.lead.fields` answers
/// `{"TITLE": {"type": "string", "isRequired": false, "isReadOnly": false, …, "title": "Lead
/// Title"}, …}`. The generated `*.fields` methods whose page shows such an answer return these
/// by field name (`BTreeMap<String, FieldInfo>`).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let fields: std::collections::BTreeMap<String, b24::FieldInfo> = b24::de::from_str_lenient(
///     r#"{"HONORIFIC": {"type": "crm_status", "isRequired": false, "isReadOnly": false,
///        "isImmutable": false, "isMultiple": false, "isDynamic": false,
///        "statusType": "HONORIFIC", "title": "Salutation"}}"#,
/// )?;
/// let honorific = &fields["HONORIFIC"];
/// assert_eq!(honorific.kind, "crm_status");
/// assert_eq!(honorific.status_type, Some("HONORIFIC".into()));
/// assert!(!honorific.is_required);
/// # Ok(()) }
/// ```
#[b24_object(rename_all = "camelCase")]
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct FieldInfo {
    /// The field's type: `integer`, `string`, `crm_status`, `enumeration`, `double`, …
    #[b24(rename = "type", default)]
    pub kind: String,
    /// Required when the entity is added.
    #[b24(default)]
    pub is_required: bool,
    /// Set by the portal only.
    #[b24(default)]
    pub is_read_only: bool,
    /// Set when the entity is added, never changed after.
    #[b24(default)]
    pub is_immutable: bool,
    /// Holds a list of values.
    #[b24(default)]
    pub is_multiple: bool,
    /// A user field (`UF_…`).
    #[b24(default)]
    pub is_dynamic: bool,
    /// The field's name for people.
    pub title: Option<String>,
    /// For a `crm_status` field: its status type (the `ENTITY_ID` of `crm.status.list`); a string,
    /// or a list of them (`crm.requisite.fields`' `RQ_IDENT_TYPE`).
    pub status_type: Option<Value>,
    /// A user field's label in lists.
    pub list_label: Option<String>,
    /// A user field's label in forms.
    pub form_label: Option<String>,
    /// A user field's label in filters.
    pub filter_label: Option<String>,
    /// The values of an enumeration field.
    pub items: Option<Value>,
    /// Type-specific settings.
    pub settings: Option<Value>,
    /// Every other key the portal sends.
    #[b24(flatten)]
    pub other: BTreeMap<String, Value>,
}
