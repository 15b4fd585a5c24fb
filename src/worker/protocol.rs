//! Messages between the page and its inference worker, encoded with bincode (megabytes of attention
//! cross as raw floats). Every request carries an id the answer repeats.

use serde::{Deserialize, Serialize};

use crate::analysis::Snapshot;
use crate::image::FrequencyFilter;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    WebGpu,
    Cpu,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Self::WebGpu => "WebGPU",
            Self::Cpu => "CPU (WebAssembly)",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ModelSource {
    /// Fetched by the worker; checked against `sha256` when given, cached under it.
    Url { url: String, sha256: Option<String>, bytes: Option<u64> },
    /// A file the user dropped.
    Bytes(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Starts the backend's device; the page chose it (and loaded the worker built for it).
    Start {
        backend: Backend,
    },
    LoadModel {
        id: String,
        source: ModelSource,
    },
    Analyze {
        image: Vec<u8>,
        models: Vec<String>,
        filter: Option<FrequencyFilter>,
    },
}

/// What the page needs to know about a loaded model to label and lay it out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    pub name: String,
    pub family: String,
    /// The card as JSON (reference curves included).
    pub card_json: String,
    pub image_size: u32,
    pub patch_size: usize,
    pub depth: usize,
    pub heads: usize,
    pub width: usize,
    pub precision: String,
}

/// One model's view of one image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelAnalysis {
    pub id: String,
    /// The model's input as RGB bytes, `size × size` (filtered, when a filter was asked for).
    pub input: Vec<u8>,
    pub size: u32,
    /// Centred log-amplitude spectrum of the input (gray bytes, `size × size`).
    pub spectrum: Vec<u8>,
    pub snapshot: Snapshot,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The worker's message handler is installed: requests sent before this would be lost.
    Listening,
    Started {
        backend: Backend,
    },
    Progress {
        id: String,
        loaded: u64,
        total: Option<u64>,
    },
    ModelLoaded(ModelInfo),
    Analyzed {
        width: u32,
        height: u32,
        models: Vec<ModelAnalysis>,
        filter: Option<FrequencyFilter>,
        millis: f64,
    },
    Failed {
        message: String,
    },
    /// WebGPU failed to start or mid-run (device lost, out of memory): the page switches to the CPU
    /// worker.
    BackendFailed {
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub id: u32,
    pub body: T,
}

pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    bincode::serialize(message).expect("messages serialise")
}

pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    bincode::deserialize(bytes).map_err(|e| format!("a malformed message between page and worker: {e}"))
}
