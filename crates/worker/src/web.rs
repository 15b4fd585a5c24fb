//! The worker's browser side: message loop, the backend's device (the page has already chosen it),
//! model downloads with byte progress, sha256 checks, dropped files read in slices and converted,
//! and the Cache API ([`storage`]). Built twice, as the CPU worker (feature `cpu`) and the WebGPU
//! worker (feature `gpu`), so each download carries one backend.

mod blob;
mod storage;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use burn::tensor::Device;
use js_sys::{Array, Reflect, Uint8Array};
use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use vitscope_convert::ByteSource;
use vitscope_convert::checkpoint::{is_vitscope_file, sha256};
use vitscope_core::weights::ModelFile;
use vitscope_protocol::download::{Budget, STALL_MS};
use vitscope_protocol::messages::{
    Backend, Converted, Envelope, Kept, ModelSource, Request, Response, Stage, WorkerError, decode, encode,
};

use super::session::{Analysed, Session};

/// A request, and the `File` the page attached to it (a dropped model travels beside its request).
type Incoming = (Envelope<Request>, Option<web_sys::File>);

#[cfg(feature = "gpu")]
const DEVICE_TIMEOUT_MS: u32 = 30_000;

struct Worker {
    scope: DedicatedWorkerGlobalScope,
    session: Option<Session>,
    queue: VecDeque<Incoming>,
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
        // `[message, File]` when a file travels with the request, else the message alone.
        let data = event.data();
        let (message, file) = match data.dyn_ref::<Array>() {
            Some(parts) => (parts.get(0), parts.get(1).dyn_into::<web_sys::File>().ok()),
            None => (data, None),
        };
        // A view of the message's bytes: `Uint8Array::new` of a Uint8Array would copy them first.
        let bytes = message.dyn_into::<Uint8Array>().unwrap_or_else(|m| Uint8Array::new(&m)).to_vec();
        let w = worker.clone();
        match decode::<Envelope<Request>>(&bytes) {
            Ok(envelope) => {
                w.borrow_mut().queue.push_back((envelope, file));
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
    post_with(scope, id, body, None);
}

/// `[message, Blob]` when a file travels beside the reply (a `Blob` is passed by reference).
fn post_with(scope: &DedicatedWorkerGlobalScope, id: u32, body: &Response, blob: Option<&web_sys::Blob>) {
    let bytes = Uint8Array::from(encode(&Envelope { id, body }).as_slice());
    let transfer = js_sys::Array::of1(&bytes.buffer());
    let _ = match blob {
        Some(blob) => scope.post_message_with_transfer(&Array::of2(&bytes, blob), &transfer),
        None => scope.post_message_with_transfer(&bytes, &transfer),
    };
}

/// Handles queued requests one at a time, so no two runs share the device or the session.
async fn drain(w: Shared) {
    loop {
        let Some((Envelope { id, body }, file)) = w.borrow_mut().queue.pop_front() else {
            w.borrow_mut().busy = false;
            return;
        };
        let scope = w.borrow().scope.clone();
        let reply = handle(&w, &scope, id, body, file).await;
        post(&scope, id, &reply);
    }
}

async fn handle(
    w: &Shared,
    scope: &DedicatedWorkerGlobalScope,
    id: u32,
    request: Request,
    file: Option<web_sys::File>,
) -> Response {
    match answer(w, scope, id, request, file).await {
        Ok(response) => response,
        Err(error) => Response::Failed(error),
    }
}

async fn answer(
    w: &Shared,
    scope: &DedicatedWorkerGlobalScope,
    id: u32,
    request: Request,
    file: Option<web_sys::File>,
) -> Result<Response, WorkerError> {
    Ok(match request {
        Request::Start { backend } => {
            let device = start(backend).await.map_err(WorkerError::Device)?;
            w.borrow_mut().session = Some(Session::new(device));
            Response::Started { backend }
        }
        Request::LoadModel { id: model, source, size } => {
            let bytes = match source {
                ModelSource::Bytes(bytes) => bytes,
                ModelSource::Url { url, sha256, bytes } => download(scope, id, &model, &url, sha256.as_deref(), bytes)
                    .await
                    .map_err(|reason| WorkerError::Model { id: model.clone(), reason })?,
                ModelSource::Dropped { name, .. } => {
                    let refused = |reason: String| WorkerError::Model { id: model.clone(), reason };
                    let file = file.ok_or_else(|| refused("the dropped file did not reach the worker".into()))?;
                    let source: Arc<dyn ByteSource> = Arc::new(blob::BlobSource::new(file).map_err(refused)?);
                    // Taken out while it runs, as for Analyze: the int8 check awaits the device.
                    let session = w.borrow_mut().session.take().ok_or(WorkerError::NotStarted)?;
                    let bytes = dropped(scope, id, &model, &name, source, &session).await;
                    w.borrow_mut().session = Some(session);
                    bytes?
                }
            };
            let mut state = w.borrow_mut();
            let session = state.session.as_mut().ok_or(WorkerError::NotStarted)?;
            Response::ModelLoaded(Box::new(session.load(&model, &bytes, size)?))
        }
        Request::Unload { id: model } => {
            if let Some(session) = w.borrow_mut().session.as_mut() {
                session.unload(&model);
            }
            Response::Unloaded
        }
        Request::SetArithmetic { arithmetic } => {
            let mut state = w.borrow_mut();
            state.session.as_mut().ok_or(WorkerError::NotStarted)?.set_arithmetic(arithmetic);
            Response::ArithmeticSet { arithmetic }
        }
        Request::OpenImage { bytes } => {
            let mut state = w.borrow_mut();
            let session = state.session.as_mut().ok_or(WorkerError::NotStarted)?;
            let (width, height) = session.open_image(&bytes)?;
            Response::ImageOpened { width, height }
        }
        Request::OpenFrame { width, height, rgba } => {
            let mut state = w.borrow_mut();
            let session = state.session.as_mut().ok_or(WorkerError::NotStarted)?;
            let (width, height) = session.open_frame(width, height, rgba)?;
            Response::ImageOpened { width, height }
        }
        Request::Analyze { models, filter, layer } => {
            let start = js_sys::Date::now();
            // Taken out while it runs (requests run one at a time), so no borrow spans the awaits.
            let session = w.borrow_mut().session.take().ok_or(WorkerError::NotStarted)?;
            let result = session.analyze_first(&models, filter, Some(layer)).await;
            w.borrow_mut().session = Some(session);
            let Analysed { models: analysed, passes } = result?;
            // The page draws the shown layer's maps while the rest is computed from the same passes,
            // then the metrics' views while the eigendecompositions run (host work: nothing can
            // fail), then the shown depth's representation, then the others'.
            let first = Response::Analyzed { models: analysed, filter, millis: js_sys::Date::now() - start };
            post(scope, id, &first);
            let Response::Analyzed { models: analysed, .. } = first else { unreachable!("built above") };
            let session = w.borrow_mut().session.take().ok_or(WorkerError::NotStarted)?;
            let result = session.derive(&analysed, passes).await;
            w.borrow_mut().session = Some(session);
            let (derived, pending) = result?;
            post(scope, id, &Response::Derived { models: derived, millis: js_sys::Date::now() - start });
            let shown = pending.represent_shown(layer);
            post(scope, id, &Response::Represented { models: shown.clone(), millis: js_sys::Date::now() - start });
            Response::Represented { models: pending.represent_rest(shown), millis: js_sys::Date::now() - start }
        }
        Request::Measure { bytes, models, measures } => {
            let start = js_sys::Date::now();
            let session = w.borrow_mut().session.take().ok_or(WorkerError::NotStarted)?;
            let result = session.measure(&bytes, &models, measures).await;
            w.borrow_mut().session = Some(session);
            Response::Measured { models: result?, millis: js_sys::Date::now() - start }
        }
        Request::Probe { classes, labels, models } => {
            let start = js_sys::Date::now();
            let models = Session::probe(classes, &labels, &models)?;
            Response::Probed { models, millis: js_sys::Date::now() - start }
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
    let init = Device::wgpu_options().init_with_setup_async();
    let (device, setup) = within(DEVICE_TIMEOUT_MS, init)
        .await
        .ok_or("the WebGPU device did not start within 30 s")?
        .map_err(|e| format!("the WebGPU device could not start ({e})"))?;
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

/// A dropped file's vitscope bytes: the file itself if it is one; else its conversion, found in the
/// browser's storage by the file's sha256 or made now (and kept), announced with
/// [`Response::Converted`] so the page can offer to save it.
async fn dropped(
    scope: &DedicatedWorkerGlobalScope,
    request: u32,
    model: &str,
    name: &str,
    source: Arc<dyn ByteSource>,
    session: &Session,
) -> Result<Vec<u8>, WorkerError> {
    let refused = |reason: String| WorkerError::Model { id: model.to_string(), reason };
    let mut progress = |stage: Stage, loaded: u64, total: Option<u64>| {
        post(scope, request, &Response::Progress { id: model.into(), stage, loaded, total });
    };
    if is_vitscope_file(&*source) {
        return Session::read_vitscope_file(model, &*source, &mut progress);
    }
    let source_sha256 = sha256(&*source, &mut |done, total| progress(Stage::Hashing, done, Some(total)))
        .map_err(|e| refused(e.to_string()))?;
    let (bytes, blob, kept) = match storage::converted(scope, &source_sha256).await {
        Some((bytes, blob)) => (bytes, blob, Kept::Found),
        None => {
            let converted =
                session.convert_dropped(model, name, source, Some(source_sha256.clone()), &mut progress).await?;
            // One browser copy serves the cache and the page (which keeps it to save, and to hand a
            // restarted worker): the page's wasm never holds the file.
            let blob = storage::blob(&converted.bytes).map_err(refused)?;
            let kept = match storage::keep_converted(scope, &source_sha256, &blob).await {
                Ok(()) => Kept::Stored,
                Err(why) => Kept::Unavailable(why),
            };
            (converted.bytes, blob, kept)
        }
    };
    let card = ModelFile::read_header(&bytes).map_err(|e| refused(e.to_string()))?.1;
    let converted = Converted {
        id: model.into(),
        file_name: format!("{}-vitscope.safetensors", card.name),
        size: bytes.len() as u64,
        layout: card.source.layout,
        kept,
    };
    post_with(scope, request, &Response::Converted(Box::new(converted)), Some(&blob));
    Ok(bytes)
}

/// Streams a model with byte progress within its [`Budget`] (a web page, a body past the size the
/// manifest announces or the format's limit, or 30 s of silence stop it), checks its sha256 and
/// keeps it in the cache under it.
async fn download(
    scope: &DedicatedWorkerGlobalScope,
    request: u32,
    model: &str,
    url: &str,
    sha256: Option<&str>,
    expected: Option<u64>,
) -> Result<Vec<u8>, String> {
    if let Some(sha) = sha256
        && let Some(bytes) = storage::cached(scope, sha).await
    {
        let (loaded, total) = (bytes.len() as u64, Some(bytes.len() as u64));
        post(scope, request, &Response::Progress { id: model.into(), stage: Stage::Loading, loaded, total });
        return Ok(bytes);
    }
    let failed = |e: JsValue| format!("{url}: the download failed ({})", describe(&e));
    let budget = Budget::model(expected);
    let answer = within(STALL_MS, JsFuture::from(scope.fetch_with_str(url)))
        .await
        .ok_or_else(|| format!("{url}: the server did not answer within {} s", STALL_MS / 1000))?;
    let response: web_sys::Response = answer.map_err(failed)?.dyn_into().map_err(failed)?;
    if !response.ok() {
        return Err(format!("{url}: the server answered {} {}", response.status(), response.status_text()));
    }
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let length = header("content-length").and_then(|v| v.parse::<u64>().ok());
    budget.check_headers(header("content-type").as_deref(), length).map_err(|e| format!("{url}: {e}"))?;
    // Content-Length counts compressed bytes when the host gzips; the manifest's count is exact.
    let total = expected.or(length);
    let body = response.body().ok_or_else(|| format!("{url}: the response has no body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let stop = |why: String| {
        let _ = reader.cancel();
        format!("{url}: {why}")
    };
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(budget.limit()).min(1 << 30) as usize);
    loop {
        let chunk = within(STALL_MS, JsFuture::from(reader.read()))
            .await
            .ok_or_else(|| stop(budget.stalled(bytes.len() as u64)))?
            .map_err(failed)?;
        if get(&chunk, "done").as_bool().unwrap_or(true) {
            break;
        }
        let value = get(&chunk, "value").dyn_into::<Uint8Array>().unwrap_or_else(|v| Uint8Array::new(&v));
        // Straight into place: `to_vec` then `extend` would copy each chunk twice.
        let start = bytes.len();
        bytes.resize(start + value.length() as usize, 0);
        value.copy_to(&mut bytes[start..]);
        let loaded = bytes.len() as u64;
        budget.check(loaded).map_err(stop)?;
        post(scope, request, &Response::Progress { id: model.into(), stage: Stage::Loading, loaded, total });
    }
    if let Some(sha) = sha256 {
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha {
            return Err(format!(
                "{url}: the file's sha256 is {actual}, not the {sha} the manifest lists (a broken or changed download)"
            ));
        }
        storage::store(scope, sha, &bytes).await;
    }
    Ok(bytes)
}

/// `future`'s output, or `None` when it takes longer than `ms`.
async fn within<F: std::future::Future>(ms: u32, future: F) -> Option<F::Output> {
    let timer = gloo::timers::future::TimeoutFuture::new(ms);
    match futures::future::select(Box::pin(future), timer).await {
        futures::future::Either::Left((output, _)) => Some(output),
        futures::future::Either::Right(_) => None,
    }
}

pub(crate) fn describe(e: &JsValue) -> String {
    e.as_string().or_else(|| get(e, "message").as_string()).unwrap_or_else(|| format!("{e:?}"))
}
