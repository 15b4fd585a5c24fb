//! The user's actions and the lists: settings, models, filters, the gallery, the hash.

use vitscope_protocol::messages::{Converted, Kept, ModelSource, Request, Response, Stage, WorkerError};

use super::*;
use crate::store::reducer::reduce;
use crate::store::*;

#[test]
fn a_query_change_changes_only_the_query() {
    let (mut state, _) = ready();
    let before = state.clone();
    let out = reduce(&mut state, Action::SetQuery(Query::Patch { row: 1, col: 2 }));
    assert!(out.is_empty());
    assert_eq!(state.view.query, Query::Patch { row: 1, col: 2 });
    state.view.query = before.view.query;
    assert_eq!(state, before);
}

#[test]
fn a_broken_model_file_leaves_the_pair_with_its_reason() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::ModelFileDropped { name: "cut.safetensors".into(), size: 4 });
    assert_eq!(state.view.models, ["file:cut.safetensors", "cl", "mim"]);
    assert_eq!(state.status, "Reading cut.safetensors…");
    let load = id_of(
        &out,
        |r| matches!(r, Request::LoadModel { source: ModelSource::Dropped { name, size: 4 }, .. } if name == "cut.safetensors"),
    );
    let reason = "this is not a usable vitscope model: the header is cut short".to_string();
    reply(&mut state, load, Response::Failed(WorkerError::Model { id: "file:cut.safetensors".into(), reason }));
    assert_eq!(state.view.models, ["cl", "mim"]);
    assert!(!state.choices().iter().any(|(id, _)| id.starts_with("file:")), "a broken file is not offered again");
    // The pair goes on, so the reason is a notice (an alert would vanish with their next analysis).
    let why = "file:cut.safetensors: this is not a usable vitscope model: the header is cut short";
    assert_eq!((state.error.as_deref(), state.notices.as_slice()), (None, [why.to_string()].as_slice()));
    assert_eq!(state.status, format!("Error: {why}"));
}

fn converted(kept: Kept) -> Response {
    Response::Converted(Box::new(Converted {
        id: "file:vit-b-300ep.pth.tar".into(),
        file_name: "vit-b-300ep-vitscope.safetensors".into(),
        size: 97_000_000,
        layout: "mocov3".into(),
        kept,
    }))
}

#[test]
fn a_converted_checkpoint_shows_progress_is_kept_for_a_restart_and_can_be_saved() {
    let (mut state, _) = ready();
    let id = "file:vit-b-300ep.pth.tar".to_string();
    let out = reduce(&mut state, Action::ModelFileDropped { name: "vit-b-300ep.pth.tar".into(), size: 1 << 30 });
    let load = id_of(&out, |r| matches!(r, Request::LoadModel { source: ModelSource::Dropped { .. }, .. }));
    let progress = Response::Progress { id: id.clone(), stage: Stage::Hashing, loaded: 8 << 20, total: Some(1 << 30) };
    reply(&mut state, load, progress);
    let shown = state.progress.clone().unwrap();
    assert_eq!(shown.model, "vit-b-300ep.pth.tar");
    assert_eq!((shown.stage, shown.loaded, shown.total), (Stage::Hashing, 8 << 20, Some(1 << 30)));
    reply(&mut state, load, converted(Kept::Unavailable("the browser gives this page no storage".into())));
    assert!(
        state.notices.last().unwrap().contains("but the browser gives this page no storage"),
        "{:?}",
        state.notices
    );
    reply(&mut state, load, Response::ModelLoaded(Box::new(info(&id, Family::Contrastive))));
    assert!(state.loaded.contains_key(&id) && state.progress.is_none());
    let save = reduce(&mut state, Action::SaveConverted(id.clone()));
    assert_eq!(save, [Command::Save { file_name: "vit-b-300ep-vitscope.safetensors".into() }]);
    // A restarted worker gets the converted file, not the checkpoint again.
    let generation = state.generation;
    let out = reduce(&mut state, Action::WorkerCrashed { generation, message: "oom".into() });
    let start = id_of(&out, |r| matches!(r, Request::Start { .. }));
    let backend = state.link.backend().unwrap();
    let out = reply(&mut state, start, Response::Started { backend });
    let reload = sent(&out).into_iter().find_map(|(_, r)| match r {
        Request::LoadModel { id: m, source, .. } if m == id => Some(source),
        _ => None,
    });
    let converted = ModelSource::Dropped { name: "vit-b-300ep-vitscope.safetensors".into(), size: 97_000_000 };
    assert_eq!(reload, Some(converted));
}

#[test]
fn cancel_during_a_conversion_forgets_the_file_and_keeps_the_other_model() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::ModelFileDropped { name: "big.pth".into(), size: 1 << 30 });
    let load = id_of(&out, |r| matches!(r, Request::LoadModel { source: ModelSource::Dropped { .. }, .. }));
    reply(
        &mut state,
        load,
        Response::Progress { id: "file:big.pth".into(), stage: Stage::Converting, loaded: 1, total: Some(2) },
    );
    let out = reduce(&mut state, Action::Cancel);
    assert_eq!(state.status, "Cancelled reading big.pth; nothing was kept.");
    assert_eq!(state.view.models, ["cl", "mim"]);
    let start = id_of(&out, |r| matches!(r, Request::Start { .. }));
    let backend = state.link.backend().unwrap();
    let out = reply(&mut state, start, Response::Started { backend });
    assert!(
        !sent(&out).iter().any(|(_, r)| matches!(r, Request::LoadModel { source: ModelSource::Dropped { .. }, .. }))
    );
    assert!(state.converted.is_empty());
}

#[test]
fn the_frequency_view_filters_the_kept_image_without_sending_it_again() {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    reply(
        &mut state,
        run,
        Response::Analyzed { models: vec![analysed("cl"), analysed("mim")], filter: None, millis: 1.0 },
    );
    let out = reduce(&mut state, Action::SetView(View::Frequency));
    let filter = Some(state.frequency_filter());
    let layer = state.view.layer;
    assert_eq!(sent(&out), [(run + 1, Request::Analyze { models: vec!["cl".into(), "mim".into()], filter, layer })]);
    let out = reduce(&mut state, Action::SetFilter(Filter { high_pass: true, cutoff: 0.5 }));
    assert!(matches!(&sent(&out)[..], [(_, Request::Analyze { filter: Some(f), .. })] if f.cutoff == 0.5));
    assert_eq!(state.view.filter, Filter { high_pass: true, cutoff: 0.5 });
}

#[test]
fn the_gallery_opens_the_photo_in_the_url_or_says_why_not() {
    let (mut state, _) = State::new(&[], &pairs("img=dog.jpg"));
    let item = |f: &str| GalleryItem { file: f.into(), author: "a".into(), license: "l".into(), source: "s".into() };
    let out = reduce(&mut state, Action::GalleryLoaded(vec![item("cat.jpg"), item("bird.jpg")]));
    assert_eq!(out, [Command::FetchImage("cat.jpg".into())]);
    assert_eq!(state.notices, ["`dog.jpg` is not in the gallery; showing the first photo."]);
}

#[test]
fn unknown_models_in_the_url_fall_back_to_the_default_pair() {
    let (mut state, _) = State::new(&[], &pairs("m=nope,nada"));
    reduce(&mut state, Action::ManifestLoaded(Ok(manifest())));
    assert_eq!(state.view.models, ["cl", "mim"]);
    assert_eq!(
        state.notices,
        ["No listed model is called nope, nada; showing the default pair. Listed: cl, mim, hy, dino, sup."]
    );
}

#[test]
fn a_changed_hash_applies_and_reports_its_parameters() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::HashChanged(pairs("layer=40&cmap=jet&view=metrics")));
    assert!(out.is_empty());
    assert_eq!((state.view.view, state.view.layer), (View::Metrics, 11), "the layer is clamped to the models");
    assert_eq!(state.notices.len(), 1);
}
