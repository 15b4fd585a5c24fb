//! The page's own files: the model list, the gallery and its photos (relative URLs, so the page works
//! from any sub-path); and a blog author's model list (`?manifest=`), streamed within its limits.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::dom::{window, within};
use crate::store::data::parse_gallery;
use crate::store::{GalleryItem, ImageInput, Manifest};
use vitscope_protocol::download::{Budget, STALL_MS};

/// Why a fetch failed, in words: a refused cross-origin answer and an unreachable host both arrive
/// as a bare TypeError.
fn failure(url: &str, e: wasm_bindgen::JsValue) -> String {
    let reason = match e.dyn_ref::<js_sys::Error>() {
        Some(error) if error.name() == "TypeError" => format!(
            "could not be fetched ({}): the server is unreachable or does not allow cross-origin requests (CORS)",
            String::from(error.message())
        ),
        Some(error) => String::from(error.message()),
        None => e.as_string().unwrap_or_else(|| "the request failed".into()),
    };
    format!("{url}: {reason}")
}

async fn respond(url: &str) -> Result<web_sys::Response, String> {
    let window = window().ok_or_else(|| format!("{url}: no window to fetch from"))?;
    let answer = within(STALL_MS, JsFuture::from(window.fetch_with_str(url)))
        .await
        .ok_or_else(|| format!("{url}: the server did not answer within {} s", STALL_MS / 1000))?;
    let response: web_sys::Response = answer.map_err(|e| failure(url, e))?.dyn_into().map_err(|e| failure(url, e))?;
    if !response.ok() {
        return Err(format!("{url}: the server answered {}", response.status()));
    }
    Ok(response)
}

/// One of the page's own files.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let response = respond(url).await?;
    let buffer =
        JsFuture::from(response.array_buffer().map_err(|e| failure(url, e))?).await.map_err(|e| failure(url, e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A file from an address someone else chose, streamed through `budget`: refused when its headers
/// say it is a web page or too large, stopped when it sends more than the limit or falls silent.
async fn fetch_limited(url: &str, budget: Budget) -> Result<Vec<u8>, String> {
    let response = respond(url).await?;
    let headers = response.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let length = header("content-length").and_then(|v| v.parse::<u64>().ok());
    budget.check_headers(header("content-type").as_deref(), length).map_err(|e| format!("{url}: {e}"))?;
    let body = response.body().ok_or_else(|| format!("{url}: the answer has no body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    let stop = |reader: &web_sys::ReadableStreamDefaultReader, why: String| {
        let _ = reader.cancel();
        format!("{url}: {why}")
    };
    loop {
        let Some(chunk) = within(STALL_MS, JsFuture::from(reader.read())).await else {
            return Err(stop(&reader, budget.stalled(bytes.len() as u64)));
        };
        let chunk = chunk.map_err(|e| failure(url, e))?;
        let field = |key: &str| js_sys::Reflect::get(&chunk, &key.into()).unwrap_or_default();
        if field("done").as_bool().unwrap_or(true) {
            return Ok(bytes);
        }
        let chunk = field("value").dyn_into::<js_sys::Uint8Array>().unwrap_or_else(|v| js_sys::Uint8Array::new(&v));
        // Straight into place: `to_vec` then `extend` would copy each chunk twice.
        let start = bytes.len();
        bytes.resize(start + chunk.length() as usize, 0);
        chunk.copy_to(&mut bytes[start..]);
        budget.check(bytes.len() as u64).map_err(|why| stop(&reader, why))?;
    }
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
    let base = web_sys::Url::new_with_base(
        url,
        &window().map(|w| w.location().href().unwrap_or_default()).unwrap_or_default(),
    )
    .map_err(|_| format!("manifest={url} is not a URL"))?;
    // A manifest is a few kilobytes; anything much larger is not one.
    let bytes = fetch_limited(&base.href(), Budget::manifest()).await.map_err(|e| format!("The model list {e}"))?;
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
    let bytes = gallery_bytes(&file).await?;
    Ok(ImageInput::file(file.clone(), bytes, Some(file)))
}

pub async fn gallery_bytes(file: &str) -> Result<Rc<Vec<u8>>, String> {
    fetch_bytes(&format!("./gallery/{file}")).await.map(Rc::new)
}
