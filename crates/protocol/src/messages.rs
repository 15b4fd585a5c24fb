//! Messages between the explorer's page and its inference worker, encoded with postcard. Every
//! request carries an id that its answers repeat. The image crosses once ([`Request::OpenImage`], or a camera frame's
//! pixels, [`Request::OpenFrame`]) and
//! the worker keeps it for every later run; failures are typed ([`WorkerError`]), so the page decides
//! what to do from the variant, never from the wording.

use serde::{Deserialize, Serialize};

use crate::card::{Family, ModelCard};
use crate::filter::FrequencyFilter;
use crate::metrics::LayerMetrics;
use crate::probe::{PooledFeatures, ProbeCurves};
use crate::snapshot::{Derived, Representation, Snapshot};

/// Where the models run.
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

    /// The worker script built for this backend (Trunk's loader shim), relative to the page.
    pub fn worker_script(self) -> &'static str {
        match self {
            Self::Cpu => "./explorer-worker-cpu_loader.js",
            Self::WebGpu => "./explorer-worker-gpu_loader.js",
        }
    }
}

/// How the CPU multiplies by a weight stored in int8. WebGPU always works in f32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arithmetic {
    /// Each weight dequantized to f32 as the product reaches it: the f32 model's numbers, to the
    /// file's rounding.
    #[default]
    F32,
    /// Integer products of the int8 weights and 16-bit inputs (each token quantized as it comes),
    /// faster; the int8 fidelity bounds hold against f32.
    Int8,
}

impl Arithmetic {
    pub fn label(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Int8 => "int8",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ModelSource {
    /// Fetched by the worker; checked against `sha256` when given, cached under it.
    Url { url: String, sha256: Option<String>, bytes: Option<u64> },
    /// A vitscope file's bytes (a converted checkpoint, kept by the page for a restarted worker).
    Bytes(Vec<u8>),
    /// A file the user dropped or picked. It travels beside the request (the page's transport
    /// attaches the browser's `File`), so nobody reads it whole: a vitscope file loads, an official
    /// checkpoint is converted first, reading only the tensors its layout keeps.
    Dropped { name: String, size: u64 },
}

/// What a [`Response::Progress`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Bytes of a model file downloaded or read.
    Loading,
    /// Bytes of a dropped checkpoint hashed (its sha256 keys the converted copy in the browser).
    Hashing,
    /// Bytes of the checkpoint's kept tensors read and converted.
    Converting,
    /// int8 groupings measured against f32 on two photos.
    CheckingInt8,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Self::Loading => "Loading",
            Self::Hashing => "Hashing",
            Self::Converting => "Converting",
            Self::CheckingInt8 => "Checking int8 against f32",
        }
    }
}

/// What the browser's storage did with a converted model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kept {
    /// Converted now and kept: the same file dropped again loads without converting.
    Stored,
    /// Converted earlier (the source's sha256 matched) and loaded from storage.
    Found,
    /// The page has no storage here (a sandboxed or partitioned frame, private browsing): why.
    Unavailable(String),
}

/// A checkpoint the worker converted. The converted file (the `.safetensors` `vitscope convert`
/// writes for the same checkpoint) travels beside this reply as a browser `Blob`, never through the
/// page's wasm: the page's transport keeps it under `file_name`, to save it and to hand it to a
/// restarted worker as a dropped file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Converted {
    pub id: String,
    /// Its name, for "Save converted file" and as the dropped file a restarted worker is given.
    pub file_name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The layout it was read as, e.g. `mocov3`.
    pub layout: String,
    pub kept: Kept,
}

/// The input size a model runs at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunSize {
    /// Its card's crop: the stored size, or 224 px for a model stored larger (a 518-px DINOv2).
    #[default]
    Card,
    /// The size it was trained at, position table as stored.
    Native,
}

/// The most memory one model's attention maps may take in a snapshot. They are computed, measured
/// and sent by the worker and kept by the page, each holding them more than once: a ViT-S/14 at
/// 518 px (540 MB of maps) took the tab to 5.0 GiB, and a worker's memory cannot pass 4 GB.
pub const MAX_ATTENTION_BYTES: u64 = 640 << 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Starts the backend's device; the page chose it (and loaded the worker built for it).
    Start {
        backend: Backend,
    },
    LoadModel {
        id: String,
        source: ModelSource,
        size: RunSize,
    },
    /// Frees a model the page no longer shows (a ViT-B holds hundreds of megabytes).
    Unload {
        id: String,
    },
    /// How int8 weights multiply on the CPU, for every model loaded now or later (answered with
    /// `ArithmeticSet`).
    SetArithmetic {
        arithmetic: Arithmetic,
    },
    /// The image to analyse: decoded once and kept until the next one.
    OpenImage {
        bytes: Vec<u8>,
    },
    /// A camera frame, kept like an opened image: pixels as a canvas gives them (RGBA, row by row),
    /// so no encoding costs time on either side. Answered with `ImageOpened` too.
    OpenFrame {
        width: u32,
        height: u32,
        rgba: Vec<u8>,
    },
    /// Runs the kept image through these models, optionally through a Fourier filter first.
    /// `layer` is the block whose tokens the page shows (0-based): its representation comes first.
    Analyze {
        models: Vec<String>,
        filter: Option<FrequencyFilter>,
        layer: usize,
    },
    /// One image of a set: decoded, measured by each model (per-layer numbers only, no maps) and let
    /// go, so a set's memory does not grow with its images; the image kept for `Analyze` stays.
    Measure {
        bytes: Vec<u8>,
        models: Vec<String>,
        measures: Measures,
    },
    /// Every layer's probes of a labelled set, from the features its images gave (`Measures::Pooled`),
    /// per model: image i has class `labels[i]` of `classes`.
    Probe {
        classes: usize,
        labels: Vec<usize>,
        models: Vec<(String, Vec<PooledFeatures>)>,
    },
}

/// What a set keeps of each image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measures {
    /// Every per-layer metric, as `vitscope analyze` reports them.
    Metrics,
    /// The CLS and mean patch token after each block, for the probes (`vitscope probe`).
    Pooled,
}

/// One image of a set through one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Measurement {
    Metrics(LayerMetrics),
    Pooled(PooledFeatures),
}

/// What the page needs to know about a loaded model to label and lay it out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    /// Crosses as the JSON the weight file stores (cards skip empty fields, which a binary codec
    /// cannot); it is parsed once, on arrival.
    #[serde(with = "card_json")]
    pub card: ModelCard,
    /// The size it runs at.
    pub image_size: u32,
    /// The size it was trained at; the card's crop is its default in the page.
    pub native_size: u32,
    pub patch_size: usize,
    /// CLS and register tokens before the patches.
    pub prefix_tokens: usize,
    pub depth: usize,
    pub heads: usize,
    pub width: usize,
    pub precision: String,
}

impl ModelInfo {
    pub fn name(&self) -> &str {
        &self.card.name
    }

    pub fn family(&self) -> Family {
        self.card.family
    }

    /// Patches per side at the size the model runs.
    pub fn grid(&self) -> usize {
        self.image_size as usize / self.patch_size.max(1)
    }

    /// Whether its native size differs from the size the page runs it at by default.
    pub fn has_native_choice(&self) -> bool {
        self.native_size != self.card.preprocessing.crop
    }

    /// Bytes of a snapshot's attention maps at input size `size` (`[L, H, T, T]` f32).
    pub fn attention_bytes(&self, size: u32) -> u64 {
        attention_bytes(self.depth, self.heads, self.prefix_tokens, size as usize / self.patch_size.max(1))
    }
}

/// Bytes of `[depth, heads, T, T]` f32 attention, T = prefix + grid².
pub fn attention_bytes(depth: usize, heads: usize, prefix: usize, grid: usize) -> u64 {
    let tokens = (prefix + grid * grid) as u64;
    (depth * heads) as u64 * tokens * tokens * 4
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
        stage: Stage,
        loaded: u64,
        total: Option<u64>,
    },
    /// Before [`Response::ModelLoaded`], for a checkpoint that was converted.
    Converted(Box<Converted>),
    /// Boxed: a card is large beside every other reply.
    ModelLoaded(Box<ModelInfo>),
    Unloaded,
    ArithmeticSet {
        arithmetic: Arithmetic,
    },
    ImageOpened {
        width: u32,
        height: u32,
    },
    /// Every model's snapshot; without its derived part and representation when a
    /// [`Response::Derived`] and [`Response::Represented`] follow for the same request (the worker's
    /// runs always do this: the page draws in between), and then with the maps of the requested layer
    /// alone ([`crate::Snapshot::attention_layer`]).
    Analyzed {
        models: Vec<ModelAnalysis>,
        filter: Option<FrequencyFilter>,
        millis: f64,
    },
    /// Each model's rollout, metrics, unit tokens and every layer's maps, in the order of
    /// `Analyzed`; `millis` counts from the request.
    Derived {
        models: Vec<(String, Derived)>,
        millis: f64,
    },
    /// Each model's representation, in the order of `Analyzed`; `millis` counts from the request.
    /// The worker sends it twice: first with only the depth the page shows (the others empty, see
    /// [`Representation::has`]), then complete, which ends the `Analyze`.
    Represented {
        models: Vec<(String, Representation)>,
        millis: f64,
    },
    /// Each model's per-layer numbers for one image of a set, in the order asked.
    Measured {
        models: Vec<(String, Measurement)>,
        millis: f64,
    },
    /// Each model's probes, in the order asked.
    Probed {
        models: Vec<(String, ProbeCurves)>,
        millis: f64,
    },
    Failed(WorkerError),
}

/// Why a request failed, by what the page should do about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum WorkerError {
    /// The image cannot be decoded or is refused (size limits): the user picks another.
    #[error("{0}")]
    Image(String),
    /// A model file is refused, or its download failed: the pair falls back without it.
    #[error("{id}: {reason}")]
    Model { id: String, reason: String },
    /// The backend itself failed (WebGPU lost or out of memory): the page moves to the CPU worker.
    #[error("{0}")]
    Device(String),
    /// The page asked for a model the worker has not loaded.
    #[error("model `{0}` is not loaded")]
    NotLoaded(String),
    #[error("no image has been opened yet")]
    NoImage,
    #[error("the worker was not started")]
    NotStarted,
    /// A message that does not decode: a page and a worker from different builds.
    #[error("a malformed message between page and worker: {0}")]
    Malformed(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub id: u32,
    pub body: T,
}

/// Sized first, then written once: growing the buffer by doubling would, for half a gigabyte of
/// attention, hold the old half and a new gigabyte at once.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let size =
        postcard::serialize_with_flavor(message, postcard::ser_flavors::Size::default()).expect("messages serialise");
    let bytes = postcard::to_extend(message, Vec::with_capacity(size)).expect("messages serialise");
    debug_assert_eq!(bytes.len(), size);
    bytes
}

pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, WorkerError> {
    postcard::from_bytes(bytes).map_err(|e| WorkerError::Malformed(e.to_string()))
}

mod card_json {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::card::ModelCard;

    pub fn serialize<S: Serializer>(card: &ModelCard, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&serde_json::to_string(card).map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ModelCard, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Interpolation, Preprocessing, Source};

    fn card() -> ModelCard {
        ModelCard {
            name: "tiny".into(),
            family: Family::MaskedImageModeling,
            objective: "SimMIM".into(),
            source: Source { checkpoint: "x.pth".into(), sha256: None, url: None, layout: "simmim".into() },
            license: "MIT".into(),
            training_data: "none".into(),
            preprocessing: Preprocessing {
                resize: 128,
                crop: 112,
                interpolation: Interpolation::Bicubic,
                mean: [0.5; 3],
                std: [0.25; 3],
                keep_images_at_crop_size: false,
            },
            citation: "c".into(),
            notes: None,
            training: None,
            reference_curves: None,
        }
    }

    #[test]
    fn every_message_round_trips_with_its_types() {
        let info = ModelInfo {
            id: "mim".into(),
            card: card(),
            image_size: 112,
            native_size: 112,
            prefix_tokens: 1,
            patch_size: 8,
            depth: 12,
            heads: 3,
            width: 192,
            precision: "int8".into(),
        };
        assert_eq!((info.name(), info.family(), info.grid()), ("tiny", Family::MaskedImageModeling, 14));
        assert!(!info.has_native_choice());
        // 12 layers × 3 heads × (1 + 14²)² tokens × 4 bytes.
        assert_eq!(info.attention_bytes(112), 12 * 3 * 197 * 197 * 4);
        // The DINOv2-S/14 at 518 px: 37² patches and CLS, 540 MB, under the page's limit.
        assert_eq!(attention_bytes(12, 6, 1, 37), 12 * 6 * 1370 * 1370 * 4);
        assert!(
            attention_bytes(12, 6, 1, 37) < MAX_ATTENTION_BYTES && attention_bytes(12, 12, 1, 37) > MAX_ATTENTION_BYTES
        );
        let replies = [
            Response::ModelLoaded(Box::new(info)),
            Response::Failed(WorkerError::Model { id: "m".into(), reason: "truncated".into() }),
            Response::Failed(WorkerError::Device("lost".into())),
            Response::ImageOpened { width: 451, height: 300 },
            Response::Measured {
                models: vec![
                    (
                        "cl".into(),
                        Measurement::Metrics(crate::LayerMetrics {
                            token_similarity: vec![0.5, 0.25],
                            ..Default::default()
                        }),
                    ),
                    ("mim".into(), Measurement::Pooled(PooledFeatures { width: 1, cls: vec![], avg: vec![0.5, 2.0] })),
                ],
                millis: 12.5,
            },
            Response::Probed {
                models: vec![(
                    "cl".into(),
                    ProbeCurves { knn_cls: None, knn_avg: vec![0.5], linear_avg: Some(vec![0.75]) },
                )],
                millis: 3.0,
            },
        ];
        for body in replies {
            let message = Envelope { id: 9, body };
            assert_eq!(decode::<Envelope<Response>>(&encode(&message)).unwrap(), message);
        }
        for body in [
            Request::OpenImage { bytes: vec![0xff, 0xd8, 0xff] },
            Request::OpenFrame { width: 1, height: 2, rgba: vec![1, 2, 3, 255, 4, 5, 6, 255] },
            Request::LoadModel {
                id: "d".into(),
                source: ModelSource::Dropped { name: "x.pth".into(), size: 9 },
                size: RunSize::Native,
            },
            Request::Unload { id: "d".into() },
            Request::Measure {
                bytes: vec![0x89, b'P'],
                models: vec!["cl".into(), "mim".into()],
                measures: Measures::Pooled,
            },
            Request::Probe {
                classes: 2,
                labels: vec![0, 1],
                models: vec![("cl".into(), vec![PooledFeatures { width: 1, cls: vec![1.0], avg: vec![2.0] }; 2])],
            },
        ] {
            let request = Envelope { id: 3, body };
            assert_eq!(decode::<Envelope<Request>>(&encode(&request)).unwrap(), request);
        }
    }

    #[test]
    fn garbage_is_a_malformed_message_not_a_panic() {
        let err = decode::<Envelope<Response>>(&[1, 200, 3]).unwrap_err();
        assert!(matches!(err, WorkerError::Malformed(_)), "{err:?}");
        assert!(err.to_string().starts_with("a malformed message between page and worker"), "{err}");
        assert!(decode::<Envelope<Request>>(&[]).is_err());
    }

    #[test]
    fn errors_read_as_sentences() {
        let e = WorkerError::Model { id: "file:x.safetensors".into(), reason: "the header is cut short".into() };
        assert_eq!(e.to_string(), "file:x.safetensors: the header is cut short");
        assert_eq!(WorkerError::NotLoaded("nope".into()).to_string(), "model `nope` is not loaded");
    }

    /// Valid messages of every shape the transport carries, to mutate.
    fn samples() -> Vec<Vec<u8>> {
        let info = ModelInfo {
            id: "mim".into(),
            card: card(),
            image_size: 112,
            native_size: 518,
            prefix_tokens: 5,
            patch_size: 8,
            depth: 12,
            heads: 3,
            width: 192,
            precision: "int8".into(),
        };
        let progress = Response::Progress { id: "m".into(), stage: Stage::Converting, loaded: 5, total: Some(9) };
        let converted = Converted {
            id: "file:x".into(),
            file_name: "x.safetensors".into(),
            size: 97_000_000,
            layout: "mocov3".into(),
            kept: Kept::Unavailable("sandboxed".into()),
        };
        let replies = [
            Response::ModelLoaded(Box::new(info)),
            progress,
            Response::Converted(Box::new(converted)),
            Response::Unloaded,
        ];
        let requests = [
            Request::LoadModel {
                id: "cl".into(),
                source: ModelSource::Url {
                    url: "models/cl.safetensors".into(),
                    sha256: Some("ab".into()),
                    bytes: None,
                },
                size: RunSize::Card,
            },
            Request::Analyze { models: vec!["cl".into(), "mim".into()], filter: None, layer: 11 },
        ];
        let replies = replies.into_iter().map(|body| encode(&Envelope { id: 7, body }));
        replies.chain(requests.into_iter().map(|body| encode(&Envelope { id: 8, body }))).collect()
    }

    fn decodes_or_is_malformed(bytes: &[u8]) -> Result<(), String> {
        for result in [decode::<Envelope<Response>>(bytes).map(drop), decode::<Envelope<Request>>(bytes).map(drop)] {
            if let Err(e) = result
                && !matches!(e, WorkerError::Malformed(_))
            {
                return Err(format!("{e:?}"));
            }
        }
        Ok(())
    }

    proptest::proptest! {
        /// Bytes from nowhere: a typed error, never a panic or an allocation the bytes do not pay
        /// for (postcard checks every length against what is left; serde caps a sequence's
        /// preallocation).
        #[test]
        fn any_bytes_decode_or_are_malformed(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            proptest::prop_assert_eq!(decodes_or_is_malformed(&bytes), Ok(()));
        }

        /// Real messages with bytes changed, cut or grown (lengths and enum tags included).
        #[test]
        fn changed_messages_decode_or_are_malformed(
            which in 0usize..6,
            edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 1..6),
            cut in proptest::prelude::any::<usize>(),
            grow in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4),
        ) {
            let mut bytes = samples()[which].clone();
            for (at, value) in edits {
                let n = bytes.len();
                bytes[at % n] = value;
            }
            let n = bytes.len();
            bytes.truncate(cut % (n + 1));
            bytes.extend(grow);
            proptest::prop_assert_eq!(decodes_or_is_malformed(&bytes), Ok(()));
        }
    }
}
