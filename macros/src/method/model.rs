//! What a `#[b24_method]` declaration says, once parsed and checked.

use syn::{Attribute, Ident, ItemStruct, Path, Type};

/// A checked method declaration.
pub(crate) struct MethodDecl {
    /// The user's struct, without the `#[b24(...)]` helper attributes.
    pub(crate) item: ItemStruct,
    /// The path of the runtime in generated code.
    pub(crate) rt: Path,
    /// The method's name as the portal knows it, e.g. `imopenlines.session.start`.
    pub(crate) name: String,
    /// The permission scope.
    pub(crate) scope: String,
    /// Whether the call may be repeated.
    pub(crate) idempotent: bool,
    /// The type `result` decodes into.
    pub(crate) response: Type,
    /// The name of the free function calling the method.
    pub(crate) fn_name: Ident,
    /// The documented error codes; empty when none are declared.
    pub(crate) errors: Vec<ErrorCode>,
    /// The parameters, in declaration order.
    pub(crate) params: Vec<Param>,
    /// Whether the user derives `Default` (then no `Default` impl is generated).
    pub(crate) derives_default: bool,
    /// `list(...)`: the method is a list method, paged by `start`/`next`.
    pub(crate) list: Option<ListSpec>,
    /// `rest = 3`: called through REST 3.0.
    pub(crate) rest_v3: bool,
    /// The struct's `#[deprecated]` attribute, repeated on the free function and error enum.
    pub(crate) deprecated: Vec<Attribute>,
}

/// What `list(item = T, cursor = "ID", filter = "filter", order = "order", items = "items")`
/// says of a list method.
pub(crate) struct ListSpec {
    /// One row of the list.
    pub(crate) item: Type,
    /// The row field that orders rows and serves as the cursor of fast paging.
    pub(crate) cursor: Option<String>,
    /// The wire name of the filter parameter.
    pub(crate) filter: Option<String>,
    /// The wire name of the order parameter.
    pub(crate) order: Option<String>,
    /// The key of the rows inside `result`, when the method wraps them.
    pub(crate) items: Option<String>,
}

/// One parameter: a field of the struct.
pub(crate) struct Param {
    /// The field's name.
    pub(crate) ident: Ident,
    /// The field's type.
    pub(crate) ty: Type,
    /// `T` when the field is an `Option<T>`: an optional parameter.
    pub(crate) optional: Option<Type>,
    /// The parameter's name on the wire.
    pub(crate) wire: String,
    /// How a boolean is written.
    pub(crate) encoding: BoolEncoding,
    /// `#[b24(one_of)]`: the field's enum sends one of several parameters.
    pub(crate) one_of: bool,
    /// The field's `///` doc attributes.
    pub(crate) docs: Vec<Attribute>,
    /// The field's `#[deprecated]` attribute, repeated on its setter.
    pub(crate) deprecated: Vec<Attribute>,
}

pub(crate) use crate::util::BoolEncoding;

/// A documented error code of the method.
pub(crate) struct ErrorCode {
    /// The code as the portal sends it.
    pub(crate) code: String,
    /// The HTTP status the code comes with, when it only counts with that status.
    pub(crate) status: Option<u16>,
    /// What the code means.
    pub(crate) doc: String,
    /// The variant of the generated error enum (spanned on the declared code).
    pub(crate) variant: Ident,
}
