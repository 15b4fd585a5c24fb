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

async fn read(scope: &DedicatedWorkerGlobalScope, key: &str) -> Option<Vec<u8>> {
    let cache = open(scope).await.ok()?;
    let hit = JsFuture::from(cache.match_with_str(key)).await.ok()?;
    let response: web_sys::Response = hit.dyn_into().ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

async fn write(scope: &DedicatedWorkerGlobalScope, key: &str, bytes: &[u8]) -> Result<(), String> {
    let cache = open(scope).await?;
    let response = web_sys::Response::new_with_opt_u8_array(Some(&mut bytes.to_vec()))
        .map_err(|e| format!("the browser could not hold the file ({})", super::describe(&e)))?;
    JsFuture::from(cache.put_with_str(key, &response))
        .await
        .map_err(|e| format!("the browser's storage refused the file ({})", super::describe(&e)))?;
    Ok(())
}

/// A download kept earlier, if its bytes still hash to `sha256`.
pub async fn cached(scope: &DedicatedWorkerGlobalScope, sha256: &str) -> Option<Vec<u8>> {
    let bytes = read(scope, &download_key(sha256)).await?;
    (hex::encode(Sha256::digest(&bytes)) == sha256).then_some(bytes)
}

pub async fn store(scope: &DedicatedWorkerGlobalScope, sha256: &str, bytes: &[u8]) {
    let _ = write(scope, &download_key(sha256), bytes).await;
}

/// The conversion of the checkpoint whose sha256 is `source_sha256`, if one was kept: its bytes (the
/// session validates them when it loads) and the browser's copy.
pub async fn converted(scope: &DedicatedWorkerGlobalScope, source_sha256: &str) -> Option<(Vec<u8>, web_sys::Blob)> {
    let cache = open(scope).await.ok()?;
    let hit = JsFuture::from(cache.match_with_str(&converted_key(source_sha256))).await.ok()?;
    let response: web_sys::Response = hit.dyn_into().ok()?;
    let blob: web_sys::Blob = JsFuture::from(response.blob().ok()?).await.ok()?.dyn_into().ok()?;
    let buffer = JsFuture::from(blob.array_buffer()).await.ok()?;
    Some((Uint8Array::new(&buffer).to_vec(), blob))
}

/// The browser's copy of a file.
pub fn blob(bytes: &[u8]) -> Result<web_sys::Blob, String> {
    let parts = js_sys::Array::of1(&Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts)
        .map_err(|e| format!("the browser could not hold the file ({})", super::describe(&e)))
}

/// Keeps a conversion; `Err` says why the browser would not.
pub async fn keep_converted(
    scope: &DedicatedWorkerGlobalScope,
    source_sha256: &str,
    blob: &web_sys::Blob,
) -> Result<(), String> {
    let cache = open(scope).await?;
    let response = web_sys::Response::new_with_opt_blob(Some(blob))
        .map_err(|e| format!("the browser could not hold the file ({})", super::describe(&e)))?;
    JsFuture::from(cache.put_with_str(&converted_key(source_sha256), &response))
        .await
        .map_err(|e| format!("the browser's storage refused the file ({})", super::describe(&e)))?;
    Ok(())
}
