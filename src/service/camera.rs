//! The camera: `getUserMedia`, a video element the page never shows (the views show the analysed
//! frame), and a canvas that turns the video's newest picture into RGBA when the store asks for a
//! frame. Frames go to the worker by `postMessage`, as a dropped image does; none leaves the page.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::events::EventListener;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream, MediaStreamConstraints};
use yew::Callback;

use super::dom::{create, window};
use crate::store::Action;

/// Frames are scaled down to this longest side: every model crops and resizes to at most a few
/// hundred pixels, and a smaller frame crosses to the worker faster.
const MAX_FRAME_SIDE: u32 = 640;
/// How long a started camera may take to show its first picture.
const FIRST_PICTURE_MS: u32 = 5_000;

struct Live {
    stream: MediaStream,
    video: HtmlVideoElement,
    canvas: HtmlCanvasElement,
    _ended: Vec<EventListener>,
}

thread_local! {
    static CAMERA: RefCell<Option<Live>> = const { RefCell::new(None) };
    /// Counts starts and stops: a camera the browser gives after a later start or a stop (the user
    /// pressed Stop while the browser was asking) is let go at once, and nobody hears of it.
    static ASKED: Cell<u64> = const { Cell::new(0) };
}

/// Asks the browser for a camera (the back one on a phone); answers with [`Action::CameraStarted`].
pub fn start(dispatch: Callback<Action>) {
    stop();
    let asked = ASKED.with(|a| a.get());
    spawn_local(async move {
        let result = open(&dispatch, asked).await;
        // A later start or a stop has taken over: `open` kept nothing, and nobody waits for this.
        if ASKED.with(|a| a.get()) == asked {
            dispatch.emit(Action::CameraStarted(result));
        }
    });
}

async fn open(dispatch: &Callback<Action>, asked: u64) -> Result<String, String> {
    let window = window().ok_or("the camera needs a browser window")?;
    let navigator = window.navigator();
    // Absent outside a secure context (http on another host) and in some embedded browsers.
    if Reflect::get(&navigator, &"mediaDevices".into()).map_or(true, |d| d.is_undefined()) {
        return Err(
            "This browser offers no camera to this page: cameras work on https:// pages and on localhost.".into()
        );
    }
    let devices = navigator.media_devices().map_err(|e| camera_error(&e))?;
    let video =
        js_sys::JSON::parse(r#"{"facingMode":{"ideal":"environment"},"width":{"ideal":640},"height":{"ideal":480}}"#)
            .expect("constant JSON");
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::FALSE);
    constraints.set_video(&video);
    let request = devices.get_user_media_with_constraints(&constraints).map_err(|e| camera_error(&e))?;
    let stream: MediaStream = JsFuture::from(request).await.map_err(|e| camera_error(&e))?.unchecked_into();
    match attach(&stream, dispatch).await {
        Ok((video, canvas, ended, label)) if ASKED.with(|a| a.get()) == asked => {
            let live = Live { stream, video, canvas, _ended: ended };
            release(CAMERA.with(|c| c.borrow_mut().replace(live)));
            Ok(label)
        }
        Ok(_) => {
            stop_tracks(&stream);
            Err("superseded".into())
        }
        Err(why) => {
            stop_tracks(&stream);
            Err(why)
        }
    }
}

type Attached = (HtmlVideoElement, HtmlCanvasElement, Vec<EventListener>, String);

/// The stream playing in a video element the page never shows, with its label and end listeners.
async fn attach(stream: &MediaStream, dispatch: &Callback<Action>) -> Result<Attached, String> {
    let tracks = stream.get_video_tracks();
    let label = tracks.get(0).dyn_into::<web_sys::MediaStreamTrack>().map(|t| t.label()).unwrap_or_default();
    let video: HtmlVideoElement = create("video")?;
    video.set_muted(true);
    // iOS Safari plays a stream inline only when asked to.
    let _ = video.set_attribute("playsinline", "");
    video.set_src_object(Some(stream));
    if let Ok(playing) = video.play() {
        JsFuture::from(playing).await.map_err(|e| camera_error(&e))?;
    }
    let ended = tracks
        .iter()
        .filter_map(|t| t.dyn_into::<web_sys::MediaStreamTrack>().ok())
        .map(|track| {
            let dispatch = dispatch.clone();
            EventListener::new(&track, "ended", move |_| {
                dispatch.emit(Action::CameraFailed(
                    "The camera stopped giving pictures (unplugged, switched off, or taken by another app).".into(),
                ))
            })
        })
        .collect();
    let canvas: HtmlCanvasElement = create("canvas")?;
    Ok((video, canvas, ended, if label.is_empty() { "camera".into() } else { label }))
}

/// What the browser's refusal means for the reader.
fn camera_error(e: &JsValue) -> String {
    let field = |key: &str| Reflect::get(e, &key.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    match field("name").as_str() {
        "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => {
            "The camera was not allowed: allow it for this page in the browser's site settings, then press Use the camera again.".into()
        }
        "NotFoundError" | "DevicesNotFoundError" | "OverconstrainedError" => {
            "No camera was found: connect one, or drop an image instead.".into()
        }
        "NotReadableError" | "TrackStartError" | "AbortError" => {
            "The camera could not be opened: another app may be using it.".into()
        }
        name => format!("The camera could not be opened ({name}: {}).", field("message")),
    }
}

/// Takes the video's newest picture and answers with [`Action::FrameTaken`]; right after the start
/// the video may have none yet, so it looks again until one comes.
pub fn grab(dispatch: Callback<Action>) {
    spawn_local(async move {
        let mut waited = 0;
        loop {
            match take() {
                Taken::Frame(width, height, rgba) => {
                    let at_ms = window().and_then(|w| w.performance()).map_or(0.0, |p| p.now());
                    return dispatch.emit(Action::FrameTaken { width, height, rgba: Rc::new(rgba), at_ms });
                }
                Taken::Stopped => return,
                Taken::Failed(why) => return dispatch.emit(Action::CameraFailed(why)),
                Taken::NotYet if waited >= FIRST_PICTURE_MS => {
                    return dispatch.emit(Action::CameraFailed(format!(
                        "The camera gave no picture within {} s.",
                        FIRST_PICTURE_MS / 1000
                    )));
                }
                Taken::NotYet => {
                    gloo::timers::future::TimeoutFuture::new(50).await;
                    waited += 50;
                }
            }
        }
    });
}

enum Taken {
    Frame(u32, u32, Vec<u8>),
    NotYet,
    Stopped,
    Failed(String),
}

fn take() -> Taken {
    CAMERA.with(|c| {
        let camera = c.borrow();
        let Some(Live { video, canvas, .. }) = camera.as_ref() else { return Taken::Stopped };
        let (w, h) = (video.video_width(), video.video_height());
        // HAVE_CURRENT_DATA: a picture to draw.
        if video.ready_state() < 2 || w == 0 || h == 0 {
            return Taken::NotYet;
        }
        let scale = (MAX_FRAME_SIDE as f64 / w.max(h) as f64).min(1.0);
        let (width, height) = (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1));
        canvas.set_width(width);
        canvas.set_height(height);
        let drawn = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            .ok_or_else(|| "the page could not draw the camera's picture".to_string())
            .and_then(|context| {
                context
                    .draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, width as f64, height as f64)
                    .and_then(|()| context.get_image_data(0.0, 0.0, width as f64, height as f64))
                    .map_err(|e| format!("the camera's picture could not be read ({e:?})"))
            });
        match drawn {
            Ok(pixels) => Taken::Frame(width, height, pixels.data().0),
            Err(why) => Taken::Failed(why),
        }
    })
}

/// Lets the camera go: its tracks stop, so the browser's camera light goes off; a camera still being
/// asked for is let go when it comes.
pub fn stop() {
    ASKED.with(|a| a.set(a.get() + 1));
    release(CAMERA.with(|c| c.borrow_mut().take()));
}

fn release(live: Option<Live>) {
    if let Some(live) = live {
        stop_tracks(&live.stream);
        live.video.set_src_object(None);
    }
}

fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}
