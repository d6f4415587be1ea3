//! One replica of an application as its own process (see `b24_tests::replica`): spawned many
//! times by the `replicas_*` tests.

fn main() -> std::process::ExitCode {
    b24_tests::replica::main()
}
