//! The worker link: probing, starting, replies, failures, restarts.

use std::rc::Rc;

use vitscope_protocol::messages::{Backend, Envelope, ModelSource, Request, Response, WorkerError};
use vitscope_protocol::{Derived, Family, LayerMetrics};

use super::*;
use crate::store::reducer::reduce;
use crate::store::*;

#[test]
fn the_first_commands_fetch_the_lists_and_probe_webgpu() {
    let (state, out) = State::new(&[], &pairs("layer=3&q=cls"));
    assert_eq!(
        out,
        [Command::FetchManifest(None), Command::FetchGallery, Command::Probe { generation: 1, allow_software: false }]
    );
    let (_, out) = State::new(&pairs("manifest=https://blog.example/models/manifest.json"), &[]);
    assert_eq!(out[0], Command::FetchManifest(Some("https://blog.example/models/manifest.json".into())));
    let (refused, out) = State::new(&pairs("manifest=javascript:alert(1)"), &[]);
    assert_eq!(out[0], Command::FetchManifest(None));
    assert_eq!(refused.notices, ["`manifest=javascript:alert(1)` is not an http(s) or relative URL"]);
    assert_eq!((state.link.clone(), state.view.layer, state.view.query), (WorkerLink::Probing, 2, Query::Cls));
    let (_, out) = State::new(&pairs("backend=webgpu"), &[]);
    assert_eq!(out[2], Command::Probe { generation: 1, allow_software: true });
    let (state, _) = State::new(&pairs("view=banana"), &pairs("cmap=jet"));
    assert_eq!(state.notices.len(), 2, "{:?}", state.notices);
}

#[test]
fn an_authors_models_load_from_their_own_address_with_their_sha256() {
    let (mut state, first) = State::new(&pairs("backend=cpu"), &[]);
    let start = id_of(&first, |r| matches!(r, Request::Start { .. }));
    let mut authored = manifest();
    authored.models[0].id = "b16".into();
    authored.models[0].url = Some("https://blog.example/models/b16.safetensors".into());
    authored.models[0].sha256 = "cd".repeat(32);
    authored.default_pair = vec!["b16".into(), "mim".into()];
    authored.problems = vec!["The model list x: the server answered 404 (showing the bundled models)".into()];
    let mut out = reduce(&mut state, Action::ManifestLoaded(Ok(authored)));
    out.extend(reply(&mut state, start, Response::Started { backend: Backend::Cpu }));
    let loads: Vec<_> = sent(&out).into_iter().filter(|(_, r)| matches!(r, Request::LoadModel { .. })).collect();
    assert!(
        matches!(&loads[0].1, Request::LoadModel { id, source: ModelSource::Url { url, sha256: Some(sha), bytes: Some(10) }, .. }
        if id == "b16" && url == "https://blog.example/models/b16.safetensors" && sha == &"cd".repeat(32))
    );
    assert!(
        matches!(&loads[1].1, Request::LoadModel { source: ModelSource::Url { url, .. }, .. } if url == "./models/mim.safetensors")
    );
    assert_eq!(state.notices, ["The model list x: the server answered 404 (showing the bundled models)"]);
}

#[test]
fn the_worker_link_goes_from_probing_to_starting_to_ready() {
    let (mut state, _) = State::new(&[], &[]);
    let out = reduce(&mut state, Action::Probed { generation: 1, result: Err("no WebGPU here".into()) });
    assert_eq!(out[0], Command::SpawnWorker { generation: 1, backend: Backend::Cpu });
    assert_eq!(sent(&out), [(1, Request::Start { backend: Backend::Cpu })]);
    assert_eq!(state.link, WorkerLink::Starting { backend: Backend::Cpu, why: "no WebGPU here".into() });
    // A second probe answer for the same worker changes nothing.
    assert!(reduce(&mut state, Action::Probed { generation: 1, result: Ok("gpu".into()) }).is_empty());
    reply(&mut state, 1, Response::Started { backend: Backend::Cpu });
    assert_eq!(state.link, WorkerLink::Ready { backend: Backend::Cpu, note: "no WebGPU here".into() });
    assert_eq!(state.status, "Running on CPU (WebAssembly): no WebGPU here");
    assert_eq!(state.backend(), Some((Backend::Cpu, "no WebGPU here")));
    let out = reduce(&mut state, Action::WorkerSpawnFailed { generation: 1, message: "no workers".into() });
    assert!(out.is_empty());
    assert_eq!(
        (state.link.clone(), state.error.clone()),
        (WorkerLink::Failed("no workers".into()), Some("no workers".into()))
    );
}

#[test]
fn the_image_is_analysed_only_once_both_models_are_loaded_and_it_is_opened() {
    let (mut state, out) = started("backend=cpu");
    let loads: Vec<_> = sent(&out).into_iter().filter(|(_, r)| matches!(r, Request::LoadModel { .. })).collect();
    assert_eq!(loads.len(), 2);
    assert!(
        matches!(&loads[0].1, Request::LoadModel { id, source: ModelSource::Url { url, .. }, .. } if id == "cl" && url == "./models/cl.safetensors")
    );
    let open = id_of(&out, |r| matches!(r, Request::OpenImage { bytes } if bytes == &[1, 2, 3]));
    // Opened before the models: nothing runs yet.
    assert!(reply(&mut state, open, Response::ImageOpened { width: 4, height: 3 }).is_empty());
    assert!(reply(&mut state, loads[0].0, Response::ModelLoaded(Box::new(info("cl", Family::Contrastive)))).is_empty());
    assert_eq!(state.status, "Loaded cl model (CL, int8).");
    let out = reply(&mut state, loads[1].0, Response::ModelLoaded(Box::new(info("mim", Family::MaskedImageModeling))));
    assert_eq!(
        sent(&out),
        [(loads[1].0 + 2, Request::Analyze { models: vec!["cl".into(), "mim".into()], filter: None, layer: 5 })]
    );
    assert_eq!(state.status, "Analysing cat.jpg with 2 models on CPU (WebAssembly)…");
    assert!(state.busy());
}

#[test]
fn an_analysis_reply_makes_the_page_ready_and_a_stale_one_is_ignored() {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    // An answer to an older request, and one from an older worker, are ignored.
    let stale = Response::Analyzed { models: vec![analysed("cl")], filter: None, millis: 1.0 };
    assert!(reply(&mut state, run - 1, stale.clone()).is_empty());
    let old = Envelope { id: run, body: stale };
    assert!(reduce(&mut state, Action::WorkerReplied { generation: 0, envelope: Box::new(old) }).is_empty());
    assert_eq!(state.analysis, None);
    let body = Response::Analyzed { models: vec![analysed("cl"), analysed("mim")], filter: None, millis: 12.4 };
    reply(&mut state, run, body);
    assert_eq!(state.status, "Ready: cat.jpg (451×300) with 2 models in 12 ms on CPU (WebAssembly).");
    let analysis = state.analysis.clone().expect("an analysis");
    assert_eq!(analysis.models[1].info.family(), Family::MaskedImageModeling);
    assert_eq!(analysis.models[0].pca.len(), 2, "the PCA colours moved out of the snapshot");
    assert!(!state.busy());
}

/// A model's snapshot as the worker first sends it, and its representation apart.
fn first_and_representation(id: &str) -> (ModelAnalysis, (String, Representation)) {
    let mut first = analysed(id);
    let representation = first.snapshot.representation.take().expect("the fixture is complete");
    first.snapshot.timing = Timing { forward_ms: 3.0, first_ms: 5.0, total_ms: 5.0 };
    (first, (id.to_string(), representation))
}

#[test]
fn the_shown_depth_is_drawn_first_and_the_run_is_ready_when_every_depth_is_in() {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    let ((cl, cl_rep), (mim, mim_rep)) = (first_and_representation("cl"), first_and_representation("mim"));
    reply(&mut state, run, Response::Analyzed { models: vec![cl, mim], filter: None, millis: 7.4 });
    // The worker's first representation: depth 1 only (the one shown), depth 0 still empty.
    let shown = |(id, r): &(String, Representation)| {
        let mut r = r.clone();
        (r.pca_rgb[0], r.foreground[0], r.foreground_rgb[0], r.spectrum[0]) = (vec![], vec![], vec![], vec![]);
        (id.clone(), r)
    };
    reply(&mut state, run, Response::Represented { models: vec![shown(&cl_rep), shown(&mim_rep)], millis: 8.2 });
    assert_eq!(state.status, "Shown: cat.jpg at this layer in 8 ms; the other layers' PCA colours and spectra follow…");
    let part = state.analysis.clone().unwrap();
    assert!(!part.is_complete() && part.is_shown() && state.busy());
    assert_eq!(part.models[0].singular_values(1), Some(&[0.0][..]));
    assert_eq!((part.models[0].singular_values(0), part.models[0].foreground(0)), (None, None));
    reply(&mut state, run, Response::Represented { models: vec![cl_rep, mim_rep], millis: 9.6 });
    assert_eq!(state.status, "Ready: cat.jpg (451×300) with 2 models in 10 ms on CPU (WebAssembly).");
    let done = state.analysis.clone().unwrap();
    assert!(done.is_complete() && done.models[1].foreground(0).is_some() && !state.busy());
}

#[test]
fn a_run_is_drawn_before_its_representations_and_ready_after_them() {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    let ((cl, cl_rep), (mim, mim_rep)) = (first_and_representation("cl"), first_and_representation("mim"));
    reply(&mut state, run, Response::Analyzed { models: vec![cl, mim], filter: None, millis: 7.4 });
    assert_eq!(state.status, "Drawn: cat.jpg in 7 ms; computing the PCA colours and spectra…");
    let drawn = state.analysis.clone().expect("drawn before the representations");
    assert!(!drawn.is_complete() && drawn.models[0].pca.is_empty() && drawn.models[0].singular_values(0).is_none());
    assert!(state.busy(), "the run is not over");
    // A representation for another request changes nothing.
    reply(&mut state, run + 1, Response::Represented { models: vec![cl_rep.clone()], millis: 9.0 });
    assert!(Rc::ptr_eq(state.analysis.as_ref().unwrap(), &drawn));
    reply(&mut state, run, Response::Represented { models: vec![cl_rep, mim_rep], millis: 9.6 });
    assert_eq!(state.status, "Ready: cat.jpg (451×300) with 2 models in 10 ms on CPU (WebAssembly).");
    let done = state.analysis.clone().unwrap();
    assert!(!Rc::ptr_eq(&done, &drawn), "a new analysis, so the views see the change");
    assert!(Rc::ptr_eq(&done.models[0].snapshot, &drawn.models[0].snapshot), "the snapshot is shared, not copied");
    assert_eq!((done.models[1].pca.len(), done.models[1].singular_values(1)), (2, Some(&[0.0][..])));
    assert_eq!(done.models[0].timing, Timing { forward_ms: 3.0, first_ms: 5.0, total_ms: 7.0 });
    assert!(!state.busy());
}

#[test]
fn a_run_cancelled_between_its_two_answers_is_not_left_half_shown() {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    let (cl, _) = first_and_representation("cl");
    reply(&mut state, run, Response::Analyzed { models: vec![cl], filter: None, millis: 1.0 });
    assert!(state.analysis.is_some());
    reduce(&mut state, Action::Cancel);
    assert_eq!(state.analysis, None, "its PCA will never come");
    assert!(state.status.starts_with("Cancelled"), "{}", state.status);
}

#[test]
fn a_filtered_run_waits_for_its_representations_too() {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    reply(
        &mut state,
        run,
        Response::Analyzed { models: vec![analysed("cl"), analysed("mim")], filter: None, millis: 1.0 },
    );
    let out = reduce(&mut state, Action::SetView(View::Frequency));
    let filtered = id_of(&out, |r| matches!(r, Request::Analyze { filter: Some(_), .. }));
    let (cl, cl_rep) = first_and_representation("cl");
    reply(&mut state, filtered, Response::Analyzed { models: vec![cl], filter: None, millis: 1.0 });
    assert!(state.filtered.as_ref().is_some_and(|f| !f.is_complete()));
    assert_eq!(state.running_filter, Some(filtered));
    reply(&mut state, filtered, Response::Represented { models: vec![cl_rep], millis: 2.0 });
    assert!(state.filtered.as_ref().is_some_and(|f| f.is_complete()));
    assert_eq!(state.running_filter, None);
    assert!(state.analysis.as_ref().is_some_and(|a| a.is_complete()), "the main run is untouched");
}

#[test]
fn a_lost_webgpu_device_moves_to_the_cpu_and_sends_the_image_again() {
    let (mut state, _) = started("");
    assert_eq!(state.link.backend(), Some(Backend::WebGpu));
    let out = reply(&mut state, 0, Response::Failed(WorkerError::Device("the GPU device was lost".into())));
    assert_eq!(out[0], Command::SpawnWorker { generation: 2, backend: Backend::Cpu });
    assert_eq!(state.notices, ["WebGPU failed (the GPU device was lost); switched to the CPU and ran again."]);
    let start = id_of(&out, |r| r == &Request::Start { backend: Backend::Cpu });
    let out = reply(&mut state, start, Response::Started { backend: Backend::Cpu });
    assert!(state.status.starts_with("Running on CPU (WebAssembly): WebGPU failed (the GPU device was lost)"));
    assert!(sent(&out).iter().any(|(_, r)| matches!(r, Request::OpenImage { .. })), "the image crosses again");
    assert_eq!(sent(&out).iter().filter(|(_, r)| matches!(r, Request::LoadModel { .. })).count(), 2);
}

#[test]
fn an_image_that_kills_the_worker_while_decoding_is_dropped_not_sent_again() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::ImageRead { choice: 2, result: Ok(image()) });
    assert!(sent(&out).iter().any(|(_, r)| matches!(r, Request::OpenImage { .. })));
    let generation = state.generation;
    let out = reduce(&mut state, Action::WorkerCrashed { generation, message: "unreachable".into() });
    assert!(matches!(out[0], Command::SpawnWorker { .. }));
    assert_eq!(
        state.error.as_deref(),
        Some(
            "cat.jpg stopped the worker while it was being decoded (unreachable): a damaged file? Choose another image."
        )
    );
    assert!(state.image.is_none() && state.view.image.is_none());
    let start = id_of(&out, |r| matches!(r, Request::Start { .. }));
    let out = reply(&mut state, start, Response::Started { backend: Backend::Cpu });
    assert!(!sent(&out).iter().any(|(_, r)| matches!(r, Request::OpenImage { .. })), "the new worker is spared it");
}

#[test]
fn a_crashed_worker_is_restarted_with_a_message() {
    // Crashed after the image was opened (an analysis ran out of memory): the image is kept.
    let (mut state, _) = ready();
    let generation = state.generation;
    let out = reduce(&mut state, Action::WorkerCrashed { generation, message: "out of memory".into() });
    assert_eq!(out[0], Command::SpawnWorker { generation: generation + 1, backend: Backend::Cpu });
    assert!(state.error.as_deref().is_some_and(|e| e.starts_with("The analysis stopped: out of memory.")));
    assert!(state.image.is_some());
    // The dead worker's last words are not heard.
    assert!(reduce(&mut state, Action::WorkerCrashed { generation, message: "again".into() }).is_empty());
}

#[test]
fn cancel_restarts_the_worker_and_waits_for_the_user() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::Cancel);
    assert_eq!(state.status, "Cancelled. Choose an image or change a setting to run again.");
    assert_eq!(out[0], Command::SpawnWorker { generation: 2, backend: Backend::Cpu });
    assert!(!state.busy());
    let start = id_of(&out, |r| matches!(r, Request::Start { .. }));
    let out = reply(&mut state, start, Response::Started { backend: Backend::Cpu });
    let cl = id_of(&out, |r| matches!(r, Request::LoadModel { id, .. } if id == "cl"));
    let mim = id_of(&out, |r| matches!(r, Request::LoadModel { id, .. } if id == "mim"));
    let open = id_of(&out, |r| matches!(r, Request::OpenImage { .. }));
    assert!(reply(&mut state, cl, Response::ModelLoaded(Box::new(info("cl", Family::Contrastive)))).is_empty());
    assert!(reply(&mut state, open, Response::ImageOpened { width: 4, height: 3 }).is_empty());
    assert!(
        reply(&mut state, mim, Response::ModelLoaded(Box::new(info("mim", Family::MaskedImageModeling)))).is_empty()
    );
    assert!(state.status.starts_with("Loaded"), "{}", state.status);
    // The user acts: the image runs again.
    let out = reduce(&mut state, Action::ChooseModel { slot: 1, id: "cl".into() });
    assert!(sent(&out).iter().any(|(_, r)| matches!(r, Request::Analyze { .. })));
}

#[test]
fn a_new_image_supersedes_the_run_of_the_previous_one() {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { .. }));
    let dog = ImageInput::file("dog.png".into(), Rc::new(vec![9]), None);
    let out = reduce(&mut state, Action::ImageRead { choice: 2, result: Ok(dog) });
    assert!(matches!(&sent(&out)[..], [(_, Request::OpenImage { bytes })] if bytes == &[9]));
    assert_eq!(state.view.image, None, "a user's own image stays out of the URL");
    reply(&mut state, run, Response::Analyzed { models: vec![analysed("cl")], filter: None, millis: 1.0 });
    assert_eq!(state.analysis, None, "the cat's result is not shown as the dog's");
}

#[test]
fn reads_that_finish_out_of_order_leave_the_last_image_chosen() {
    let (mut state, _) = ready();
    let named = |name: &str, byte: u8| ImageInput::file(name.into(), Rc::new(vec![byte]), None);
    // Chosen 2 (a large file, read slowly), 3 (small), then 4 (too large: refused before reading).
    let out = reduce(&mut state, Action::ImageRead { choice: 3, result: Ok(named("small.png", 3)) });
    assert!(matches!(&sent(&out)[..], [(_, Request::OpenImage { bytes })] if bytes == &[3]));
    let out = reduce(&mut state, Action::ImageRead { choice: 2, result: Ok(named("large.png", 2)) });
    assert!(out.is_empty(), "an image chosen before the one shown is dropped: {out:?}");
    assert_eq!(state.image.as_ref().unwrap().name, "small.png");
    assert_eq!(state.status, "Opened small.png (0 KB).");
    reduce(&mut state, Action::ImageRead { choice: 4, result: Err("huge.png: too large".into()) });
    assert_eq!(state.status, "Error: huge.png: too large");
    // The refused file loses nothing: the image shown stays, and an older read still cannot replace it.
    let out = reduce(&mut state, Action::ImageRead { choice: 2, result: Ok(named("large.png", 2)) });
    assert!(out.is_empty());
    assert_eq!(state.image.as_ref().unwrap().name, "small.png");
}

#[test]
fn an_image_the_worker_refuses_is_named_and_nothing_runs_until_the_next() {
    let (mut state, _) = ready();
    let out = reduce(&mut state, Action::ImageRead { choice: 2, result: Ok(image()) });
    let open = id_of(&out, |r| matches!(r, Request::OpenImage { .. }));
    reply(&mut state, open, Response::Failed(WorkerError::Image("the image could not be decoded".into())));
    assert_eq!(state.status, "Error: cat.jpg: the image could not be decoded");
    assert!(state.image.is_none() && state.analysis.is_none());
    // The worker still holds the previous image: a model switch must not run it under no name.
    let out = reduce(&mut state, Action::ChooseModel { slot: 1, id: "cl".into() });
    assert!(!sent(&out).iter().any(|(_, r)| matches!(r, Request::Analyze { .. })), "{out:?}");
}

#[test]
fn the_arithmetic_switch_tells_the_worker_and_runs_the_image_again() {
    let (mut state, out) = ready();
    let first = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    reply(
        &mut state,
        first,
        Response::Analyzed { models: vec![analysed("cl"), analysed("mim")], filter: None, millis: 9.0 },
    );
    let out = reduce(&mut state, Action::SetArithmetic(Arithmetic::Int8));
    let requests: Vec<Request> = sent(&out).into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        requests,
        [
            Request::SetArithmetic { arithmetic: Arithmetic::Int8 },
            Request::Analyze { models: vec!["cl".into(), "mim".into()], filter: None, layer: 5 }
        ]
    );
    assert!(state.analysis.is_some(), "the f32 run stays shown until the integer one replaces it");
    assert_eq!(state.view.arithmetic, Arithmetic::Int8);
    assert!(sent(&reduce(&mut state, Action::SetArithmetic(Arithmetic::Int8))).is_empty(), "no change, no rerun");
}

#[test]
fn a_link_with_int8_arithmetic_sets_it_before_any_model_loads() {
    let (_, out) = started("backend=cpu&arith=int8");
    let requests: Vec<Request> = sent(&out).into_iter().map(|(_, r)| r).collect();
    let set = requests.iter().position(|r| matches!(r, Request::SetArithmetic { arithmetic: Arithmetic::Int8 }));
    let load = requests.iter().position(|r| matches!(r, Request::LoadModel { .. }));
    assert!(set.is_some() && set < load, "{requests:?}");
    // The default sends nothing: a worker starts in f32.
    let (_, out) = started("backend=cpu");
    assert!(!sent(&out).iter().any(|(_, r)| matches!(r, Request::SetArithmetic { .. })));
}

/// `analysed(id)` as the worker first sends it now: the maps alone, the derived part apart.
fn maps_and_derived(id: &str) -> (ModelAnalysis, (String, Derived)) {
    let (mut first, _) = first_and_representation(id);
    let mut derived = first.snapshot.derived.take().expect("the fixture is complete");
    derived.millis = 1.5;
    (first, (id.to_string(), derived))
}

#[test]
fn the_maps_are_drawn_first_and_the_other_views_wait_for_the_metrics() {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    let ((cl, cl_derived), (mim, mim_derived)) = (maps_and_derived("cl"), maps_and_derived("mim"));
    reply(&mut state, run, Response::Analyzed { models: vec![cl, mim], filter: None, millis: 6.2 });
    // The attention view (the default) draws from the maps alone.
    assert_eq!(state.status, "Drawn: cat.jpg in 6 ms; computing the metrics, PCA colours and spectra…");
    let maps = state.analysis.clone().unwrap();
    assert!(!maps.is_derived() && !maps.is_shown() && maps.draws(&state.view) && state.busy());
    assert_eq!(maps.models[0].metrics(), None);
    assert_eq!(crate::figures::charts::metric_rows(vitscope_protocol::Metric::Nmi, &maps).len(), 0);
    // Its rollout map, and every other view, wait for the derived part.
    let rollout = ViewState { map: MapKind::Rollout, ..state.view.clone() };
    let metrics = ViewState { view: View::Metrics, ..state.view.clone() };
    assert!(!maps.draws(&rollout) && !maps.draws(&metrics));
    // A derived answer for another request changes nothing.
    reply(&mut state, run + 1, Response::Derived { models: vec![cl_derived.clone()], millis: 7.0 });
    assert!(Rc::ptr_eq(state.analysis.as_ref().unwrap(), &maps));
    reply(&mut state, run, Response::Derived { models: vec![cl_derived, mim_derived], millis: 7.8 });
    assert_eq!(state.status, "Drawn: cat.jpg in 8 ms; computing the PCA colours and spectra…");
    let derived = state.analysis.clone().unwrap();
    assert!(derived.is_derived() && derived.draws(&rollout) && derived.draws(&metrics) && !derived.is_shown());
    assert!(Rc::ptr_eq(&derived.models[0].snapshot, &maps.models[0].snapshot), "the maps are shared, not copied");
    assert_eq!(derived.models[1].metrics(), Some(&LayerMetrics::default()));
    assert_eq!(derived.models[0].timing, Timing { forward_ms: 3.0, first_ms: 5.0, total_ms: 6.5 });
    assert!(state.busy());
}

/// `maps_and_derived(id)` for a model of two layers, as the worker sends it: the first answer holds
/// the maps of the layer on screen alone (`layer`), the derived part every layer's; and those.
fn one_layer_first(id: &str, layer: usize) -> (ModelAnalysis, (String, Derived), Vec<f32>) {
    let (mut first, (id, mut derived)) = maps_and_derived(id);
    let s = &mut first.snapshot;
    s.depth = 2;
    s.attention = (0..2 * 25).map(|i| (i % 7) as f32 / 7.0).collect();
    s.token_norms = vec![1.0; 3 * 5];
    let every = s.keep_one_layer(layer);
    derived.attention = every.clone();
    (first, (id, derived), every)
}

#[test]
fn the_layer_on_screen_is_drawn_first_and_the_others_come_with_the_metrics() {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    // The default view shows layer 6, which these two-layer models show as their last.
    let (cl, cl_derived, every) = one_layer_first("cl", state.view.layer);
    let (mim, mim_derived, _) = one_layer_first("mim", state.view.layer);
    assert_eq!(cl.snapshot.attention_layer, Some(1));
    reply(&mut state, run, Response::Analyzed { models: vec![cl, mim], filter: None, millis: 6.2 });
    assert!(state.status.starts_with("Drawn: cat.jpg in 6 ms"), "{}", state.status);
    let maps = state.analysis.clone().unwrap();
    let shown = state.view.clone();
    let layer = |l: usize| ViewState { layer: l, ..shown.clone() };
    assert!(maps.draws(&layer(1)) && maps.draws(&layer(7)) && !maps.draws(&layer(0)));
    // A layer not in yet is flat zero until it is (as the rollout).
    assert_eq!(maps.models[0].snapshot.attention_map(0, None, 0), vec![0.0; 4]);
    reply(&mut state, run, Response::Derived { models: vec![cl_derived, mim_derived], millis: 7.8 });
    let derived = state.analysis.clone().unwrap();
    assert!(derived.draws(&layer(0)) && derived.draws(&layer(1)));
    let snapshot = &derived.models[0].snapshot;
    assert_eq!((snapshot.attention_layer, &snapshot.attention), (None, &every));
    // Layer 0, head 0, the CLS row: 1/7 … 4/7 over the patches, renormalised.
    let row = snapshot.attention_map(0, Some(0), 0);
    assert!(row.iter().zip([0.1, 0.2, 0.3, 0.4]).all(|(a, b)| (a - b).abs() < 1e-6), "{row:?}");
    assert_eq!(snapshot.attention_map(1, Some(0), 0), maps.models[0].snapshot.attention_map(1, Some(0), 0));
}

#[test]
fn with_another_view_open_the_maps_alone_are_not_called_drawn() {
    let (mut state, out) = ready();
    reduce(&mut state, Action::SetView(View::Metrics));
    let run = id_of(&out, |r| matches!(r, Request::Analyze { filter: None, .. }));
    let (cl, cl_derived) = maps_and_derived("cl");
    let (mim, mim_derived) = maps_and_derived("mim");
    reply(&mut state, run, Response::Analyzed { models: vec![cl, mim], filter: None, millis: 6.2 });
    assert_eq!(state.status, "Analysing cat.jpg: its attention maps in 6 ms; computing the metrics…");
    reply(&mut state, run, Response::Derived { models: vec![cl_derived, mim_derived], millis: 7.8 });
    assert!(state.status.starts_with("Drawn: cat.jpg in 8 ms"), "{}", state.status);
}
