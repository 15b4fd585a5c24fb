//! The browser's Cache API as the worker's store: downloaded models under their sha256, converted
//! checkpoints under their source's sha256. Opaque origins and some cross-origin frames have no
//! cache; then nothing is kept and everything still works.

use js_sys::Uint8Array;
use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::DedicatedWorkerGlobalScope;

fn download_key(sha256: &str) -> String {
    format!("./vitscope-model-cache/{sha256}")
}

fn converted_key(source_sha256: &str) -> String {
    format!("./vitscope-converted/{source_sha256}")
}

async fn open(scope: &DedicatedWorkerGlobalScope) -> Result<web_sys::Cache, String> {
    let storage =
        scope.caches().map_err(|e| format!("the browser gives this page no storage ({})", super::describe(&e)))?;
    let cache = JsFuture::from(storage.open("vitscope-models-v1"))
        .await
        .map_err(|e| format!("the browser's storage refused to open ({})", super::describe(&e)))?;
    cache.dyn_into().map_err(|_| "the browser's storage answered oddly".into())
}

async fn matched(scope: &DedicatedWorkerGlobalScope, key: &str) -> Option<web_sys::Response> {
    let cache = open(scope).await.ok()?;
    JsFuture::from(cache.match_with_str(key)).await.ok()?.dyn_into().ok()
}

async fn put(scope: &DedicatedWorkerGlobalScope, key: &str, response: &web_sys::Response) -> Result<(), String> {
    let cache = open(scope).await?;
    JsFuture::from(cache.put_with_str(key, response))
        .await
        .map_err(|e| format!("the browser's storage refused the file ({})", super::describe(&e)))?;
    Ok(())
}

async fn bytes_of(array_buffer: js_sys::Promise) -> Option<Vec<u8>> {
    let buffer = JsFuture::from(array_buffer).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// The browser's copy of `bytes`, made without an intermediate copy.
pub fn blob(bytes: &[u8]) -> Result<web_sys::Blob, String> {
    // SAFETY: the view is read by the Blob constructor, which copies it, before anything here can
    // allocate (and so move wasm memory).
    let view = unsafe { Uint8Array::view(bytes) };
    web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&view))
        .map_err(|e| format!("the browser could not hold the file ({})", super::describe(&e)))
}

/// A download kept earlier, if its bytes still hash to `sha256`.
pub async fn cached(scope: &DedicatedWorkerGlobalScope, sha256: &str) -> Option<Vec<u8>> {
    let bytes = bytes_of(matched(scope, &download_key(sha256)).await?.array_buffer().ok()?).await?;
    (hex::encode(Sha256::digest(&bytes)) == sha256).then_some(bytes)
}

pub async fn store(scope: &DedicatedWorkerGlobalScope, sha256: &str, bytes: &[u8]) {
    let Ok(blob) = blob(bytes) else { return };
    let Ok(response) = web_sys::Response::new_with_opt_blob(Some(&blob)) else { return };
    let _ = put(scope, &download_key(sha256), &response).await;
}

/// The conversion of the checkpoint whose sha256 is `source_sha256`, if one was kept: its bytes (the
/// session validates them when it loads) and the browser's copy.
pub async fn converted(scope: &DedicatedWorkerGlobalScope, source_sha256: &str) -> Option<(Vec<u8>, web_sys::Blob)> {
    let response = matched(scope, &converted_key(source_sha256)).await?;
    let blob: web_sys::Blob = JsFuture::from(response.blob().ok()?).await.ok()?.dyn_into().ok()?;
    Some((bytes_of(blob.array_buffer()).await?, blob))
}

/// Keeps a conversion; `Err` says why the browser would not.
pub async fn keep_converted(
    scope: &DedicatedWorkerGlobalScope,
    source_sha256: &str,
    blob: &web_sys::Blob,
) -> Result<(), String> {
    let response = web_sys::Response::new_with_opt_blob(Some(blob))
        .map_err(|e| format!("the browser could not hold the file ({})", super::describe(&e)))?;
    put(scope, &converted_key(source_sha256), &response).await
}
