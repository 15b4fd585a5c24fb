//! The page's behaviour without a browser: what each action changes and which commands it leaves.
//! These are the shared fixtures; [`worker`] follows the worker link, [`view`] the user's actions.

mod camera;
mod dataset;
mod models;
mod view;
mod worker;

use std::rc::Rc;

use vitscope_protocol::card::{Interpolation, Preprocessing, Source};
use vitscope_protocol::messages::{Envelope, ModelAnalysis, ModelInfo, Request, Response};
use vitscope_protocol::{Derived, Family, LayerMetrics, ModelCard, Representation, Snapshot, Timing};

use super::reducer::reduce;
use super::*;

pub(super) fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub(super) fn info(id: &str, family: Family) -> ModelInfo {
    ModelInfo {
        id: id.into(),
        card: ModelCard {
            name: format!("{id} model"),
            family,
            objective: "o".into(),
            source: Source { checkpoint: "c".into(), sha256: None, url: None, layout: "l".into() },
            license: "MIT".into(),
            training_data: "none".into(),
            preprocessing: Preprocessing {
                resize: 128,
                crop: 112,
                interpolation: Interpolation::Bilinear,
                mean: [0.5; 3],
                std: [0.25; 3],
                keep_images_at_crop_size: false,
            },
            citation: "c".into(),
            notes: None,
            training: None,
            reference_curves: None,
        },
        image_size: 112,
        native_size: 112,
        patch_size: 8,
        prefix_tokens: 1,
        depth: 12,
        heads: 3,
        width: 192,
        precision: "int8".into(),
    }
}

pub(super) fn manifest() -> Manifest {
    let entry = |id: &str, family| ManifestEntry {
        id: id.into(),
        name: id.into(),
        family,
        file: format!("{id}.safetensors"),
        bytes: 10,
        sha256: "ab".into(),
        url: None,
    };
    Manifest {
        models: vec![
            entry("cl", Family::Contrastive),
            entry("mim", Family::MaskedImageModeling),
            entry("hy", Family::Hybrid),
            entry("dino", Family::Hybrid),
            entry("sup", Family::Supervised),
        ],
        default_pair: vec!["cl".into(), "mim".into()],
        problems: Vec::new(),
    }
}

pub(super) fn image() -> ImageInput {
    ImageInput::file("cat.jpg".into(), Rc::new(vec![1, 2, 3]), Some("cat.jpg".into()))
}

/// The requests among `commands`, with their ids.
pub(super) fn sent(commands: &[Command]) -> Vec<(u32, Request)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(Envelope { id, body }) => Some((*id, body.clone())),
            _ => None,
        })
        .collect()
}

pub(super) fn id_of(commands: &[Command], wanted: impl Fn(&Request) -> bool) -> u32 {
    sent(commands).into_iter().find(|(_, r)| wanted(r)).map(|(id, _)| id).expect("the request was sent")
}

pub(super) fn reply(state: &mut State, id: u32, body: Response) -> Vec<Command> {
    let generation = state.generation;
    reduce(state, Action::WorkerReplied { generation, envelope: Box::new(Envelope { id, body }) })
}

/// A page on `backend`, started, with the manifest and the image read; returns the LoadModel ids.
pub(super) fn started(url: &str) -> (State, Vec<Command>) {
    let (mut state, first) = State::new(&pairs(url), &[]);
    let mut out = first;
    if let Some(Command::Probe { generation, .. }) = out.iter().find(|c| matches!(c, Command::Probe { .. })).cloned() {
        out = reduce(&mut state, Action::Probed { generation, result: Ok("test GPU".into()) });
    }
    let start = id_of(&out, |r| matches!(r, Request::Start { .. }));
    let backend = state.link.backend().expect("a worker was spawned");
    let mut out = reduce(&mut state, Action::ManifestLoaded(Ok(manifest())));
    out.extend(reply(&mut state, start, Response::Started { backend }));
    out.extend(reduce(&mut state, Action::ImageRead { choice: 1, result: Ok(image()) }));
    (state, out)
}

fn snapshot() -> Snapshot {
    Snapshot {
        grid: 2,
        prefix: 1,
        cls: true,
        depth: 1,
        heads: 1,
        channels: 1,
        attention: vec![0.2; 25],
        attention_layer: None,
        derived: Some(Derived {
            attention: Vec::new(),
            rollout: vec![0.2; 25],
            metrics: LayerMetrics::default(),
            tokens: vec![1.0; 8],
            millis: 0.0,
        }),
        token_norms: vec![1.0; 10],
        representation: Some(Representation {
            pca_rgb: vec![vec![0; 12]; 2],
            foreground: vec![vec![false, true, true, false]; 2],
            foreground_rgb: vec![vec![0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0]; 2],
            spectrum: vec![vec![0.0]; 2],
            millis: 2.0,
        }),
        timing: Timing::default(),
    }
}

pub(super) fn analysed(id: &str) -> ModelAnalysis {
    ModelAnalysis { id: id.into(), input: vec![0; 12], size: 2, spectrum: vec![0; 4], snapshot: snapshot() }
}

/// Loads both models and opens the image; returns the commands of the last step.
pub(super) fn ready() -> (State, Vec<Command>) {
    let (mut state, out) = started("backend=cpu");
    let cl = id_of(&out, |r| matches!(r, Request::LoadModel { id, .. } if id == "cl"));
    let mim = id_of(&out, |r| matches!(r, Request::LoadModel { id, .. } if id == "mim"));
    let open = id_of(&out, |r| matches!(r, Request::OpenImage { .. }));
    assert!(reply(&mut state, cl, Response::ModelLoaded(Box::new(info("cl", Family::Contrastive)))).is_empty());
    assert!(
        reply(&mut state, mim, Response::ModelLoaded(Box::new(info("mim", Family::MaskedImageModeling)))).is_empty()
    );
    let out = reply(&mut state, open, Response::ImageOpened { width: 451, height: 300 });
    (state, out)
}
