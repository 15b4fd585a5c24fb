//! The explorer page (wasm32, built by Trunk).

#[cfg(target_arch = "wasm32")]
fn main() {
    vitscope::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the explorer is a web page: build it with `trunk build --release` (see the README)");
    std::process::exit(2);
}
