//! Procedural macros of [b24](https://docs.rs/b24), the Bitrix24 REST framework.
//!
//! Use them through the `b24` crate, which re-exports them: the docs of [`b24_method`] and
//! [`b24_object`] below are what users read there. Generated code reaches the runtime through
//! `::b24` (or `::b24_runtime` when only that is a dependency, or the path given with
//! `crate = "…"`), and serde only through the runtime, so users need not depend on serde.
//!
//! Layout: `method/` and `object/` each hold the model of a declaration (`model.rs`), its
//! parsing and checking (`parse.rs`: every mistake is collected and reported at once) and its
//! code generation (`expand.rs`); `util.rs` holds what both share.

mod method;
mod object;
mod util;

#[cfg(test)]
mod expansion_size;

use proc_macro::TokenStream;

/// Declares a Bitrix24 REST method: the struct's named fields are its parameters.
///
/// ```
/// use b24::b24_method;
///
/// /// Starts a new session in an open line chat.
/// #[b24_method(
///     "imopenlines.session.start",
///     response = bool,
///     errors(
///         CHAT_ID = "Empty or invalid `CHAT_ID`.",
///         CHAT_TYPE(400) = "The specified chat does not belong to open lines.",
///     ),
/// )]
/// #[derive(Debug, Clone)]
/// pub struct SessionStart {
///     /// The open line chat.
///     pub chat_id: i64,
///     /// Whether to activate the session.
///     #[b24(yn)]
///     pub activate: Option<bool>,
/// }
///
/// # async fn demo(client: &b24::Client) -> Result<(), b24::Error<SessionStartError>> {
/// let started: bool = session_start(client, 2043).await?;
/// let started = client.call(SessionStart::new(2043).activate(true)).await?;
/// # Ok(()) }
/// ```
///
/// # Arguments
///
/// | argument | meaning | default |
/// | --- | --- | --- |
/// | `"scope.method.name"` | first, required: the name as the portal knows it; dot-separated segments of ASCII letters, digits and `_`, case kept | |
/// | `response = Type` | required: what `result` decodes into, any `b24::Lenient` type (plain types, `Vec`, maps, `Option`, `#[b24_object]` types) | |
/// | `scope = "…"` | the permission scope | the name's first segment |
/// | `idempotent` (or `= true`/`false`) | whether the call may be retried after a failure that may have happened after the portal ran it | `false` |
/// | `fn_name = ident` | the name of the free function | the name less its first segment, segments snake-cased and joined with `_`: `tasks.flow.Flow.get` → `flow_flow_get` |
/// | `errors(CODE = "…", CODE(400) = "…", "code-x" = "…")` | the method's documented error codes: an identifier or a string literal, an optional HTTP status (then the code only counts with that status), and what it means | none |
/// | `list(item = T, cursor = "ID", filter = "filter", order = "order", items = "items")` | a list method (answers carry `next`/`total`, takes `start`): the row type, and optionally the row field that orders rows for fast cursor paging, the wire names of the filter and order parameters, and the key of the rows inside `result` when it wraps them; implements `ListMethod`, so that `client.list(..)`, `list_fast(..)` and `list_parallel(..)` stream the rows | not a list method |
/// | `rest = 3` | the REST API the method is called through: `2`, the classic `/rest/<method>`, or `3`, REST 3.0 (`/rest/api/<method>`); sets `Method::API_VERSION` | `2` |
/// | `crate = "path"` | where the runtime is, when not found as `b24` or `b24_runtime` | |
///
/// # Fields
///
/// Each field is a parameter, sent under the SCREAMING_SNAKE_CASE of its name (`chat_id` →
/// `CHAT_ID`). `Option<T>` fields are optional: left out of the request when `None`. The field
/// attribute `#[b24(...)]` takes:
/// - `rename = "NAME"`: the parameter's wire name;
/// - `yn`: a `bool` or `Option<bool>` sent as `"Y"`/`"N"`;
/// - `int_bool`: a `bool` or `Option<bool>` sent as `1`/`0`;
/// - `one_of`: "exactly one of these parameters". The field's type is an enum declared with
///   `#[b24_object(one_of)]`, one variant per parameter, each holding that parameter's value; the
///   request sends the one parameter its value names (an `Option` field: at most one). A value
///   of the enum is exactly one variant, so the constructor guarantees the rule:
///
/// ```
/// use b24::{b24_method, b24_object};
///
/// /// Pass only one of `TRANSFER_ID`, `USER_ID`, `QUEUE_ID`.
/// #[b24_object(one_of)]
/// #[derive(Debug, Clone)]
/// pub enum TransferTarget {
///     /// An operator, or `queue<LINE_ID>`.
///     #[b24(rename = "TRANSFER_ID")]
///     Transfer(String),
///     /// Sent as `USER_ID`.
///     UserId(i64),
///     /// Sent as `QUEUE_ID`.
///     QueueId(i64),
/// }
///
/// #[b24_method("imopenlines.operator.transfer", response = bool)]
/// #[derive(Debug, Clone)]
/// pub struct OperatorTransfer {
///     pub chat_id: i64,
///     #[b24(one_of)]
///     pub target: TransferTarget,
/// }
///
/// let params = OperatorTransfer::new(101, TransferTarget::UserId(7)); // {"CHAT_ID":101,"USER_ID":7}
/// ```
///
/// A parameter's type must be one b24 can send (`b24::ParamValue`: numbers, `bool`, strings,
/// dates, `Option`, `Vec`, maps, `serde_json::Value`, `#[b24_object]` types); a type with its own
/// `serde::Serialize` opts in with `impl b24::ParamValue for MyType {}`.
///
/// A `#[deprecated]` struct or field stays deprecated for its users (the free function, error
/// enum and setters carry the attribute too) and compiles without warnings where it is declared.
///
/// `AUTH` is reserved for the OAuth token, which the client adds itself.
///
/// # Generated
///
/// - the struct as written (derives are yours), its docs ending with the method's name and
///   scope;
/// - `new(required…)` taking each required parameter as `impl Into<T>`, and a setter per
///   optional one (`.activate(true)`); without required parameters, `new()` and `Default`;
/// - `Serialize` (the request's parameters) and `b24::Method`;
/// - with `errors(...)`, the enum `<Struct>Error` (one variant per code, holding the server's
///   `description`) implementing `b24::MethodError`, `Display` and `Error`; without,
///   `b24::NoMethodErrors`;
/// - the free function `session_start(&client, required…)`, returning the call to `.await`.
///
/// Mistakes in the declaration are reported together, each on the tokens at fault.
#[proc_macro_attribute]
pub fn b24_method(attr: TokenStream, item: TokenStream) -> TokenStream {
    method::b24_method(attr.into(), item.into()).into()
}

/// Declares a response object, a nested parameter object or a string enum.
///
/// ```
/// use b24::b24_object;
///
/// #[b24_object(rename_all = "camelCase")]
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct HistoryChat {
///     #[b24(rename = "entityData1")]
///     pub entity_data_1: String,
///     pub avatar_id: Option<i64>,
///     #[b24(flatten)]
///     pub rest: std::collections::HashMap<String, b24::__private::serde_json::Value>,
/// }
///
/// #[b24_object]
/// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// pub enum ChatType {
///     #[b24(rename = "lines")]
///     Lines,
///     #[b24(rename = "chat")]
///     Chat,
///     #[b24(other)]
///     Unknown,
/// }
/// ```
///
/// Goes on a struct with named fields or an enum of unit variants. Arguments:
/// - `rename_all = "…"`: any of serde's rules (`"camelCase"`, `"SCREAMING_SNAKE_CASE"`, …);
/// - `one_of`: an enum of alternative method parameters, each variant holding one parameter's
///   value (`UserId(i64)` is sent as `USER_ID`, or as its `#[b24(rename = "…")]`); see
///   `#[b24(one_of)]` in [`b24_method`];
/// - `crate = "path"`: where the runtime is, when not found as `b24` or `b24_runtime`.
///
/// Field attributes, `#[b24(...)]`:
/// - `rename = "name"`: the key in JSON;
/// - `strict`: plain serde decoding instead of the lenient one;
/// - `default`: a missing key takes the field type's `Default`;
/// - `flatten`: serde's `flatten` (e.g. a map catching the keys no field takes);
/// - `yn` / `int_bool`: a `bool` or `Option<bool>` written as `"Y"`/`"N"` or `1`/`0`, for an
///   object sent as a parameter (`fields: {"OPENED": "Y"}`); read back from any form.
///
/// Every field is decoded by `b24::Lenient` (numbers in strings, `"Y"`/`"N"` booleans, `[]` for
/// empty maps…) unless `strict`; `Option` fields are `None` when missing and left out when
/// written. Your own `#[serde(...)]` attributes are kept (see below). A `flatten` field takes the
/// keys no other field takes, decoded by its own `Deserialize` (several `flatten` fields each see
/// all of them).
///
/// Variant attributes, `#[b24(...)]`: `rename = "value"`, and `other` for the one variant that
/// takes any value no other variant names. Every other variant needs its wire value, from
/// `rename` or from the enum's `rename_all`: a variant without one is a compile error, never the
/// Rust name sent silently.
///
/// Implements `b24::Lenient`, serde's `Serialize` and `Deserialize` (the same lenient decoding)
/// and `b24::ParamValue`, so the type can be a method's `response`, part of one, or a parameter.
/// A struct's decoder is a small table of its keys driven by one shared field loop in the
/// runtime, not serde's derive, to keep each declaration cheap to compile; a struct that carries
/// your own `#[serde(...)]` attributes, and string enums, use serde's derives instead. Either
/// way, `#[deprecated]` items and fields compile without warnings where they are declared.
#[proc_macro_attribute]
pub fn b24_object(attr: TokenStream, item: TokenStream) -> TokenStream {
    object::b24_object(attr.into(), item.into()).into()
}
