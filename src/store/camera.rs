//! The live camera, as the store sees it. Frames are pulled, not pushed: the store asks the shell
//! for one ([`Command::GrabFrame`]) only when the worker has nothing to do, and the shell answers
//! with the newest picture the camera has. So the worker runs as fast as its backend allows, a
//! frame never waits behind another, and the views always show the latest frame analysed (the one
//! before stays on screen until the next is ready, so nothing flickers). The status line, which screen
//! readers announce, says only that the camera is on; the frame count and rate are shown beside it.

use std::collections::VecDeque;
use std::rc::Rc;

use super::{Command, ImageBytes, ImageInput, State, WorkerLink};

/// How many recent frames the rate is taken over.
const RATE_WINDOW: usize = 10;

#[derive(Clone, Debug, PartialEq)]
pub struct Camera {
    /// The browser has given the camera (its label), or not yet.
    pub device: Option<String>,
    /// Frames taken since it started.
    pub frames: u64,
    /// The frame whose analysis is shown (counted as `frames`).
    pub analysed: Option<u64>,
    /// When the latest frames were taken (ms, the page's clock).
    taken_at: VecDeque<f64>,
    /// A frame was asked for and has not come yet.
    waiting: bool,
}

impl Camera {
    fn starting() -> Self {
        Self { device: None, frames: 0, analysed: None, taken_at: VecDeque::new(), waiting: false }
    }

    /// What the status line says while the camera is on: the same for every frame, so screen readers
    /// announce it once (and again after something else was said).
    pub fn status(&self) -> String {
        let device = self.device.as_deref().unwrap_or("camera");
        format!("Camera on ({device}): each frame is analysed as soon as the one before is done.")
    }

    /// Frames analysed a second, over the latest few (each frame is taken when the one before has
    /// been analysed, so this is the analysis rate).
    pub fn rate(&self) -> Option<f64> {
        let (first, last) = (self.taken_at.front()?, self.taken_at.back()?);
        (last > first).then(|| (self.taken_at.len() - 1) as f64 * 1000.0 / (last - first))
    }
}

impl State {
    /// `choice` counts with the shell's image choices: an image chosen before the camera and read
    /// after it started is dropped, not shown over the frames.
    pub(super) fn start_camera(&mut self, choice: u64, out: &mut Vec<Command>) {
        if self.camera.is_some() {
            return;
        }
        self.chosen = self.chosen.max(choice);
        // One thing at a time in the worker: a set being measured stops, keeping what it has.
        if self.set_running() {
            self.stop_set("the camera started");
            self.request_probe(out);
        }
        self.paused = false;
        self.camera = Some(Camera::starting());
        self.status = "Asking for the camera…".into();
        out.push(Command::StartCamera);
    }

    pub(super) fn camera_started(&mut self, label: String, out: &mut Vec<Command>) {
        match &mut self.camera {
            Some(camera) if camera.device.is_none() => {
                camera.device = Some(label);
                self.status = camera.status();
                self.error = None;
            }
            // Stopped while the browser was asking the user.
            _ => out.push(Command::StopCamera),
        }
    }

    /// The camera stops; the last frame analysed stays shown (a restarted worker reopens the last
    /// frame taken).
    pub(super) fn stop_camera(&mut self, out: &mut Vec<Command>) {
        if self.camera.take().is_some() {
            out.push(Command::StopCamera);
        }
    }

    /// The status line moves on when a frame still in the worker is done, so the reason stays as a
    /// notice too.
    pub(super) fn camera_hidden(&mut self, out: &mut Vec<Command>) {
        if self.camera.is_some() {
            self.stop_camera(out);
            let why = "Camera off while the page was out of sight. Press Use the camera to go on.";
            self.status = why.into();
            self.notice_once(why.into());
        }
    }

    pub(super) fn camera_failed(&mut self, message: String, out: &mut Vec<Command>) {
        if self.camera.is_some() {
            self.stop_camera(out);
            self.fail(message);
        }
    }

    pub(super) fn frame_taken(
        &mut self,
        width: u32,
        height: u32,
        rgba: Rc<Vec<u8>>,
        at_ms: f64,
        out: &mut Vec<Command>,
    ) {
        let Some(camera) = self.camera.as_mut().filter(|c| c.waiting) else { return };
        camera.waiting = false;
        camera.frames += 1;
        camera.taken_at.push_back(at_ms);
        if camera.taken_at.len() > RATE_WINDOW {
            camera.taken_at.pop_front();
        }
        let name = format!("camera frame {}", camera.frames);
        self.image = Some(ImageInput { name, bytes: ImageBytes::Frame { width, height, rgba }, gallery: None });
        self.view.image = None;
        // Unlike a new file, the analysis shown stays until this frame's replaces it.
        self.running = None;
        self.running_filter = None;
        self.open_image(out);
    }

    /// Asks for the next frame when the camera is on and the worker is free (called after every action).
    pub(super) fn pump_camera(&mut self, out: &mut Vec<Command>) {
        if !self.camera.as_ref().is_some_and(|c| c.device.is_some() && !c.waiting) {
            return;
        }
        let idle = matches!(self.link, WorkerLink::Ready { .. })
            && self.pair_ready()
            && self.opening.is_none()
            && self.running.is_none()
            && self.running_filter.is_none()
            && !self.set_running()
            && !self.dataset.as_ref().is_some_and(|s| matches!(s.probe, super::ProbeState::Running(_)));
        if idle && let Some(camera) = self.camera.as_mut() {
            camera.waiting = true;
            out.push(Command::GrabFrame);
        }
    }
}
