//! The page as a store: one [`State`], changed only by [`Action`]s through [`reducer::reduce`], which
//! returns what the browser must do next as [`Command`]s (fetch, spawn a worker, send a request,
//! export).
//! Everything here is plain Rust, so the page's logic is tested natively; the shell (`app`,
//! `service`) runs the commands and turns their outcomes back into actions.

pub mod camera;
pub mod data;
pub mod dataset;
#[cfg(target_arch = "wasm32")]
pub mod handle;
pub mod probe;
pub mod reducer;
mod replies;
#[cfg(test)]
mod tests;

// What a link may say lives in its own crate, where the fuzz targets reach it too.
pub use vitscope_links::settings;

use std::collections::BTreeMap;
use std::rc::Rc;

use vitscope_protocol::FilterKind;
use vitscope_protocol::FrequencyFilter;
use vitscope_protocol::messages::{Backend, Converted, Envelope, ModelInfo, ModelSource, Request, Response};

pub use camera::Camera;
pub use data::{Analysis, GalleryItem, ImageBytes, ImageInput, ModelResult, Progress};
pub use dataset::{Dataset, SetKind, SetSource, SetSummary};
pub use probe::{ProbeState, Probed};
use settings::BackendParam;
pub use settings::{Arithmetic, Colormap, Filter, MAX_MODELS, MapKind, PageParams, Query, View, ViewState};
pub use vitscope_links::{Manifest, ManifestEntry};

/// The inference worker, as far as the page knows it.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerLink {
    /// Asking WebGPU for an adapter before choosing which worker to load.
    Probing,
    /// The worker for `backend` is loading and has been asked to start; `why` it was chosen is shown
    /// once it has.
    Starting { backend: Backend, why: String },
    /// It answered `Started`: models load and images run.
    Ready { backend: Backend, note: String },
    /// It could not even be created.
    Failed(String),
}

impl WorkerLink {
    /// The backend of the worker that exists (starting or ready).
    pub fn backend(&self) -> Option<Backend> {
        match self {
            Self::Starting { backend, .. } | Self::Ready { backend, .. } => Some(*backend),
            Self::Probing | Self::Failed(_) => None,
        }
    }
}

/// The exports the footer offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Png,
    Csv,
    Json,
    /// Every image of the measured set, per model.
    SetCsv,
    SetJson,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    SetView(View),
    /// 0-based.
    SetLayer(usize),
    SetHead(Option<usize>),
    SetQuery(Query),
    SetMap(MapKind),
    SetColormap(Colormap),
    /// How int8 weights multiply on the CPU; the image runs again.
    SetArithmetic(Arithmetic),
    /// Also runs the filter on the kept image.
    SetFilter(Filter),
    /// Shows `id` in `slot` (a model shown in another slot trades places); `slot` = the number shown
    /// adds one, up to [`settings::MAX_MODELS`].
    ChooseModel {
        slot: usize,
        id: String,
    },
    /// Stops showing the model in this slot (one always stays).
    RemoveModel(usize),
    /// Runs a model at the size it was trained at (`true`) or its card's (`false`): it loads again.
    SetNativeSize {
        id: String,
        native: bool,
    },
    PickGallery(String),
    /// An image file read (or not), with the order in which the user chose it: reads finish in any
    /// order, and one chosen before the image shown is dropped.
    ImageRead {
        choice: u64,
        result: Result<ImageInput, String>,
    },
    /// A dropped or picked model file (a vitscope file or a checkpoint to convert): its name and
    /// size. The file itself stays with the shell, which hands it to the worker with the request.
    ModelFileDropped {
        name: String,
        size: u64,
    },
    /// "Save converted file" for a model converted in the page.
    SaveConverted(String),
    ManifestLoaded(Result<Manifest, String>),
    GalleryLoaded(Vec<GalleryItem>),
    /// The WebGPU probe's answer for worker `generation`: the adapter, or why the CPU runs.
    Probed {
        generation: u32,
        result: Result<String, String>,
    },
    WorkerSpawnFailed {
        generation: u32,
        message: String,
    },
    WorkerReplied {
        generation: u32,
        envelope: Box<Envelope<Response>>,
    },
    /// The worker died (a panic, out of memory, a GPU burn could not survive).
    WorkerCrashed {
        generation: u32,
        message: String,
    },
    Cancel,
    /// Measures every image of a set with the models shown (the gallery's files, or the names of
    /// images dropped together, which the shell keeps).
    MeasureSet {
        source: SetSource,
        names: Vec<String>,
    },
    /// Image `index` of the set, read by the shell.
    SetImageRead {
        index: usize,
        result: Result<Rc<Vec<u8>>, String>,
    },
    /// Stops the set; what was measured stays (and a labelled set is probed on it).
    StopSet,
    /// Probes a labelled folder: `names` are paths under it, their classes named by `labels` (the
    /// shell keeps the files, as for images dropped together).
    ProbeSet {
        names: Vec<String>,
        labels: vitscope_protocol::labels::Labels,
    },
    /// Probes the measured images of the labelled set again (after the worker failed it).
    ProbeAgain,
    /// "Use the camera": the shell asks the browser for it. `choice` is taken from the shell's image
    /// choices (as [`Action::ImageRead`]'s), so an image read that was already under way is dropped.
    StartCamera {
        choice: u64,
    },
    /// The browser gave the camera (its label), or why not.
    CameraStarted(Result<String, String>),
    /// The camera stopped giving pictures, or a frame could not be taken.
    CameraFailed(String),
    StopCamera,
    /// The page went out of sight (another tab or app, a locked phone): a camera on is let go, so it
    /// neither films nor runs the models unseen.
    PageHidden,
    /// The newest camera picture, taken when the store asked for one ([`Command::GrabFrame`]): RGBA
    /// rows, and when it was taken (ms, the page's clock).
    FrameTaken {
        width: u32,
        height: u32,
        rgba: Rc<Vec<u8>>,
        at_ms: f64,
    },
    /// The hash's parameters, decoded, after the user changed it (back button, edited address).
    HashChanged(settings::Params),
    ToggleEmbed,
    Export(ExportKind),
    Notice(String),
    ShowError(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// The bundled model list, merged with a `?manifest=` one when given.
    FetchManifest(Option<String>),
    FetchGallery,
    /// A gallery file, to come back as [`Action::ImageRead`].
    FetchImage(String),
    /// Image `index` of a set, to come back as [`Action::SetImageRead`].
    ReadSetImage {
        source: SetSource,
        index: usize,
        name: String,
    },
    Probe {
        generation: u32,
        allow_software: bool,
    },
    /// Ends the current worker and loads the one built for `backend`; its events carry `generation`.
    SpawnWorker {
        generation: u32,
        backend: Backend,
    },
    /// To the current worker (queued there until it listens).
    Send(Envelope<Request>),
    Export(ExportKind),
    StartCamera,
    /// The camera's newest picture, to come back as [`Action::FrameTaken`].
    GrabFrame,
    /// Lets the camera go (its light goes off).
    StopCamera,
    /// Offers a converted model's file (kept by the shell under this name) for download.
    Save {
        file_name: String,
    },
}

/// Everything the page shows and remembers.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub page: PageParams,
    /// What the URL restores.
    pub view: ViewState,
    pub notices: Vec<String>,
    pub status: String,
    pub error: Option<String>,
    pub link: WorkerLink,
    /// Counts workers, so an answer meant for an older one is ignored.
    pub generation: u32,
    backend_choice: BackendParam,
    /// What the WebGPU probe said, kept so a restarted worker need not ask again.
    probe: Option<Result<String, String>>,
    next_id: u32,
    pub manifest: Rc<Vec<ManifestEntry>>,
    pub gallery: Rc<Vec<GalleryItem>>,
    pub loaded: BTreeMap<String, Rc<ModelInfo>>,
    /// Dropped model files and `?model=` downloads, kept to reload them into a restarted worker.
    extra_models: BTreeMap<String, Rc<ModelSource>>,
    /// Checkpoints converted in this page, by model id: for "Save converted file", and what a
    /// restarted worker loads instead of converting again.
    pub converted: BTreeMap<String, Rc<Converted>>,
    /// LoadModel request id → model id.
    loading: BTreeMap<u32, String>,
    pub progress: Option<Progress>,
    pub image: Option<ImageInput>,
    /// The OpenImage request in flight, and whether this worker holds the image.
    opening: Option<u32>,
    image_opened: bool,
    /// The image's size, as the worker decoded it.
    dimensions: Option<(u32, u32)>,
    pub analysis: Option<Rc<Analysis>>,
    pub filtered: Option<Rc<Analysis>>,
    running: Option<u32>,
    running_filter: Option<u32>,
    pub embed_open: bool,
    /// After Cancel: the fresh worker waits for the user instead of rerunning the image.
    paused: bool,
    /// The latest [`Action::ImageRead`] choice acted on.
    chosen: u64,
    /// The set being measured, or the last one.
    pub dataset: Option<Rc<Dataset>>,
    /// On while frames are being analysed.
    pub camera: Option<Camera>,
}

impl State {
    /// The page as the URL describes it (`?` then `#` parameters, decoded), and what to do first.
    pub fn new(search: &[(String, String)], hash: &[(String, String)]) -> (Self, Vec<Command>) {
        let mut view = ViewState::default();
        let mut page = PageParams::default();
        let mut notices = view.apply(search, &mut page);
        notices.extend(view.apply(hash, &mut page));
        let mut state = Self {
            backend_choice: page.backend,
            page,
            view,
            notices,
            status: "Starting…".into(),
            error: None,
            link: WorkerLink::Probing,
            generation: 0,
            probe: None,
            next_id: 1,
            manifest: Rc::default(),
            gallery: Rc::default(),
            loaded: BTreeMap::new(),
            extra_models: BTreeMap::new(),
            converted: BTreeMap::new(),
            loading: BTreeMap::new(),
            progress: None,
            image: None,
            opening: None,
            image_opened: false,
            dimensions: None,
            analysis: None,
            filtered: None,
            running: None,
            running_filter: None,
            embed_open: false,
            paused: false,
            chosen: 0,
            dataset: None,
            camera: None,
        };
        let mut out = vec![Command::FetchManifest(state.page.manifest_url.clone()), Command::FetchGallery];
        state.restart_worker(&mut out);
        (state, out)
    }

    /// Something is running that Cancel would stop.
    pub fn busy(&self) -> bool {
        // The camera counts as one long run, so Cancel stays put instead of blinking with each frame.
        self.running.is_some() || self.running_filter.is_some() || !self.loading.is_empty() || self.camera.is_some()
    }

    /// The main analysis is running.
    pub fn analysing(&self) -> bool {
        self.running.is_some()
    }

    pub fn pair_ready(&self) -> bool {
        !self.view.models.is_empty() && self.view.models.iter().all(|id| self.loaded.contains_key(id))
    }

    /// The worker's backend and why it was chosen, once it has started.
    pub fn backend(&self) -> Option<(Backend, &str)> {
        match &self.link {
            WorkerLink::Ready { backend, note } => Some((*backend, note)),
            _ => None,
        }
    }

    pub fn frequency_filter(&self) -> FrequencyFilter {
        let Filter { high_pass, cutoff } = self.view.filter;
        FrequencyFilter { kind: if high_pass { FilterKind::HighPass } else { FilterKind::LowPass }, cutoff }
    }
}
