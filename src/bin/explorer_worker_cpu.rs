//! The explorer's CPU inference worker (wasm32, built by Trunk as a Web Worker; `cpu` feature only).

#[cfg(target_arch = "wasm32")]
fn main() {
    vitscope::worker::web::run();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("explorer-worker-cpu runs in the browser: build the page with `trunk build --release`");
    std::process::exit(2);
}
