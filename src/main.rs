//! The explorer page (wasm32, built by Trunk). [`store`] (the page's state and logic) and [`figures`]
//! (what each view draws, as data) are plain Rust, tested natively; the rest is the Yew page.
// Natively only the pure modules compile (for their tests): their users are the wasm32 page.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod figures;
mod store;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod service;
#[cfg(target_arch = "wasm32")]
mod views;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    yew::Renderer::<app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the explorer is a web page: build it with `trunk build --release` (see the README)");
    std::process::exit(2);
}
