//! The window and document, which a sandboxed or detached frame may lack: callers skip what needs
//! them instead of panicking. And a deadline for browser calls that may never answer.

use wasm_bindgen::JsCast;

pub fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

pub fn document() -> Option<web_sys::Document> {
    window()?.document()
}

/// `tag` created in the document, as its element type.
pub fn create<T: JsCast>(tag: &str) -> Result<T, String> {
    let element = document().ok_or("no document")?.create_element(tag).map_err(|e| format!("{e:?}"))?;
    element.dyn_into::<T>().map_err(|_| format!("<{tag}> is not the expected element"))
}

/// `future`'s output, or `None` when it takes longer than `ms`.
pub async fn within<F: std::future::Future>(ms: u32, future: F) -> Option<F::Output> {
    let timer = gloo::timers::future::TimeoutFuture::new(ms);
    match futures::future::select(Box::pin(future), timer).await {
        futures::future::Either::Left((output, _)) => Some(output),
        futures::future::Either::Right(_) => None,
    }
}
