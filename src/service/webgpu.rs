//! Whether this browser has a WebGPU adapter worth using. The page asks before it loads a worker, so
//! it downloads only the worker of the backend it will run (the WebGPU one is the larger by far).

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::dom::within;

const ADAPTER_TIMEOUT_MS: u32 = 10_000;

/// Large enough for a ViT-B/16's stacked attention and metric buffers.
const MIN_STORAGE_BINDING: f64 = (128u64 << 20) as f64;

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `Ok(adapter description)` when WebGPU should run the models, else `Err(why the CPU runs them)`.
/// A software adapter (SwiftShader, lavapipe) is far slower than the CPU path, so it counts only
/// when `allow_software` (the URL asked for WebGPU).
pub async fn probe(allow_software: bool) -> Result<String, String> {
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no WebGPU (navigator.gpu is missing), so the CPU runs the models".into());
    }
    let Ok(promise) = get(&gpu, "requestAdapter").unchecked_ref::<js_sys::Function>().call0(&gpu) else {
        return Err("WebGPU refused to look for an adapter; the CPU runs the models".into());
    };
    // A browser whose GPU process is stuck never answers: give it a few seconds.
    let request = JsFuture::from(js_sys::Promise::from(promise));
    let adapter = within(ADAPTER_TIMEOUT_MS, request).await.and_then(Result::ok).unwrap_or(JsValue::NULL);
    if adapter.is_null() || adapter.is_undefined() {
        return Err(
            "WebGPU found no adapter (requestAdapter gave null or did not answer); the CPU runs the models".into()
        );
    }
    let info = get(&adapter, "info");
    let text = |k: &str| get(&info, k).as_string().unwrap_or_default().to_lowercase();
    let described = format!("{} {} {}", text("vendor"), text("architecture"), text("description"));
    let described = described.trim();
    let software = get(&info, "isFallbackAdapter").as_bool().unwrap_or(false)
        || get(&adapter, "isFallbackAdapter").as_bool().unwrap_or(false)
        || ["swiftshader", "llvmpipe", "lavapipe", "software"].iter().any(|s| described.contains(s));
    if software && !allow_software {
        return Err(format!(
            "the only WebGPU adapter is a software one ({described}), far slower than the CPU path; add backend=webgpu to the URL to use it anyway"
        ));
    }
    let limit = get(&get(&adapter, "limits"), "maxStorageBufferBindingSize").as_f64().unwrap_or(0.0);
    if limit < MIN_STORAGE_BINDING {
        return Err(format!(
            "this GPU's storage buffers are too small ({} MiB, 128 MiB needed); the CPU runs the models",
            (limit / 1048576.0) as u64
        ));
    }
    Ok(if described.is_empty() { "GPU".to_string() } else { described.to_string() })
}
