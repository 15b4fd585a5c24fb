//! The `vitscope` command line: convert checkpoints, inspect and analyse models, benchmark.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(vitscope::cli::run());
}
