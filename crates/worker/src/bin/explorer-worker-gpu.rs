//! The WebGPU worker: `vitscope_worker::main` built with `--features gpu` (burn's wgpu backend).
fn main() {
    vitscope_worker::main();
}
