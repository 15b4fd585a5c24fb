//! The live camera: frames are asked for only when the worker is free, the newest one runs, the
//! analysis shown stays until the next replaces it, and the camera lets go when anything else is chosen.

use std::rc::Rc;

use vitscope_protocol::messages::{Request, Response, WorkerError};

use super::*;

fn grabs(out: &[Command]) -> usize {
    out.iter().filter(|c| matches!(c, Command::GrabFrame)).count()
}

/// `ready()`'s page with the photo's analysis answered.
fn photo_shown() -> State {
    let (mut state, out) = ready();
    let run = id_of(&out, |r| matches!(r, Request::Analyze { .. }));
    reply(
        &mut state,
        run,
        Response::Analyzed { models: vec![analysed("cl"), analysed("mim")], filter: None, millis: 1.0 },
    );
    state
}

/// `photo_shown()` with the camera on.
fn live() -> State {
    let mut state = photo_shown();
    let out = reduce(&mut state, Action::StartCamera { choice: 2 });
    assert_eq!(out, [Command::StartCamera]);
    assert_eq!(state.status, "Asking for the camera…");
    let out = reduce(&mut state, Action::CameraStarted(Ok("Front camera".into())));
    assert_eq!(grabs(&out), 1, "the worker is free: the first frame is asked for at once");
    state
}

/// A frame taken at `at_ms`, opened and analysed.
fn run_frame(state: &mut State, at_ms: f64) {
    let out = frame(state, at_ms);
    let open = id_of(&out, |r| matches!(r, Request::OpenFrame { .. }));
    let out = reply(state, open, Response::ImageOpened { width: 16, height: 3 });
    let run = id_of(&out, |r| matches!(r, Request::Analyze { .. }));
    reply(state, run, Response::Analyzed { models: vec![analysed("cl"), analysed("mim")], filter: None, millis: 1.0 });
}

fn frame(state: &mut State, at_ms: f64) -> Vec<Command> {
    let rgba = Rc::new(vec![7; 4 * 4 * 3 * 4]);
    reduce(state, Action::FrameTaken { width: 4 * 4, height: 3, rgba, at_ms })
}

#[test]
fn each_frame_is_asked_for_when_the_one_before_has_been_analysed() {
    let mut state = live();
    let shown = state.analysis.clone().expect("the photo's analysis");
    let out = frame(&mut state, 1000.0);
    let open = match &sent(&out)[..] {
        [(id, Request::OpenFrame { width: 16, height: 3, rgba })] if rgba.len() == 16 * 3 * 4 => *id,
        other => panic!("{other:?}"),
    };
    assert_eq!(grabs(&out), 0, "no second frame while this one runs");
    assert_eq!(state.view.image, None, "a frame is not a gallery photo: the link drops it");
    let out = reply(&mut state, open, Response::ImageOpened { width: 16, height: 3 });
    let run = id_of(&out, |r| matches!(r, Request::Analyze { .. }));
    assert_eq!(grabs(&out), 0);
    assert!(
        state.analysis.as_ref().is_some_and(|a| Rc::ptr_eq(a, &shown)),
        "the last analysis stays until the frame's is in"
    );
    let out = reply(
        &mut state,
        run,
        Response::Analyzed { models: vec![analysed("cl"), analysed("mim")], filter: None, millis: 1.0 },
    );
    assert_eq!(grabs(&out), 1, "done: the next frame");
    assert_eq!(state.analysis.as_ref().unwrap().image, "camera frame 1");
    assert_eq!(state.camera.as_ref().unwrap().analysed, Some(1));
    // The status (read out by screen readers) does not change with every frame, and Cancel stays.
    assert_eq!(state.status, "Camera on (Front camera): each frame is analysed as soon as the one before is done.");
    assert!(state.busy());
    // A notice in between (a model loaded, an error) gives way to it at the next frame.
    state.status = "Loaded something.".into();
    run_frame(&mut state, 1200.0);
    assert!(state.status.starts_with("Camera on (Front camera)"), "{}", state.status);
    assert_eq!(state.camera.as_ref().unwrap().analysed, Some(2));
    // A frame answered while none was asked for (the camera stopped meanwhile) is dropped.
    reduce(&mut state, Action::StopCamera);
    assert!(sent(&frame(&mut state, 1100.0)).is_empty());
}

#[test]
fn the_rate_is_frames_a_second_over_the_latest_ten() {
    let mut state = live();
    let mut times = Vec::new();
    for i in 0..14 {
        // Analyses take 250 ms, then 500 ms.
        let at = if i < 8 { i as f64 * 250.0 } else { 1750.0 + (i - 7) as f64 * 500.0 };
        times.push(at);
        run_frame(&mut state, at);
        let camera = state.camera.as_ref().unwrap();
        assert_eq!(camera.frames, i + 1);
        if i == 0 {
            assert_eq!(camera.rate(), None);
        }
        if i == 3 {
            assert_eq!(camera.rate(), Some(4.0));
        }
    }
    // The latest ten frames span 3 × 250 + 6 × 500 ms: 9 intervals in 3.75 s.
    assert_eq!(times[13] - times[4], 3750.0);
    assert_eq!(state.camera.as_ref().unwrap().rate(), Some(2.4));
}

#[test]
fn nothing_is_asked_for_while_the_models_load_or_the_worker_restarts() {
    let (mut state, _) = started("backend=cpu");
    reduce(&mut state, Action::StartCamera { choice: 2 });
    let out = reduce(&mut state, Action::CameraStarted(Ok("cam".into())));
    assert_eq!(grabs(&out), 0, "the models are still loading");
    let mut state = live();
    let out = frame(&mut state, 0.0);
    assert_eq!(grabs(&out), 0);
    // The worker dies mid-frame: the fresh one reopens that frame, and frames resume once it has run.
    let generation = state.generation;
    let out = reduce(&mut state, Action::WorkerCrashed { generation, message: "OOM".into() });
    assert_eq!(grabs(&out), 0);
    let start = id_of(&out, |r| matches!(r, Request::Start { .. }));
    let out = reply(&mut state, start, Response::Started { backend: vitscope_protocol::messages::Backend::Cpu });
    assert!(sent(&out).iter().any(|(_, r)| matches!(r, Request::OpenFrame { .. })), "{out:?}");
    assert_eq!(grabs(&out), 0);
}

#[test]
fn another_image_a_set_or_cancel_lets_the_camera_go() {
    let mut state = live();
    let out = reduce(&mut state, Action::ImageRead { choice: 5, result: Ok(image()) });
    assert!(out.contains(&Command::StopCamera) && state.camera.is_none());
    assert_eq!(grabs(&out), 0);

    // An image chosen before the camera started (a slow gallery fetch) and read after it is dropped.
    let mut state = live();
    let out = reduce(&mut state, Action::ImageRead { choice: 1, result: Ok(image()) });
    assert!(out.is_empty() && state.camera.is_some(), "{out:?}");

    let mut state = live();
    let out = reduce(&mut state, Action::MeasureSet { source: SetSource::Gallery, names: vec!["a.jpg".into()] });
    assert!(out.contains(&Command::StopCamera) && state.camera.is_none());

    let mut state = live();
    let out = reduce(&mut state, Action::Cancel);
    assert!(out.contains(&Command::StopCamera) && state.camera.is_none());

    // Starting the camera stops a set being measured; what it measured stays.
    let mut state = photo_shown();
    reduce(&mut state, Action::MeasureSet { source: SetSource::Gallery, names: vec!["a.jpg".into(), "b.jpg".into()] });
    reduce(&mut state, Action::StartCamera { choice: 2 });
    let set = state.dataset.as_ref().unwrap();
    assert_eq!(set.progress, crate::store::dataset::SetProgress::Stopped("the camera started".into()));
}

#[test]
fn a_refused_or_lost_camera_is_said_and_nothing_more_is_asked() {
    let (mut state, _) = ready();
    reduce(&mut state, Action::StartCamera { choice: 2 });
    let why = "The camera was not allowed: allow it for this page in the browser's site settings, then press Use the camera again.";
    let out = reduce(&mut state, Action::CameraStarted(Err(why.into())));
    assert_eq!(state.error.as_deref(), Some(why));
    assert!(state.camera.is_none() && out == [Command::StopCamera]);

    let mut state = live();
    let out = reduce(&mut state, Action::CameraFailed("The camera stopped giving pictures.".into()));
    assert!(state.camera.is_none() && out == [Command::StopCamera]);
    assert_eq!(state.error.as_deref(), Some("The camera stopped giving pictures."));
    // The user pressed Stop while the browser was still asking: the camera it then gives is let go.
    let (mut state, _) = ready();
    reduce(&mut state, Action::StartCamera { choice: 2 });
    reduce(&mut state, Action::StopCamera);
    assert_eq!(reduce(&mut state, Action::CameraStarted(Ok("cam".into()))), [Command::StopCamera]);
    assert!(state.camera.is_none());
}

#[test]
fn a_frame_the_worker_refuses_is_skipped_for_the_next() {
    let mut state = live();
    let out = frame(&mut state, 0.0);
    let open = id_of(&out, |r| matches!(r, Request::OpenFrame { .. }));
    let out =
        reply(&mut state, open, Response::Failed(WorkerError::Image("a 16×3 frame has 192 RGBA bytes, not 4".into())));
    assert_eq!(grabs(&out), 1);
    assert!(state.camera.is_some());
}

#[test]
fn a_page_out_of_sight_lets_the_camera_go_and_says_how_to_go_on() {
    let mut state = live();
    run_frame(&mut state, 100.0);
    let out = reduce(&mut state, Action::PageHidden);
    assert!(state.camera.is_none() && out == [Command::StopCamera], "{out:?}");
    assert_eq!(state.status, "Camera off while the page was out of sight. Press Use the camera to go on.");
    assert_eq!(state.notices, [state.status.clone()]);
    // Out of sight again after a restart: the notice is not repeated.
    reduce(&mut state, Action::StartCamera { choice: 3 });
    reduce(&mut state, Action::CameraStarted(Ok("Front camera".into())));
    reduce(&mut state, Action::PageHidden);
    assert_eq!(state.notices.len(), 1);
    assert_eq!(state.error, None);
    assert_eq!(state.analysis.as_ref().unwrap().image, "camera frame 1", "the last frame stays shown");
    // Without a camera, going out of sight changes nothing.
    let (mut state, _) = ready();
    let status = state.status.clone();
    assert!(reduce(&mut state, Action::PageHidden).is_empty());
    assert_eq!(state.status, status);
}
