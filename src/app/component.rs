//! The page: state, worker traffic, URL sync. The views draw from it; canvases are painted after
//! each render (`rendered`).

use std::collections::BTreeMap;
use std::rc::Rc;

use gloo::events::EventListener;
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::DragEvent;
use yew::prelude::*;

use super::bridge::{Bridge, WorkerEvent};
use super::state::{BackendParam, Filter, PageParams, Theme, View, ViewState, pairs};
use super::views;
use super::webgpu;
use crate::image::{FilterKind, FrequencyFilter};
use crate::worker::protocol::{Backend, ModelAnalysis, ModelInfo, ModelSource, Request, Response};

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ManifestEntry {
    pub id: String,
    pub name: String,
    pub family: String,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Manifest {
    models: Vec<ManifestEntry>,
    #[serde(default)]
    default_pair: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GalleryItem {
    pub file: String,
    pub author: String,
    pub license: String,
    pub source: String,
}

/// The image being analysed: its bytes stay in this page and the worker.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageInput {
    pub name: String,
    pub bytes: Rc<Vec<u8>>,
    pub gallery: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub width: u32,
    pub height: u32,
    pub models: Vec<ModelAnalysis>,
    pub filter: Option<FrequencyFilter>,
    pub millis: f64,
}

pub enum Msg {
    /// The WebGPU probe's answer for the worker generation it was asked for.
    Probed(u32, Result<String, String>),
    Worker(WorkerEvent),
    Manifest(Result<Manifest, String>),
    Gallery(Vec<GalleryItem>),
    Image(Result<ImageInput, String>),
    PickGallery(String),
    ModelFile(Result<(String, Vec<u8>), String>),
    Set(Box<dyn FnOnce(&mut ViewState)>),
    ChooseModel(usize, String),
    Cancel,
    RunFilter,
    HashChanged,
    ToggleEmbed,
    Export(views::export::Kind),
    Notice(String),
}

pub struct App {
    pub page: PageParams,
    pub state: ViewState,
    pub notices: Vec<String>,
    pub status: String,
    pub error: Option<String>,
    bridge: Option<Bridge>,
    pub backend: Option<(Backend, String)>,
    backend_choice: BackendParam,
    /// The backend the current worker was loaded for, and why (shown once it has started).
    chosen: Option<(Backend, String)>,
    /// What the WebGPU probe said, kept so a restarted worker need not ask again.
    probe: Option<Result<String, String>>,
    /// Counts worker restarts, so a probe answer meant for an older one is ignored.
    generation: u32,
    started: bool,
    pub manifest: Vec<ManifestEntry>,
    pub loaded: BTreeMap<String, ModelInfo>,
    /// Dropped model files and `?model=` downloads, kept to reload them into a restarted worker.
    extra_models: BTreeMap<String, ModelSource>,
    loading: BTreeMap<u32, String>,
    pub progress: Option<(String, u64, Option<u64>)>,
    pub gallery: Vec<GalleryItem>,
    pub image: Option<ImageInput>,
    pub analysis: Option<Rc<Analysis>>,
    pub filtered: Option<Rc<Analysis>>,
    running: Option<u32>,
    running_filter: Option<u32>,
    pub embed_open: bool,
    /// After Cancel: the reloaded worker waits for the user instead of rerunning the image.
    paused: bool,
    _listeners: Vec<EventListener>,
}

pub fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let failed = |e: wasm_bindgen::JsValue| format!("{url}: {}", e.as_string().unwrap_or_else(|| format!("{e:?}")));
    let response: web_sys::Response =
        JsFuture::from(window().fetch_with_str(url)).await.map_err(failed)?.dyn_into().map_err(failed)?;
    if !response.ok() {
        return Err(format!("{url}: the server answered {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(failed)?).await.map_err(failed)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

fn parse_gallery(text: &str) -> Vec<GalleryItem> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (f.len() >= 6).then(|| GalleryItem {
                file: f[0].into(),
                source: f[3].into(),
                author: f[4].into(),
                license: f[5].into(),
            })
        })
        .collect()
}

/// Reads a dropped or picked file: images go to the analysis, `.safetensors` to the model list.
pub fn read_file(file: web_sys::File, link: &html::Scope<App>) {
    let name = file.name();
    let is_model = name.to_lowercase().ends_with(".safetensors");
    let link = link.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let bytes = match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => Ok(js_sys::Uint8Array::new(&buffer).to_vec()),
            Err(e) => Err(format!("{name}: the file could not be read ({e:?})")),
        };
        if is_model {
            link.send_message(Msg::ModelFile(bytes.map(|b| (name, b))));
        } else {
            link.send_message(Msg::Image(bytes.map(|b| ImageInput { name, bytes: Rc::new(b), gallery: None })));
        }
    });
}

impl App {
    fn restart_worker(&mut self, ctx: &Context<Self>) {
        self.bridge = None;
        self.backend = None;
        self.started = false;
        self.loaded.clear();
        self.loading.clear();
        self.running = None;
        self.running_filter = None;
        self.generation += 1;
        match (&self.backend_choice, &self.probe) {
            (BackendParam::Cpu, _) => {
                self.spawn_worker(ctx, Backend::Cpu, "CPU chosen in the URL (backend=cpu)".into())
            }
            (_, Some(probe)) => self.spawn_probed(ctx, probe.clone()),
            (choice, None) => {
                let (link, generation, allow_software) =
                    (ctx.link().clone(), self.generation, *choice == BackendParam::WebGpu);
                wasm_bindgen_futures::spawn_local(async move {
                    link.send_message(Msg::Probed(generation, webgpu::probe(allow_software).await));
                });
            }
        }
    }

    fn spawn_probed(&mut self, ctx: &Context<Self>, probe: Result<String, String>) {
        match probe {
            Ok(adapter) => self.spawn_worker(ctx, Backend::WebGpu, format!("WebGPU on {adapter}")),
            Err(why) => self.spawn_worker(ctx, Backend::Cpu, why),
        }
    }

    fn spawn_worker(&mut self, ctx: &Context<Self>, backend: Backend, why: String) {
        let link = ctx.link().clone();
        match Bridge::spawn(backend, Callback::from(move |e| link.send_message(Msg::Worker(e)))) {
            Ok(mut bridge) => {
                bridge.send(Request::Start { backend });
                self.bridge = Some(bridge);
                self.chosen = Some((backend, why));
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn send(&mut self, request: Request) -> Option<u32> {
        self.bridge.as_mut().map(|b| b.send(request))
    }

    /// The models of the current pair that still need loading, once the worker and manifest are ready.
    fn load_pair(&mut self) {
        if !self.started {
            return;
        }
        for id in self.state.models.clone() {
            if self.loaded.contains_key(&id) || self.loading.values().any(|v| v == &id) {
                continue;
            }
            let source = if let Some(entry) = self.manifest.iter().find(|m| m.id == id) {
                ModelSource::Url {
                    url: format!("./models/{}", entry.file),
                    sha256: Some(entry.sha256.clone()),
                    bytes: Some(entry.bytes),
                }
            } else if let Some(source) = self.extra_models.get(&id) {
                source.clone()
            } else {
                continue;
            };
            if let Some(req) = self.send(Request::LoadModel { id: id.clone(), source }) {
                self.loading.insert(req, id);
            }
        }
    }

    pub fn pair_ready(&self) -> bool {
        !self.state.models.is_empty() && self.state.models.iter().all(|id| self.loaded.contains_key(id))
    }

    pub fn frequency_filter(&self) -> FrequencyFilter {
        let Filter { high_pass, cutoff } = self.state.filter;
        FrequencyFilter { kind: if high_pass { FilterKind::HighPass } else { FilterKind::LowPass }, cutoff }
    }

    fn analyze(&mut self) {
        let Some(image) = self.image.clone() else { return };
        if !self.pair_ready() {
            return;
        }
        let models = self.state.models.clone();
        self.filtered = None;
        self.running =
            self.send(Request::Analyze { image: image.bytes.to_vec(), models: models.clone(), filter: None });
        if self.state.view == View::Frequency {
            self.run_filter();
        }
        let backend = self.backend.as_ref().map_or("", |b| b.0.label());
        self.status = format!("Analysing {} with {} models on {backend}…", image.name, models.len());
    }

    fn run_filter(&mut self) {
        let Some(image) = self.image.clone() else { return };
        if !self.pair_ready() {
            return;
        }
        let filter = Some(self.frequency_filter());
        self.running_filter =
            self.send(Request::Analyze { image: image.bytes.to_vec(), models: self.state.models.clone(), filter });
    }

    fn sync_url(&self) {
        if self.page.embed {
            return;
        }
        let hash = format!("#{}", self.state.to_hash());
        if window().location().hash().ok().as_deref() != Some(hash.as_str())
            && let Ok(history) = window().history()
        {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&hash));
        }
    }

    fn clamp(&mut self) {
        if let Some(info) = self.state.models.first().and_then(|id| self.loaded.get(id)) {
            let grid = info.image_size as usize / info.patch_size;
            let depth =
                self.state.models.iter().filter_map(|id| self.loaded.get(id)).map(|m| m.depth).min().unwrap_or(1);
            self.state.clamp_to(depth, info.heads, grid);
        }
    }

    fn handle_reply(&mut self, ctx: &Context<Self>, id: u32, body: Response) -> bool {
        match body {
            Response::Started { backend } => {
                let note = self.chosen.take().map(|(_, why)| why).unwrap_or_default();
                self.started = true;
                self.status = format!("Running on {}: {note}", backend.label());
                self.backend = Some((backend, note));
                self.load_pair();
            }
            Response::Progress { id: model, loaded, total } => self.progress = Some((model, loaded, total)),
            Response::ModelLoaded(info) => {
                self.loading.remove(&id);
                self.progress = None;
                self.status = format!("Loaded {} ({}, {}).", info.name, info.family, info.precision);
                self.loaded.insert(info.id.clone(), info);
                self.clamp();
                if self.pair_ready() && !self.paused {
                    self.analyze();
                }
            }
            Response::Analyzed { width, height, models, filter, millis } => {
                let analysis = Rc::new(Analysis { width, height, models, filter, millis });
                if Some(id) == self.running {
                    self.running = None;
                    let backend = self.backend.as_ref().map_or("", |b| b.0.label());
                    let name = self.image.as_ref().map_or("the image", |i| i.name.as_str());
                    self.status = format!(
                        "Ready: {name} ({width}×{height}) with {} models in {millis:.0} ms on {backend}.",
                        analysis.models.len()
                    );
                    self.analysis = Some(analysis);
                    self.error = None;
                } else if Some(id) == self.running_filter {
                    self.running_filter = None;
                    self.filtered = Some(analysis);
                }
            }
            Response::Failed { message } => {
                if let Some(model) = self.loading.remove(&id) {
                    self.state.models.retain(|m| m != &model);
                    self.progress = None;
                }
                if Some(id) == self.running {
                    self.running = None;
                }
                if Some(id) == self.running_filter {
                    self.running_filter = None;
                }
                self.status = format!("Error: {message}");
                self.error = Some(message);
            }
            Response::BackendFailed { message } => self.fall_back(ctx, &message),
            Response::Listening => {}
        }
        true
    }

    /// WebGPU failed mid-run: a fresh worker on the CPU, the same models, the same image.
    fn fall_back(&mut self, ctx: &Context<Self>, reason: &str) {
        let why = format!("WebGPU failed ({reason}), so the CPU runs the models");
        self.probe = Some(Err(why));
        self.backend_choice = BackendParam::Auto;
        self.notices.push(format!("WebGPU failed ({reason}); switched to the CPU and ran again."));
        self.restart_worker(ctx);
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let location = window().location();
        let mut state = ViewState::default();
        let mut page = PageParams::default();
        let mut notices = state.apply(&pairs(&location.search().unwrap_or_default()), &mut page);
        notices.extend(state.apply(&pairs(&location.hash().unwrap_or_default()), &mut page));
        let backend_choice = page.backend;
        let link = ctx.link().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let manifest = fetch_bytes("./models/manifest.json").await.and_then(|b| {
                serde_json::from_slice::<Manifest>(&b).map_err(|e| format!("models/manifest.json is malformed: {e}"))
            });
            link.send_message(Msg::Manifest(manifest));
            let gallery =
                fetch_bytes("./gallery/MANIFEST.tsv").await.map(|b| parse_gallery(&String::from_utf8_lossy(&b)));
            link.send_message(Msg::Gallery(gallery.unwrap_or_default()));
        });
        let mut listeners = Vec::new();
        let link = ctx.link().clone();
        listeners.push(EventListener::new(&window(), "hashchange", move |_| link.send_message(Msg::HashChanged)));
        // Drop and paste anywhere on the page.
        let document = window().document().expect("a document");
        listeners.push(EventListener::new_with_options(
            &document,
            "dragover",
            gloo::events::EventListenerOptions::enable_prevent_default(),
            |e| e.prevent_default(),
        ));
        let link = ctx.link().clone();
        listeners.push(EventListener::new_with_options(
            &document,
            "drop",
            gloo::events::EventListenerOptions::enable_prevent_default(),
            move |e| {
                e.prevent_default();
                let files = e.dyn_ref::<DragEvent>().and_then(|d| d.data_transfer()).and_then(|t| t.files());
                match files.and_then(|f| f.get(0)) {
                    Some(file) => read_file(file, &link),
                    None => link.send_message(Msg::Notice(
                        "Nothing to use in that drop: drop an image or a .safetensors model file.".into(),
                    )),
                }
            },
        ));
        let link = ctx.link().clone();
        listeners.push(EventListener::new(&document, "paste", move |e| {
            let Some(items) =
                e.dyn_ref::<web_sys::ClipboardEvent>().and_then(|c| c.clipboard_data()).and_then(|d| d.files())
            else {
                return;
            };
            if let Some(file) = items.get(0) {
                read_file(file, &link);
            }
        }));
        let mut app = Self {
            page,
            state,
            notices,
            status: "Starting…".into(),
            error: None,
            bridge: None,
            backend: None,
            backend_choice,
            chosen: None,
            probe: None,
            generation: 0,
            started: false,
            manifest: Vec::new(),
            loaded: BTreeMap::new(),
            extra_models: BTreeMap::new(),
            loading: BTreeMap::new(),
            progress: None,
            gallery: Vec::new(),
            image: None,
            analysis: None,
            filtered: None,
            running: None,
            running_filter: None,
            embed_open: false,
            paused: false,
            _listeners: listeners,
        };
        app.restart_worker(ctx);
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Probed(generation, probe) => {
                if generation == self.generation && self.bridge.is_none() {
                    self.probe = Some(probe.clone());
                    self.spawn_probed(ctx, probe);
                }
            }
            Msg::Worker(WorkerEvent::Reply(envelope)) => return self.handle_reply(ctx, envelope.id, envelope.body),
            Msg::Worker(WorkerEvent::Crashed(message)) => {
                // The WebGPU worker may also die before it has said it started.
                if self.backend.as_ref().or(self.chosen.as_ref()).is_some_and(|b| b.0 == Backend::WebGpu) {
                    self.fall_back(ctx, &message);
                } else {
                    self.error = Some(format!(
                        "The analysis stopped: {message}. The worker was restarted; try again or choose another image."
                    ));
                    self.restart_worker(ctx);
                }
            }
            Msg::Manifest(Ok(manifest)) => {
                if self.state.models.is_empty() {
                    self.state.models = if manifest.default_pair.is_empty() {
                        manifest.models.iter().take(2).map(|m| m.id.clone()).collect()
                    } else {
                        manifest.default_pair.clone()
                    };
                }
                let unknown: Vec<String> = self
                    .state
                    .models
                    .iter()
                    .filter(|id| !manifest.models.iter().any(|m| &m.id == *id))
                    .cloned()
                    .collect();
                if !unknown.is_empty() {
                    self.notices.push(format!(
                        "No bundled model is called {}; showing the default pair. Bundled: {}.",
                        unknown.join(", "),
                        manifest.models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                    self.state.models = manifest.default_pair.clone();
                }
                self.manifest = manifest.models;
                if let Some(url) = self.page.model_url.clone() {
                    let id = format!("url:{}", url.rsplit('/').next().unwrap_or(&url));
                    self.extra_models.insert(id.clone(), ModelSource::Url { url, sha256: None, bytes: None });
                    self.state.models.insert(0, id);
                    self.state.models.truncate(2);
                }
                self.load_pair();
            }
            Msg::Manifest(Err(e)) => self.error = Some(format!("The model list could not be read: {e}")),
            Msg::Gallery(items) => {
                self.gallery = items;
                if self.image.is_none() {
                    let wanted = self.state.image.clone();
                    let pick = match wanted {
                        Some(name) if self.gallery.iter().any(|g| g.file == name) => Some(name),
                        Some(name) => {
                            self.notices.push(format!("`{name}` is not in the gallery; showing the first photo."));
                            self.gallery.first().map(|g| g.file.clone())
                        }
                        None => self.gallery.first().map(|g| g.file.clone()),
                    };
                    if let Some(file) = pick {
                        ctx.link().send_message(Msg::PickGallery(file));
                    }
                }
            }
            Msg::PickGallery(file) => {
                let link = ctx.link().clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let url = format!("./gallery/{file}");
                    let result = fetch_bytes(&url).await.map(|b| ImageInput {
                        name: file.clone(),
                        bytes: Rc::new(b),
                        gallery: Some(file),
                    });
                    link.send_message(Msg::Image(result));
                });
                return false;
            }
            Msg::Image(Ok(image)) => {
                self.paused = false;
                self.state.image = image.gallery.clone();
                self.status = format!("Opened {} ({} KB).", image.name, image.bytes.len() / 1024);
                self.image = Some(image);
                self.analysis = None;
                self.analyze();
            }
            Msg::Image(Err(e)) | Msg::ModelFile(Err(e)) => {
                self.status = format!("Error: {e}");
                self.error = Some(e);
            }
            Msg::ModelFile(Ok((name, bytes))) => {
                let id = format!("file:{name}");
                let source = ModelSource::Bytes(bytes);
                self.extra_models.insert(id.clone(), source);
                self.loaded.remove(&id);
                self.state.models.retain(|m| m != &id);
                self.state.models.insert(0, id);
                self.state.models.truncate(2);
                self.status = format!("Checking {name}…");
                self.load_pair();
            }
            Msg::Set(change) => {
                let before = (self.state.models.clone(), self.state.view, self.state.filter);
                change(&mut self.state);
                self.clamp();
                if self.state.models != before.0 {
                    self.paused = false;
                    self.analysis = None;
                    self.load_pair();
                    self.analyze();
                } else if self.state.view == View::Frequency && before.1 != View::Frequency && self.filtered.is_none() {
                    self.run_filter();
                }
            }
            Msg::ChooseModel(slot, id) => {
                let mut models = self.state.models.clone();
                if slot < models.len() {
                    models[slot] = id;
                } else {
                    models.push(id);
                }
                models.dedup();
                ctx.link().send_message(Msg::Set(Box::new(move |s| s.models = models)));
                return false;
            }
            Msg::RunFilter => {
                self.paused = false;
                self.filtered = None;
                self.run_filter();
            }
            Msg::Cancel => {
                self.status = "Cancelled. Choose an image or change a setting to run again.".into();
                self.paused = true;
                self.restart_worker(ctx);
            }
            Msg::HashChanged => {
                let hash = window().location().hash().unwrap_or_default();
                if hash.trim_start_matches('#') != self.state.to_hash() {
                    let mut page = self.page.clone();
                    let before = self.state.models.clone();
                    self.notices = self.state.apply(&pairs(&hash), &mut page);
                    self.clamp();
                    if self.state.models != before {
                        self.load_pair();
                        self.analyze();
                    }
                }
            }
            Msg::ToggleEmbed => self.embed_open = !self.embed_open,
            Msg::Export(kind) => {
                if let Err(e) = views::export::export(self, kind) {
                    self.error = Some(e);
                }
            }
            Msg::Notice(text) => self.notices.push(text),
        }
        true
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first: bool) {
        self.sync_url();
        views::paint(self);
        if self.page.embed {
            views::export::post_height();
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let theme = match self.page.theme {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        };
        if let Some(root) = window().document().and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-theme", theme);
        }
        html! {
            <div class={classes!("app", self.page.embed.then_some("embed"))}>
                { views::header(self, link) }
                { views::notices(self) }
                { if self.page.embed { Html::default() } else { views::inputs::controls(self, link) } }
                { views::tabs(self, link) }
                <main id="view" class="view" aria-busy={(self.running.is_some()).to_string()}>
                    { views::current(self, link) }
                </main>
                { views::footer(self, link) }
            </div>
        }
    }
}

impl App {
    pub fn busy(&self) -> bool {
        self.running.is_some() || self.running_filter.is_some() || !self.loading.is_empty()
    }

    pub fn model_info(&self, id: &str) -> Option<&ModelInfo> {
        self.loaded.get(id)
    }
}
