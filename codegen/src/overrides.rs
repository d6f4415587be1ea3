//! `methods/overrides.toml`: the hand knowledge the docs do not carry, in one file.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Which schema methods get Rust, and the default features.
    pub generate: Generate,
    /// Per method, by its name.
    #[serde(default)]
    pub method: BTreeMap<String, MethodOverride>,
}

/// `[generate]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    /// Method name prefixes (`"crm.lead."`) or `"*"` for every method.
    pub methods: Vec<String>,
    /// The features of `default`.
    pub default_features: Vec<String>,
}

/// `[method."name"]`: what to change in one method's declaration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodOverride {
    /// Why: shown in the generated file.
    pub why: String,
    /// The `response = …` type (types of `extra` may be named).
    pub response: Option<String>,
    /// `list(…)` arguments, e.g. `item = Lead, cursor = "ID"`.
    pub list: Option<String>,
    /// Forces idempotency either way.
    pub idempotent: Option<bool>,
    /// A hand-written file beside the generated one, included as a private module whose
    /// public items are re-exported.
    pub extra: Option<String>,
    /// Public items of `extra` to re-export at the scope module.
    #[serde(default)]
    pub exports: Vec<String>,
    /// Per parameter, by wire name.
    #[serde(default)]
    pub param: BTreeMap<String, ParamOverride>,
    /// `false` drops the page's `#[deprecated]`.
    pub deprecated: Option<bool>,
    /// Markdown appended to the struct's docs (examples), lines kept.
    pub doc: Option<String>,
    /// Extra derives of the request struct (e.g. `Eq`).
    #[serde(default)]
    pub derives: Vec<String>,
}

/// `[method."name".param.WIRE]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamOverride {
    /// The Rust type, without `Option` (the docs decide whether it is required).
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// The field name.
    pub field: Option<String>,
    /// `yn`, `int_bool` or `json`.
    pub encoding: Option<String>,
    /// Replaces the doc comment.
    pub doc: Option<String>,
    /// Forces required (true) or optional (false).
    pub required: Option<bool>,
}

impl Overrides {
    /// Parses the file.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Whether Rust is generated for `method`.
    pub fn selected(&self, method: &str) -> bool {
        self.generate.methods.iter().any(|p| {
            p == "*" || method == p.trim_end_matches('.') || method.starts_with(p.as_str())
        })
    }

    /// How many overrides there are: one per method entry, per parameter entry.
    pub fn count(&self) -> usize {
        self.method.values().map(|m| 1 + m.param.len()).sum()
    }
}
