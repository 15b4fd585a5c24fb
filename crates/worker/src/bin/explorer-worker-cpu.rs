//! The CPU worker: `vitscope_worker::main` built with `--features cpu` (burn's flex backend).
fn main() {
    vitscope_worker::main();
}
