//! The page's own files: the model list, the gallery and its photos (relative URLs, so the page works
//! from any sub-path).

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::dom::window;
use crate::store::data::parse_gallery;
use crate::store::{GalleryItem, ImageInput, Manifest};

pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let failed = |e: wasm_bindgen::JsValue| {
        // A refused cross-origin answer and an unreachable host both arrive as a bare TypeError.
        let reason = match e.dyn_ref::<js_sys::Error>() {
            Some(error) if error.name() == "TypeError" => format!(
                "could not be fetched ({}): the server is unreachable or does not allow cross-origin requests (CORS)",
                String::from(error.message())
            ),
            Some(error) => String::from(error.message()),
            None => e.as_string().unwrap_or_else(|| "the request failed".into()),
        };
        format!("{url}: {reason}")
    };
    let window = window().ok_or_else(|| format!("{url}: no window to fetch from"))?;
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str(url)).await.map_err(failed)?.dyn_into().map_err(failed)?;
    if !response.ok() {
        return Err(format!("{url}: the server answered {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(failed)?).await.map_err(failed)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The bundled models, with a blog author's (`?manifest=`) in front when one is given. A broken or
/// unreachable author's manifest becomes a notice; the bundled models still load.
pub async fn manifest(author: Option<String>) -> Result<Manifest, String> {
    let bundled = Manifest::parse(&fetch_bytes("./models/manifest.json").await?, "models/manifest.json")?;
    let Some(url) = author else { return Ok(bundled) };
    match author_manifest(&url).await {
        Ok(author) => Ok(bundled.with_author(author)),
        Err(problem) => Ok(Manifest { problems: vec![format!("{problem} (showing the bundled models)")], ..bundled }),
    }
}

/// The manifest at `url`, size-capped, each model's address resolved against it.
async fn author_manifest(url: &str) -> Result<Manifest, String> {
    // A manifest is a few kilobytes; anything much larger is not one.
    const MAX_MANIFEST_BYTES: usize = 1 << 20;
    let base = web_sys::Url::new_with_base(
        url,
        &window().map(|w| w.location().href().unwrap_or_default()).unwrap_or_default(),
    )
    .map_err(|_| format!("manifest={url} is not a URL"))?;
    let bytes = fetch_bytes(&base.href()).await.map_err(|e| format!("The model list {e}"))?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(format!("The model list {url} is {} bytes, more than a manifest's 1 MiB", bytes.len()));
    }
    let mut manifest = Manifest::parse(&bytes, url)?;
    for entry in &mut manifest.models {
        let resolved = web_sys::Url::new_with_base(&entry.file, &base.href())
            .map_err(|_| format!("{url}: `{}` is not a URL", entry.file))?;
        if !matches!(resolved.protocol().as_str(), "http:" | "https:") {
            return Err(format!("{url}: `{}` is not an http(s) address", entry.file));
        }
        entry.url = Some(resolved.href());
    }
    Ok(manifest)
}

/// The gallery, or none when it is missing (the page then waits for the user's own image).
pub async fn gallery() -> Vec<GalleryItem> {
    fetch_bytes("./gallery/MANIFEST.tsv").await.map(|b| parse_gallery(&String::from_utf8_lossy(&b))).unwrap_or_default()
}

pub async fn gallery_image(file: String) -> Result<ImageInput, String> {
    let bytes = fetch_bytes(&format!("./gallery/{file}")).await?;
    Ok(ImageInput { name: file.clone(), bytes: Rc::new(bytes), gallery: Some(file) })
}
