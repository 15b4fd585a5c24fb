//! The user's actions and the lists: settings, models, filters, the gallery, the hash.

use std::rc::Rc;

use vitscope_protocol::messages::{ModelSource, Request, Response, WorkerError};

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
    let out = reduce(&mut state, Action::ModelFileRead(Ok(("cut.safetensors".into(), Rc::new(vec![0; 4])))));
    assert_eq!(state.view.models, ["file:cut.safetensors", "cl"]);
    assert_eq!(state.status, "Checking cut.safetensors…");
    let load = id_of(&out, |r| matches!(r, Request::LoadModel { source: ModelSource::Bytes(b), .. } if b.len() == 4));
    let reason = "this is not a usable vitscope model: the header is cut short".to_string();
    reply(&mut state, load, Response::Failed(WorkerError::Model { id: "file:cut.safetensors".into(), reason }));
    assert_eq!(state.view.models, ["cl"]);
    assert_eq!(
        state.error.as_deref(),
        Some("file:cut.safetensors: this is not a usable vitscope model: the header is cut short")
    );
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
    assert_eq!(sent(&out), [(run + 1, Request::Analyze { models: vec!["cl".into(), "mim".into()], filter })]);
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
    assert_eq!(state.notices, ["No listed model is called nope, nada; showing the default pair. Listed: cl, mim."]);
}

#[test]
fn a_changed_hash_applies_and_reports_its_parameters() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::HashChanged(pairs("layer=40&cmap=jet&view=metrics")));
    assert!(out.is_empty());
    assert_eq!((state.view.view, state.view.layer), (View::Metrics, 11), "the layer is clamped to the models");
    assert_eq!(state.notices.len(), 1);
}
