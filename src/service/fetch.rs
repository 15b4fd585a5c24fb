//! The page's own files: the model list, the gallery and its photos (relative URLs, so the page works
//! from any sub-path).

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::dom::window;
use crate::store::data::parse_gallery;
use crate::store::{GalleryItem, ImageInput, Manifest};

pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let failed = |e: wasm_bindgen::JsValue| format!("{url}: {}", e.as_string().unwrap_or_else(|| format!("{e:?}")));
    let window = window().ok_or_else(|| format!("{url}: no window to fetch from"))?;
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str(url)).await.map_err(failed)?.dyn_into().map_err(failed)?;
    if !response.ok() {
        return Err(format!("{url}: the server answered {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(failed)?).await.map_err(failed)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

pub async fn manifest() -> Result<Manifest, String> {
    let bytes = fetch_bytes("./models/manifest.json").await?;
    serde_json::from_slice(&bytes).map_err(|e| format!("models/manifest.json is malformed: {e}"))
}

/// The gallery, or none when it is missing (the page then waits for the user's own image).
pub async fn gallery() -> Vec<GalleryItem> {
    fetch_bytes("./gallery/MANIFEST.tsv").await.map(|b| parse_gallery(&String::from_utf8_lossy(&b))).unwrap_or_default()
}

pub async fn gallery_image(file: String) -> Result<ImageInput, String> {
    let bytes = fetch_bytes(&format!("./gallery/{file}")).await?;
    Ok(ImageInput { name: file.clone(), bytes: Rc::new(bytes), gallery: Some(file) })
}
