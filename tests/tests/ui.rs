//! Compile-time tests of `#[b24_method]` and `#[b24_object]`.
//!
//! `ui/pass`: declarations that compile and behave (each `main` runs and asserts).
//! `ui/fail`: mistakes, each with the message the user reads in its `.stderr`. After changing a
//! message, regenerate with `TRYBUILD=overwrite cargo test -p b24-tests --test ui` and review the
//! diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
