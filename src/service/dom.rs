//! The window and document, which a sandboxed or detached frame may lack: callers skip what needs
//! them instead of panicking.

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
