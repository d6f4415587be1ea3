//! `methods/tests/request_examples.rs`: each page's request example (the cURL `-d` bodies in
//! the schema) is built as the typed request, field by field from the example's values (decoded
//! the lenient way the client decodes answers), and serializes back to the same parameters.

use std::fmt::Write as _;

use super::{examples_test_head, mod_ident, Placed, RequestField};

/// The test file.
pub(super) fn request_examples_test(placed: &[Placed<'_>], fields: &[Vec<RequestField>]) -> String {
    let mut s = examples_test_head(
        "methods/schema/*.json and methods/overrides.toml",
        "Every request example of the docs (the cURL `-d` bodies, `methods/schema/*.json`) is\n\
         expressible with the generated request: each parameter decodes into its field, and the\n\
         request serializes to the same parameters. The failures expected today are committed in\n\
         `methods/tests/request_examples.expected` so that a regression fails.",
        "use common::{field, RequestCase};\n\n",
        "The builders, by method name and docs path.",
        "cases",
        "RequestCase",
    );
    for (p, fields) in placed.iter().zip(fields) {
        if p.method.examples.requests.is_empty() {
            continue;
        }
        let module: Vec<String> = p.segments.iter().map(|s| mod_ident(s)).collect();
        let wires: Vec<String> = fields.iter().map(|f| format!("{:?}", f.wire)).collect();
        let _ = writeln!(s, "    #[cfg(feature = \"{}\")]", p.feature);
        let _ = write!(
            s,
            "    list.push(({:?}, {:?}, &[{}], |{}| common::encode(&b24::{}::{} {{",
            p.method.name,
            p.method.docs_path,
            wires.join(", "),
            if fields.is_empty() { "_" } else { "ex" },
            module.join("::"),
            p.ident
        );
        for f in fields {
            let _ = write!(s, " {}: field(ex, {:?})?,", f.ident, f.wire);
        }
        s.push_str(" })));\n");
    }
    s.push_str(
        "    list\n}\n\n#[test]\nfn request_examples_round_trip() {\n    common::run_requests(&cases());\n}\n",
    );
    s
}
