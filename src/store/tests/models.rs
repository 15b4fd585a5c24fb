//! Two to four models side by side: adding, swapping, removing and replacing them, what the worker
//! is asked to load and free, and what links keep.

use vitscope_protocol::messages::{ModelSource, Request, Response, RunSize, WorkerError};

use super::*;
use crate::store::reducer::reduce;
use crate::store::*;

fn loads(out: &[Command]) -> Vec<String> {
    sent(out)
        .into_iter()
        .filter_map(|(_, r)| match r {
            Request::LoadModel { id, .. } => Some(id),
            _ => None,
        })
        .collect()
}

fn unloads(out: &[Command]) -> Vec<String> {
    sent(out)
        .into_iter()
        .filter_map(|(_, r)| match r {
            Request::Unload { id } => Some(id),
            _ => None,
        })
        .collect()
}

fn analysed_models(out: &[Command]) -> Option<Vec<String>> {
    sent(out).into_iter().find_map(|(_, r)| match r {
        Request::Analyze { models, filter: None, .. } => Some(models),
        _ => None,
    })
}

/// Answers the LoadModel of `id` among `out`.
fn loaded(state: &mut State, out: &[Command], id: &str, family: Family) -> Vec<Command> {
    let request = id_of(out, |r| matches!(r, Request::LoadModel { id: m, .. } if m == id));
    reply(state, request, Response::ModelLoaded(Box::new(info(id, family))))
}

#[test]
fn up_to_four_models_show_side_by_side_and_each_loads_once() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::ChooseModel { slot: 2, id: "hy".into() });
    assert_eq!(state.view.models, ["cl", "mim", "hy"]);
    assert_eq!((loads(&out), unloads(&out)), (vec!["hy".to_string()], vec![]));
    assert!(analysed_models(&out).is_none(), "the image waits for the new model");
    let out = loaded(&mut state, &out, "hy", Family::Hybrid);
    assert_eq!(analysed_models(&out).unwrap(), ["cl", "mim", "hy"]);

    let out = reduce(&mut state, Action::ChooseModel { slot: 3, id: "dino".into() });
    assert_eq!(loads(&out), ["dino"]);
    loaded(&mut state, &out, "dino", Family::Hybrid);
    assert_eq!(state.view.models.len(), MAX_MODELS);
    let before = state.clone();
    let out = reduce(&mut state, Action::ChooseModel { slot: 4, id: "sup".into() });
    assert!(out.is_empty() && state == before, "a fifth model is not added");
    let mut hash = state.view.to_pairs().into_iter();
    assert_eq!(hash.find(|(k, _)| *k == "m").unwrap().1, "cl,mim,hy,dino", "the link names all four");
}

#[test]
fn a_model_shown_elsewhere_swaps_places_and_a_removed_one_is_freed() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::ChooseModel { slot: 0, id: "mim".into() });
    assert_eq!(state.view.models, ["mim", "cl"]);
    assert!(loads(&out).is_empty() && unloads(&out).is_empty(), "both are loaded already");
    assert_eq!(analysed_models(&out).unwrap(), ["mim", "cl"]);

    let out = reduce(&mut state, Action::RemoveModel(1));
    assert_eq!(state.view.models, ["mim"]);
    assert_eq!(unloads(&out), ["cl"]);
    assert!(!state.loaded.contains_key("cl"));
    assert_eq!(analysed_models(&out).unwrap(), ["mim"]);
    let before = state.clone();
    assert!(reduce(&mut state, Action::RemoveModel(0)).is_empty(), "the last model stays");
    assert_eq!(state, before);

    // Shown again, it loads again.
    let out = reduce(&mut state, Action::ChooseModel { slot: 1, id: "cl".into() });
    assert_eq!(loads(&out), ["cl"]);
}

#[test]
fn a_replaced_model_is_freed_and_one_chosen_away_while_loading_is_freed_on_arrival() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::ChooseModel { slot: 1, id: "hy".into() });
    assert_eq!((loads(&out), unloads(&out)), (vec!["hy".to_string()], vec!["mim".to_string()]));
    reduce(&mut state, Action::ChooseModel { slot: 1, id: "dino".into() });
    let out = loaded(&mut state, &out, "hy", Family::Hybrid);
    assert_eq!(unloads(&out), ["hy"]);
    assert!(!state.loaded.contains_key("hy"));
    assert!(analysed_models(&out).is_none(), "dino is still loading");
}

#[test]
fn a_dropped_model_file_joins_the_models_shown_and_the_last_gives_way_at_four() {
    let (mut state, _) = ready();
    for (slot, id) in [(2, "hy"), (3, "dino")] {
        let out = reduce(&mut state, Action::ChooseModel { slot, id: id.into() });
        loaded(&mut state, &out, id, Family::Hybrid);
    }
    let out = reduce(&mut state, Action::ModelFileDropped { name: "vit-b.pth".into(), size: 9 });
    assert_eq!(state.view.models, ["file:vit-b.pth", "cl", "mim", "hy"]);
    assert_eq!(unloads(&out), ["dino"]);
    assert!(matches!(
        &sent(&out)[..],
        [(_, Request::Unload { .. }), (_, Request::LoadModel { source: ModelSource::Dropped { .. }, .. })]
    ));
    let choices = state.choices();
    assert_eq!(choices.last().unwrap(), &("file:vit-b.pth".to_string(), "vit-b.pth (your file)".to_string()));
    assert_eq!(choices.len(), 6, "five listed models and the file");
    // A link cannot carry the file: the hash and the embed leave it out and say so.
    assert!(state.view.has_own_models());
    assert_eq!(state.view.shareable().models, ["cl", "mim", "hy"]);
    // An edited hash keeps it (the hash never named it).
    reduce(&mut state, Action::HashChanged(pairs("m=mim,cl&layer=2")));
    assert_eq!(state.view.models, ["file:vit-b.pth", "mim", "cl"]);
}

#[test]
fn a_link_keeps_the_models_it_can_and_says_why_it_dropped_the_others() {
    let (mut state, _) = State::new(&[], &pairs("m=cl,nope,hy,cl"));
    reduce(&mut state, Action::ManifestLoaded(Ok(manifest())));
    assert_eq!(state.view.models, ["cl", "hy"]);
    assert_eq!(state.notices, ["No listed model is called nope; showing the others. Listed: cl, mim, hy, dino, sup."]);

    let (mut state, _) = State::new(&[], &pairs("m=file:vit-b.pth,mim"));
    reduce(&mut state, Action::ManifestLoaded(Ok(manifest())));
    assert_eq!(state.view.models, ["mim"]);
    assert!(state.notices[0].starts_with("vit-b.pth came from your computer and cannot be reopened from a link"));

    let (state, _) = State::new(&[], &pairs("m=a,b,c,d,e"));
    assert!(state.notices[0].contains("should list one to 4 model ids"), "{:?}", state.notices);
}

#[test]
fn a_models_url_joins_the_default_pair_and_keeps_its_place_on_reload() {
    let (mut state, _) = State::new(&pairs("model=https://host/x/mine.safetensors"), &[]);
    reduce(&mut state, Action::ManifestLoaded(Ok(manifest())));
    assert_eq!(state.view.models, ["url:mine.safetensors", "cl", "mim"]);
    let (mut state, _) =
        State::new(&pairs("model=https://host/x/mine.safetensors"), &pairs("m=cl,url:mine.safetensors"));
    reduce(&mut state, Action::ManifestLoaded(Ok(manifest())));
    assert_eq!(state.view.models, ["cl", "url:mine.safetensors"]);
    assert!(state.notices.is_empty(), "{:?}", state.notices);
    assert_eq!(state.choices().last().unwrap().1, "mine.safetensors (from the link)");
}

#[test]
fn a_model_runs_at_its_native_size_on_request_and_back_at_its_cards_when_that_fails() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::SetNativeSize { id: "mim".into(), native: true });
    assert_eq!(unloads(&out), ["mim"]);
    let load = sent(&out).into_iter().find_map(|(id, r)| match r {
        Request::LoadModel { id: m, size, .. } if m == "mim" => Some((id, size)),
        _ => None,
    });
    let (request, size) = load.expect("mim loads again");
    assert_eq!(size, RunSize::Native);
    assert!(state.analysis.is_none());
    let mut hash = state.view.to_pairs().into_iter();
    assert_eq!(hash.find(|(k, _)| *k == "native").unwrap().1, "mim", "the link keeps the size");

    // Refused at that size, it runs at its card's size, still shown.
    let reason = "at its native 518 px its attention maps alone take 1080 MB".to_string();
    let out = reply(&mut state, request, Response::Failed(WorkerError::Model { id: "mim".into(), reason }));
    assert_eq!(state.view.models, ["cl", "mim"]);
    assert!(state.view.native.is_empty());
    assert!(state.notices.last().unwrap().ends_with("1080 MB; running it at its card's size."), "{:?}", state.notices);
    assert!(
        sent(&out).iter().any(|(_, r)| matches!(r, Request::LoadModel { id, size: RunSize::Card, .. } if id == "mim"))
    );
}

#[test]
fn a_crash_at_a_native_size_restarts_at_the_cards_size() {
    let (mut state, _) = ready();
    reduce(&mut state, Action::SetNativeSize { id: "cl".into(), native: true });
    let generation = state.generation;
    reduce(&mut state, Action::WorkerCrashed { generation, message: "out of memory".into() });
    assert!(state.view.native.is_empty());
    assert_eq!(state.notices.last().unwrap(), "cl run at their card's size again after the worker stopped.");
}

#[test]
fn a_model_that_fails_to_load_is_named_in_a_notice_that_outlasts_the_next_analysis() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::ChooseModel { slot: 2, id: "hy".into() });
    let request = id_of(&out, |r| matches!(r, Request::LoadModel { id, .. } if id == "hy"));
    let why = WorkerError::Model { id: "hy".into(), reason: "the server sent a web page (text/html)".into() };
    reply(&mut state, request, Response::Failed(why));
    assert_eq!(state.view.models, ["cl", "mim"], "the others stay");
    assert_eq!(state.error, None, "not an alert: the page goes on");
    assert_eq!(state.notices, ["hy: the server sent a web page (text/html)"]);
    let out = reduce(&mut state, Action::ChooseModel { slot: 0, id: "mim".into() });
    let analyze = id_of(&out, |r| matches!(r, Request::Analyze { .. }));
    let models = vec![analysed("mim"), analysed("cl")];
    reply(&mut state, analyze, Response::Analyzed { models, filter: None, millis: 5.0 });
    assert!(state.analysis.is_some());
    assert_eq!(state.notices, ["hy: the server sent a web page (text/html)"], "still listed after the analysis");
}
