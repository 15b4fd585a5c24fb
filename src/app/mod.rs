//! The explorer page. [`state`] (what is shown, as a URL) is plain Rust and tested natively; the
//! rest is the Yew page, which talks to the inference worker through [`bridge`].

pub mod state;

#[cfg(target_arch = "wasm32")]
mod bridge;
#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod draw;
#[cfg(target_arch = "wasm32")]
mod views;
#[cfg(target_arch = "wasm32")]
mod webgpu;

#[cfg(target_arch = "wasm32")]
pub fn start() {
    console_error_panic_hook::set_once();
    yew::Renderer::<component::App>::new().render();
}
