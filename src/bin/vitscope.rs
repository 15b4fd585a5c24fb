//! The `vitscope` command line: convert checkpoints, inspect and analyse models, benchmark.

fn main() {
    std::process::exit(vitscope::cli::run());
}
