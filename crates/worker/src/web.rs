//! The worker's browser side: message loop, the backend's device (the page has already chosen it),
//! model downloads with byte progress, sha256 checks and the Cache API. Built twice, as the CPU worker
//! (feature `cpu`) and the WebGPU worker (feature `gpu`), so each download carries one backend.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Reflect, Uint8Array};
use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use vitscope_protocol::messages::{Backend, Envelope, ModelSource, Request, Response, WorkerError, decode, encode};

use super::session::Session;

#[cfg(feature = "gpu")]
const DEVICE_TIMEOUT_MS: u32 = 30_000;

struct Worker {
    scope: DedicatedWorkerGlobalScope,
    session: Option<Session>,
    queue: VecDeque<Envelope<Request>>,
    busy: bool,
}

type Shared = Rc<RefCell<Worker>>;

/// Installs the message handler; call once from the worker's `main`.
pub fn run() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let worker: Shared =
        Rc::new(RefCell::new(Worker { scope: scope.clone(), session: None, queue: VecDeque::new(), busy: false }));
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let bytes = Uint8Array::new(&event.data()).to_vec();
        let w = worker.clone();
        match decode::<Envelope<Request>>(&bytes) {
            Ok(envelope) => {
                w.borrow_mut().queue.push_back(envelope);
                if !w.borrow().busy {
                    w.borrow_mut().busy = true;
                    wasm_bindgen_futures::spawn_local(drain(w));
                }
            }
            Err(error) => post(&w.borrow().scope, 0, &Response::Failed(error)),
        }
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&scope, 0, &Response::Listening);
}

fn post(scope: &DedicatedWorkerGlobalScope, id: u32, body: &Response) {
    let bytes = Uint8Array::from(encode(&Envelope { id, body: body.clone() }).as_slice());
    let transfer = js_sys::Array::of1(&bytes.buffer());
    let _ = scope.post_message_with_transfer(&bytes, &transfer);
}

/// Handles queued requests one at a time, so no two runs share the device or the session.
async fn drain(w: Shared) {
    loop {
        let Some(Envelope { id, body }) = w.borrow_mut().queue.pop_front() else {
            w.borrow_mut().busy = false;
            return;
        };
        let scope = w.borrow().scope.clone();
        let reply = handle(&w, &scope, id, body).await;
        post(&scope, id, &reply);
    }
}

async fn handle(w: &Shared, scope: &DedicatedWorkerGlobalScope, id: u32, request: Request) -> Response {
    match answer(w, scope, id, request).await {
        Ok(response) => response,
        Err(error) => Response::Failed(error),
    }
}

async fn answer(
    w: &Shared,
    scope: &DedicatedWorkerGlobalScope,
    id: u32,
    request: Request,
) -> Result<Response, WorkerError> {
    Ok(match request {
        Request::Start { backend } => {
            let device = start(backend).await.map_err(WorkerError::Device)?;
            w.borrow_mut().session = Some(Session::new(device));
            Response::Started { backend }
        }
        Request::LoadModel { id: model, source } => {
            let bytes = match source {
                ModelSource::Bytes(bytes) => bytes,
                ModelSource::Url { url, sha256, bytes } => download(scope, id, &model, &url, sha256.as_deref(), bytes)
                    .await
                    .map_err(|reason| WorkerError::Model { id: model.clone(), reason })?,
            };
            let mut state = w.borrow_mut();
            let session = state.session.as_mut().ok_or(WorkerError::NotStarted)?;
            Response::ModelLoaded(Box::new(session.load(&model, &bytes)?))
        }
        Request::OpenImage { bytes } => {
            let mut state = w.borrow_mut();
            let session = state.session.as_mut().ok_or(WorkerError::NotStarted)?;
            let (width, height) = session.open_image(&bytes)?;
            Response::ImageOpened { width, height }
        }
        Request::Analyze { models, filter } => {
            let start = js_sys::Date::now();
            // Taken out while it runs (requests run one at a time), so no borrow spans the awaits.
            let session = w.borrow_mut().session.take().ok_or(WorkerError::NotStarted)?;
            let result = session.analyze(&models, filter).await;
            w.borrow_mut().session = Some(session);
            Response::Analyzed { models: result?, filter, millis: js_sys::Date::now() - start }
        }
    })
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// The device of the backend the page chose (it probed the adapter before loading this worker).
async fn start(backend: Backend) -> Result<Device, String> {
    match backend {
        #[cfg(feature = "cpu")]
        Backend::Cpu => Ok(Device::flex()),
        #[cfg(feature = "gpu")]
        Backend::WebGpu => start_webgpu().await,
        #[allow(unreachable_patterns)]
        other => Err(format!("this worker was built without the {} backend", other.label())),
    }
}

#[cfg(feature = "gpu")]
async fn start_webgpu() -> Result<Device, String> {
    let init = Box::pin(Device::wgpu_options().init_with_setup_async());
    let timer = Box::pin(gloo::timers::future::TimeoutFuture::new(DEVICE_TIMEOUT_MS));
    let (device, setup) = match futures::future::select(init, timer).await {
        futures::future::Either::Left((result, _)) => {
            result.map_err(|e| format!("the WebGPU device could not start ({e})"))?
        }
        futures::future::Either::Right(_) => return Err("the WebGPU device did not start within 30 s".into()),
    };
    // A lost device (driver reset, sleep, another tab's crash) can leave a run waiting forever on a
    // buffer that never maps: the page hears of it at once and restarts on the CPU.
    setup.device.set_device_lost_callback(|reason, message| {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let message = match message.trim() {
            "" => format!("the GPU device was lost, reason {reason:?}"),
            said => format!("the GPU device was lost: {}", said.trim_end_matches('.')),
        };
        post(&scope, 0, &Response::Failed(WorkerError::Device(message)));
    });
    Ok(device)
}

fn cache_url(sha256: &str) -> String {
    format!("./vitscope-model-cache/{sha256}")
}

async fn caches(scope: &DedicatedWorkerGlobalScope) -> Option<web_sys::Cache> {
    // Throws in opaque origins and some cross-origin frames: then there is simply no cache.
    let storage = scope.caches().ok()?;
    JsFuture::from(storage.open("vitscope-models-v1")).await.ok()?.dyn_into().ok()
}

async fn cached(scope: &DedicatedWorkerGlobalScope, sha256: &str) -> Option<Vec<u8>> {
    let cache = caches(scope).await?;
    let hit = JsFuture::from(cache.match_with_str(&cache_url(sha256))).await.ok()?;
    let response: web_sys::Response = hit.dyn_into().ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    (hex::encode(Sha256::digest(&bytes)) == sha256).then_some(bytes)
}

async fn store(scope: &DedicatedWorkerGlobalScope, sha256: &str, bytes: &[u8]) {
    let Some(cache) = caches(scope).await else { return };
    let Ok(response) = web_sys::Response::new_with_opt_u8_array(Some(&mut bytes.to_vec())) else { return };
    let _ = JsFuture::from(cache.put_with_str(&cache_url(sha256), &response)).await;
}

/// Streams a model with byte progress, checks its sha256 and keeps it in the cache under it.
async fn download(
    scope: &DedicatedWorkerGlobalScope,
    request: u32,
    model: &str,
    url: &str,
    sha256: Option<&str>,
    expected: Option<u64>,
) -> Result<Vec<u8>, String> {
    if let Some(sha) = sha256
        && let Some(bytes) = cached(scope, sha).await
    {
        post(
            scope,
            request,
            &Response::Progress { id: model.into(), loaded: bytes.len() as u64, total: Some(bytes.len() as u64) },
        );
        return Ok(bytes);
    }
    let failed = |e: JsValue| format!("{url}: the download failed ({})", describe(&e));
    let response: web_sys::Response =
        JsFuture::from(scope.fetch_with_str(url)).await.map_err(failed)?.dyn_into().map_err(failed)?;
    if !response.ok() {
        return Err(format!("{url}: the server answered {} {}", response.status(), response.status_text()));
    }
    let header = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse::<u64>().ok());
    // Content-Length counts compressed bytes when the host gzips; the manifest's count is exact.
    let total = expected.or(header);
    let body = response.body().ok_or_else(|| format!("{url}: the response has no body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(1 << 30) as usize);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(failed)?;
        if get(&chunk, "done").as_bool().unwrap_or(true) {
            break;
        }
        bytes.extend(Uint8Array::new(&get(&chunk, "value")).to_vec());
        post(scope, request, &Response::Progress { id: model.into(), loaded: bytes.len() as u64, total });
    }
    if let Some(sha) = sha256 {
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha {
            return Err(format!(
                "{url}: the file's sha256 is {actual}, not the {sha} the manifest lists (a broken or changed download)"
            ));
        }
        store(scope, sha, &bytes).await;
    }
    Ok(bytes)
}

fn describe(e: &JsValue) -> String {
    e.as_string().or_else(|| get(e, "message").as_string()).unwrap_or_else(|| format!("{e:?}"))
}
