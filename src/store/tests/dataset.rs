//! Measuring a set of images: one at a time through the worker, numbers kept, pixels not.

use std::rc::Rc;

use vitscope_protocol::LayerMetrics;
use vitscope_protocol::messages::{Measurement, Measures, Request, Response, WorkerError};
use vitscope_protocol::probe::{PooledFeatures, ProbeCurves};

use super::*;
use crate::store::dataset::SetProgress;
use crate::store::reducer::reduce;
use vitscope_protocol::labels::Labels;

fn layer_metrics(similarity: f32) -> LayerMetrics {
    LayerMetrics { token_similarity: vec![similarity, similarity / 2.0], ..Default::default() }
}

fn metrics(similarity: f32) -> Measurement {
    Measurement::Metrics(layer_metrics(similarity))
}

/// The image index asked for, if the commands ask for one.
fn read_asked(out: &[Command]) -> Option<usize> {
    out.iter().find_map(|c| match c {
        Command::ReadSetImage { index, .. } => Some(*index),
        _ => None,
    })
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{i}.jpg")).collect()
}

#[test]
fn a_set_is_measured_one_image_at_a_time_and_bad_images_are_skipped_with_their_reason() {
    let (mut state, _) = ready();
    assert_eq!(state.view.view, View::Attention);
    let out = reduce(&mut state, Action::MeasureSet { source: SetSource::Gallery, names: names(3) });
    assert_eq!(state.view.view, View::Metrics, "its progress shows under the metrics view");
    assert_eq!(out, [Command::ReadSetImage { source: SetSource::Gallery, index: 0, name: "0.jpg".into() }]);

    let out = reduce(&mut state, Action::SetImageRead { index: 0, result: Ok(Rc::new(vec![7])) });
    let measure = id_of(
        &out,
        |r| matches!(r, Request::Measure { bytes, models, measures: Measures::Metrics } if bytes == &[7] && models == &["cl", "mim"]),
    );
    let measured = vec![("cl".to_string(), metrics(0.4)), ("mim".to_string(), metrics(0.8))];
    let out = reply(&mut state, measure, Response::Measured { models: measured, millis: 30.0 });
    assert_eq!(read_asked(&out), Some(1));

    // A file that cannot be read, and an image the worker refuses: skipped, the set goes on.
    let out = reduce(&mut state, Action::SetImageRead { index: 1, result: Err("1.jpg: unreadable".into()) });
    assert_eq!(read_asked(&out), Some(2));
    let out = reduce(&mut state, Action::SetImageRead { index: 2, result: Ok(Rc::new(vec![8])) });
    let measure = id_of(&out, |r| matches!(r, Request::Measure { .. }));
    let out = reply(&mut state, measure, Response::Failed(WorkerError::Image("damaged".into())));
    assert!(read_asked(&out).is_none());

    let set = state.dataset.clone().unwrap();
    assert_eq!(set.progress, SetProgress::Done);
    assert_eq!(set.measured, ["0.jpg"]);
    assert_eq!(set.skipped, [("1.jpg".into(), "1.jpg: unreadable".into()), ("2.jpg".into(), "damaged".into())]);
    assert_eq!((set.seen(), set.millis), (3, 30.0));
    assert_eq!(set.seconds_left(), Some(0.0));
    let mim = &set.models[1];
    assert_eq!(set.mean(mim).token_similarity, [0.8, 0.4]);
    assert_eq!(set.quartiles(mim)["token_similarity"].median, [0.8, 0.4]);
    // The image shown and its analysis were not touched.
    assert_eq!(state.image.as_ref().unwrap().name, "cat.jpg");
}

#[test]
fn stopping_or_a_restarted_worker_keeps_what_was_measured() {
    let (mut state, _) = ready();
    reduce(&mut state, Action::MeasureSet { source: SetSource::Dropped, names: names(5) });
    let out = reduce(&mut state, Action::SetImageRead { index: 0, result: Ok(Rc::new(vec![1])) });
    let first = id_of(&out, |r| matches!(r, Request::Measure { .. }));
    reply(&mut state, first, Response::Measured { models: vec![("cl".into(), metrics(0.5))], millis: 5.0 });
    let out = reduce(&mut state, Action::SetImageRead { index: 1, result: Ok(Rc::new(vec![2])) });
    let second = id_of(&out, |r| matches!(r, Request::Measure { .. }));
    assert_eq!(state.dataset.as_ref().unwrap().seconds_left(), Some(0.02), "4 more at 5 ms each");
    reduce(&mut state, Action::StopSet);
    // The answer to the request in flight is not counted, and nothing more is read.
    let out = reply(&mut state, second, Response::Measured { models: vec![("cl".into(), metrics(0.9))], millis: 5.0 });
    assert!(out.is_empty(), "{out:?}");
    let set = state.dataset.clone().unwrap();
    assert_eq!((set.progress.clone(), set.measured.len()), (SetProgress::Stopped("stopped".into()), 1));
    assert_eq!(set.metrics["cl"], [Rc::new(layer_metrics(0.5))]);

    // A new set; then Cancel restarts the worker, which stops it.
    reduce(&mut state, Action::MeasureSet { source: SetSource::Gallery, names: names(2) });
    reduce(&mut state, Action::SetImageRead { index: 0, result: Ok(Rc::new(vec![1])) });
    reduce(&mut state, Action::Cancel);
    assert_eq!(state.dataset.as_ref().unwrap().progress, SetProgress::Stopped("the worker restarted".into()));
}

#[test]
fn a_set_waits_for_the_models() {
    let (mut state, _) = started("backend=cpu");
    let out = reduce(&mut state, Action::MeasureSet { source: SetSource::Gallery, names: names(2) });
    assert!(out.is_empty() && state.dataset.is_none());
    assert!(state.notices.iter().any(|n| n.contains("still loading")), "{:?}", state.notices);
}

#[test]
fn a_sets_exports_hold_every_images_numbers_and_the_summaries() {
    let (mut state, _) = ready();
    reduce(
        &mut state,
        Action::MeasureSet { source: SetSource::Gallery, names: vec!["a,b.jpg".into(), "c.jpg".into()] },
    );
    for (index, similarity) in [(0, 0.2), (1, 0.6)] {
        let out = reduce(&mut state, Action::SetImageRead { index, result: Ok(Rc::new(vec![1])) });
        let id = id_of(&out, |r| matches!(r, Request::Measure { .. }));
        let models = vec![("cl".to_string(), metrics(similarity)), ("mim".to_string(), metrics(similarity + 0.1))];
        reply(&mut state, id, Response::Measured { models, millis: 1.0 });
    }
    let set = state.dataset.clone().unwrap();
    let csv = crate::figures::exports::set_csv(&set);
    assert!(csv.starts_with("image,model,metric,layer,index,value\n"), "{csv}");
    // A comma in a file name cannot split a row.
    assert!(
        csv.contains("\na_b.jpg,cl,token_similarity,0,,0.2\n")
            && csv.contains("\na_b.jpg,mim,token_similarity,1,,0.15\n"),
        "{csv}"
    );
    let json: serde_json::Value = serde_json::from_str(&crate::figures::exports::set_json(&set).unwrap()).unwrap();
    assert_eq!(json["images"], serde_json::json!(["a,b.jpg", "c.jpg"]));
    let cl = &json["models"][0];
    assert_eq!(cl["per_image"].as_array().unwrap().len(), 2);
    let mean = cl["curves"]["token_similarity"]["mean"][0].as_f64().unwrap();
    assert!((mean - 0.4).abs() < 1e-6, "{mean}");
    assert!((cl["quartiles"]["token_similarity"]["q1"][0].as_f64().unwrap() - 0.3).abs() < 1e-6);
}

fn pooled(x: f32) -> Measurement {
    Measurement::Pooled(PooledFeatures { width: 1, cls: vec![x], avg: vec![x] })
}

/// Measures image `index` of a probe set in the worker (both models give `x`).
fn measure_pooled(state: &mut State, index: usize, x: f32) -> Vec<Command> {
    let out = reduce(state, Action::SetImageRead { index, result: Ok(Rc::new(vec![1])) });
    let id = id_of(&out, |r| matches!(r, Request::Measure { measures: Measures::Pooled, .. }));
    reply(
        state,
        id,
        Response::Measured { models: vec![("cl".into(), pooled(x)), ("mim".into(), pooled(x))], millis: 2.0 },
    )
}

#[test]
fn a_labelled_folder_is_pooled_image_by_image_then_probed_in_the_worker() {
    let (mut state, _) = ready();
    let names: Vec<String> =
        ["cats/1.jpg", "cats/2.jpg", "dogs/a/1.jpg", "loose.jpg", "owls/1.jpg"].map(String::from).to_vec();
    let out = reduce(&mut state, Action::ProbeSet { names, labels: Labels::Subfolders });
    assert_eq!(read_asked(&out), Some(0));
    let set = state.dataset.clone().unwrap();
    assert_eq!((set.kind, set.classes.clone()), (SetKind::Probe, vec!["cats".into(), "dogs".into(), "owls".into()]));

    measure_pooled(&mut state, 0, 1.0);
    measure_pooled(&mut state, 1, 2.0);
    // The image outside a class folder is skipped unread.
    let out = measure_pooled(&mut state, 2, 3.0);
    assert_eq!(read_asked(&out), Some(4));
    assert_eq!(state.dataset.as_ref().unwrap().skipped, [("loose.jpg".into(), "not in a class subfolder".into())]);
    // An image the worker refuses leaves its class (owls) without images.
    let out = reduce(&mut state, Action::SetImageRead { index: 4, result: Ok(Rc::new(vec![1])) });
    let last = id_of(&out, |r| matches!(r, Request::Measure { .. }));
    let out = reply(&mut state, last, Response::Failed(WorkerError::Image("damaged".into())));

    // Done: the features go to the worker with the classes that have images, renumbered.
    let probe = id_of(&out, |r| {
        matches!(r, Request::Probe { classes: 2, labels, models }
            if labels == &[0, 0, 1] && models.len() == 2 && models[0].1.len() == 3 && models[1].1[2].avg == [3.0])
    });
    assert!(matches!(state.dataset.as_ref().unwrap().probe, ProbeState::Running(_)));
    let curves = ProbeCurves { knn_cls: Some(vec![0.5]), knn_avg: vec![1.0], linear_avg: None };
    reply(&mut state, probe, Response::Probed { models: vec![("cl".into(), curves.clone())], millis: 4.0 });
    let set = state.dataset.clone().unwrap();
    let ProbeState::Done(probed) = &set.probe else { panic!("{:?}", set.probe) };
    assert_eq!(probed.classes, [("cats".to_string(), 2), ("dogs".to_string(), 1)]);
    assert_eq!((probed.images, probed.models[0].0.id.as_str()), (3, "cl"));
    assert!((probed.majority() - 2.0 / 3.0).abs() < 1e-12);

    // Its exports are the probe's, as `vitscope probe` reports a folder.
    let csv = crate::figures::exports::probe_csv(probed);
    assert_eq!(csv, "model,probe,layer,accuracy\ncl,knn_cls,1,0.5\ncl,knn_avg,1,1\n");
    let json: serde_json::Value =
        serde_json::from_str(&crate::figures::exports::probe_json(&set, probed).unwrap()).unwrap();
    assert_eq!(json["images"][2], serde_json::json!({"file": "dogs/a/1.jpg", "class": 1}));
    assert_eq!(json["models"][0]["knn_avg"], serde_json::json!([1.0]));
    assert_eq!(json["models"][0]["linear_avg"], serde_json::Value::Null);
    assert_eq!(json["skipped"].as_array().unwrap().len(), 2);
}

#[test]
fn a_probe_needs_two_classes_and_survives_a_worker_that_fails_it() {
    let (mut state, _) = ready();
    let out = reduce(
        &mut state,
        Action::ProbeSet { names: vec!["a.jpg".into(), "cats/1.jpg".into()], labels: Labels::Subfolders },
    );
    assert!(out.is_empty() && state.dataset.is_none());
    assert!(state.notices.iter().any(|n| n.contains("only one")), "{:?}", state.notices);

    reduce(
        &mut state,
        Action::ProbeSet {
            names: vec!["cats/1.jpg".into(), "dogs/1.jpg".into(), "dogs/2.jpg".into()],
            labels: Labels::Subfolders,
        },
    );
    measure_pooled(&mut state, 0, 1.0);
    // Stopped with one class measured: no probe, and why.
    let out = reduce(&mut state, Action::StopSet);
    assert!(!out.iter().any(|c| matches!(c, Command::Send(e) if matches!(e.body, Request::Probe { .. }))));
    assert_eq!(
        state.dataset.as_ref().unwrap().probe,
        ProbeState::Failed("a probe needs measured images of at least two classes".into())
    );

    reduce(
        &mut state,
        Action::ProbeSet { names: vec!["cats/1.jpg".into(), "dogs/1.jpg".into()], labels: Labels::Subfolders },
    );
    measure_pooled(&mut state, 0, 1.0);
    let out = measure_pooled(&mut state, 1, 2.0);
    let probe = id_of(&out, |r| matches!(r, Request::Probe { .. }));
    reply(&mut state, probe, Response::Failed(WorkerError::Malformed("bad".into())));
    assert!(matches!(&state.dataset.as_ref().unwrap().probe, ProbeState::Failed(why) if why.contains("bad")));
    // Probe again sends it again; a restarted worker loses it, and says so.
    let out = reduce(&mut state, Action::ProbeAgain);
    id_of(&out, |r| matches!(r, Request::Probe { .. }));
    reduce(&mut state, Action::Cancel);
    assert_eq!(
        state.dataset.as_ref().unwrap().probe,
        ProbeState::Failed("the worker restarted before the probe finished".into())
    );
}

#[test]
fn a_labels_file_names_the_classes_and_what_it_leaves_out_is_skipped() {
    let (mut state, _) = ready();
    let labels = Labels::from_csv("file,label\n2.jpg,dog\n1.jpg,cat\nsub/3.jpg,dog\n").unwrap();
    let names: Vec<String> = ["1.jpg", "2.jpg", "extra.jpg", "sub/3.jpg"].map(String::from).to_vec();
    reduce(&mut state, Action::ProbeSet { names, labels });
    assert_eq!(state.dataset.as_ref().unwrap().classes, ["cat", "dog"], "in the order the images come");
    measure_pooled(&mut state, 0, 1.0);
    let out = measure_pooled(&mut state, 1, 2.0);
    assert_eq!(read_asked(&out), Some(3), "extra.jpg is not read");
    measure_pooled(&mut state, 3, 3.0);
    let set = state.dataset.as_ref().unwrap();
    assert_eq!(set.skipped, [("extra.jpg".into(), "not listed in labels.csv".into())]);
    assert_eq!(set.measured_labels, [0, 1, 1]);
}
