//! What a `#[b24_object]` declaration says, once parsed and checked.

use syn::{Ident, Item, LitStr, Path};

use crate::util::BoolEncoding;

/// A checked object declaration.
pub(crate) struct ObjectDecl {
    /// The user's struct or enum, without the `#[b24(...)]` helper attributes.
    pub(crate) item: Item,
    /// The path of the runtime in generated code.
    pub(crate) rt: Path,
    /// serde's `rename_all`, checked.
    pub(crate) rename_all: Option<LitStr>,
    /// The fields or variants, in declaration order.
    pub(crate) shape: Shape,
    /// Whether the user wrote `#[serde(...)]` attributes (on the item or a field): then serde's
    /// derives are used, which read them.
    pub(crate) user_serde: bool,
}

/// A struct's fields or an enum's variants.
pub(crate) enum Shape {
    /// A struct with named fields.
    Struct(Vec<FieldDecl>),
    /// An enum of unit variants.
    Enum(Vec<VariantDecl>),
    /// `#[b24_object(one_of)]`: an enum of alternative parameters, each variant holding one.
    OneOf(Vec<Alternative>),
}

/// A variant of a `one_of` enum.
pub(crate) struct Alternative {
    /// The variant.
    pub(crate) ident: Ident,
    /// The parameter it sends.
    pub(crate) wire: LitStr,
}

/// How one field is written and read.
#[derive(Default)]
pub(crate) struct FieldDecl {
    /// The field's name in JSON, when not the (`rename_all`-converted) field name.
    pub(crate) rename: Option<LitStr>,
    /// Plain serde decoding, without leniency (also when the user gives their own
    /// `#[serde(deserialize_with)]` or `#[serde(with)]`).
    pub(crate) strict: bool,
    /// A missing field takes its `Default`.
    pub(crate) default: bool,
    /// serde's `flatten` (decoded by serde, never leniently).
    pub(crate) flatten: bool,
    /// The field is an `Option`: missing → `None`, `None` is not written.
    pub(crate) optional: bool,
    /// `#[b24(yn)]` / `#[b24(int_bool)]`: a `bool` written as `"Y"`/`"N"` or `1`/`0` (read
    /// leniently either way).
    pub(crate) encoding: Option<BoolEncoding>,
    /// serde attributes the user wrote on the field, which are not repeated.
    pub(crate) user_serde: Vec<String>,
}

/// How one variant is written and read.
pub(crate) struct VariantDecl {
    /// The variant's string, when not the (`rename_all`-converted) variant name.
    pub(crate) rename: Option<LitStr>,
    /// The catch-all variant for any other string.
    pub(crate) other: bool,
}
