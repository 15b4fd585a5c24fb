//! The explorer's inference worker: the browser-free work ([`session`]) and, on wasm32, the glue that
//! answers the page's messages, fetches and caches models ([`web`]). One binary, built once per
//! backend (`--features cpu` or `gpu`), so each download carries one backend.

pub mod session;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use session::Session;

/// The worker's entry point: installs the message handler in the browser; natively it only says
/// where it runs.
pub fn main() {
    #[cfg(target_arch = "wasm32")]
    web::run();
    #[cfg(not(target_arch = "wasm32"))]
    {
        eprintln!("the explorer's worker runs in the browser: build the page with `trunk build --release`");
        std::process::exit(2);
    }
}
