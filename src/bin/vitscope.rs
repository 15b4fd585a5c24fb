//! The `vitscope` command line: convert checkpoints, inspect and analyse models, benchmark.

#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(vitscope::cli::run());
}

#[cfg(target_arch = "wasm32")]
fn main() {}
