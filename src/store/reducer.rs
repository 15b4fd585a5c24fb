//! How each [`Action`] changes the [`State`], and which [`Command`]s it leaves for the shell. The
//! worker's replies are matched to the requests by id: a request sent to an older worker, or
//! superseded by a newer one, is ignored when its answer comes.

use std::rc::Rc;

use vitscope_protocol::messages::{Backend, Envelope, ModelSource, Request, RunSize};

use super::settings::{BackendParam, MAX_MODELS, View, ViewState};
use super::{Action, Command, ImageBytes, ProbeState, SetSource, State, WorkerLink};

/// Applies `action` to `state`; returns what the browser must do, in order.
pub fn reduce(state: &mut State, action: Action) -> Vec<Command> {
    let mut out = Vec::new();
    state.apply(action, &mut out);
    state.pump_camera(&mut out);
    out
}

impl State {
    fn apply(&mut self, action: Action, out: &mut Vec<Command>) {
        match action {
            Action::SetView(v) => self.change(out, |s| s.view = v),
            Action::SetLayer(l) => self.change(out, |s| s.layer = l),
            Action::SetHead(h) => self.change(out, |s| s.head = h),
            Action::SetQuery(q) => self.change(out, |s| s.query = q),
            Action::SetMap(m) => self.change(out, |s| s.map = m),
            Action::SetColormap(c) => self.change(out, |s| s.colormap = c),
            Action::SetArithmetic(arithmetic) => {
                if arithmetic == self.view.arithmetic {
                    return;
                }
                self.change(out, |s| s.arithmetic = arithmetic);
                if matches!(self.link, WorkerLink::Ready { .. }) {
                    self.send(out, Request::SetArithmetic { arithmetic });
                    // The shown analysis stays until the new one replaces it; a camera's next frame
                    // is the rerun.
                    self.paused = false;
                    if self.camera.is_none() {
                        self.analyze(out);
                    }
                }
            }
            Action::SetFilter(f) => {
                self.change(out, |s| s.filter = f);
                self.paused = false;
                self.filtered = None;
                self.run_filter(out);
            }
            Action::ChooseModel { slot, id } => {
                let mut models = self.view.models.clone();
                match models.iter().position(|m| m == &id) {
                    // A model shown elsewhere trades places with this slot's.
                    Some(at) if slot < models.len() => models.swap(at, slot),
                    Some(_) => {}
                    None if slot < models.len() => models[slot] = id,
                    None if models.len() < MAX_MODELS => models.push(id),
                    None => {}
                }
                self.change(out, |s| s.models = models);
            }
            Action::RemoveModel(slot) => {
                if slot < self.view.models.len() && self.view.models.len() > 1 {
                    self.change(out, |s| {
                        s.models.remove(slot);
                    });
                }
            }
            Action::SetNativeSize { id, native } => {
                if self.view.native.contains(&id) == native {
                    return;
                }
                self.view.native.retain(|m| m != &id);
                if native {
                    self.view.native.push(id.clone());
                }
                // The position table is resampled once, at load: another size is another load.
                if self.loaded.remove(&id).is_some() {
                    self.send(out, Request::Unload { id });
                }
                self.paused = false;
                self.analysis = None;
                self.load_pair(out);
            }
            Action::PickGallery(file) => out.push(Command::FetchImage(file)),
            Action::ImageRead { choice, .. } if choice < self.chosen => {}
            Action::ImageRead { choice, result: Ok(image) } => {
                self.chosen = choice;
                self.stop_camera(out);
                self.paused = false;
                self.view.image = image.gallery.clone();
                self.status = format!("Opened {} ({}).", image.name, image.size_label());
                self.image = Some(image);
                // Runs of the previous image no longer count when they answer.
                self.running = None;
                self.running_filter = None;
                self.analysis = None;
                self.filtered = None;
                self.dimensions = None;
                self.open_image(out);
            }
            Action::ImageRead { choice, result: Err(e) } => {
                self.chosen = choice;
                self.fail(e);
            }
            Action::ModelFileDropped { name, size } => {
                let id = format!("file:{name}");
                self.extra_models.insert(id.clone(), Rc::new(ModelSource::Dropped { name: name.clone(), size }));
                self.converted.remove(&id);
                // A file of the same name replaces the one shown: it is read again.
                if self.loaded.remove(&id).is_some() {
                    self.send(out, Request::Unload { id: id.clone() });
                }
                // It joins the models shown, first; the last one gives way when four are.
                self.change(out, |s| {
                    s.models.retain(|m| m != &id);
                    s.models.insert(0, id);
                    s.models.truncate(MAX_MODELS);
                });
                self.load_pair(out);
                self.status = format!("Reading {name}…");
            }
            Action::SaveConverted(id) => {
                if let Some(c) = self.converted.get(&id) {
                    out.push(Command::Save { file_name: c.file_name.clone() });
                }
            }
            Action::ManifestLoaded(Ok(manifest)) => self.manifest_loaded(manifest, out),
            Action::ManifestLoaded(Err(e)) => self.error = Some(format!("The model list could not be read: {e}")),
            Action::GalleryLoaded(items) => self.gallery_loaded(items, out),
            Action::Probed { generation, result } => {
                if generation == self.generation && self.link == WorkerLink::Probing {
                    self.probe = Some(result.clone());
                    self.spawn_probed(result, out);
                }
            }
            Action::WorkerSpawnFailed { generation, message } => {
                if generation == self.generation {
                    self.link = WorkerLink::Failed(message.clone());
                    self.error = Some(message);
                }
            }
            Action::WorkerReplied { generation, envelope } => {
                if generation == self.generation {
                    self.reply(*envelope, out);
                }
            }
            Action::WorkerCrashed { generation, message } => {
                if generation != self.generation {
                    return;
                }
                // The WebGPU worker may also die before it has said it started.
                if self.link.backend() == Some(Backend::WebGpu) {
                    self.fall_back(&message, out);
                } else if self.opening.is_some()
                    && self.image.as_ref().is_some_and(|i| matches!(i.bytes, ImageBytes::File(_)))
                    && let Some(image) = self.image.take()
                {
                    // It died decoding the image: reopening it in the new worker would kill that one too.
                    self.error = Some(format!(
                        "{} stopped the worker while it was being decoded ({message}): a damaged file? Choose another image.",
                        image.name
                    ));
                    self.status = "Waiting for an image.".into();
                    self.view.image = None;
                    self.restart_worker(out);
                } else {
                    self.error = Some(format!(
                        "The analysis stopped: {message}. The worker was restarted; try again or choose another image."
                    ));
                    // Most likely memory: a model at its native size would fail again.
                    if !self.view.native.is_empty() {
                        self.notices.push(format!(
                            "{} run at their card's size again after the worker stopped.",
                            self.view.native.join(", ")
                        ));
                        self.view.native.clear();
                    }
                    self.restart_worker(out);
                }
            }
            Action::MeasureSet { source, names } => {
                self.stop_camera(out);
                self.start_set(source, None, names, out);
            }
            Action::ProbeSet { names, labels } => {
                self.stop_camera(out);
                self.start_set(SetSource::Dropped, Some(&labels), names, out);
            }
            Action::ProbeAgain => {
                self.edit_set(|s| s.probe = ProbeState::NotYet);
                self.request_probe(out);
            }
            Action::SetImageRead { index, result } => self.set_image_read(index, result, out),
            Action::StopSet => {
                self.stop_set("stopped");
                self.request_probe(out);
            }
            Action::Cancel => {
                self.stop_camera(out);
                self.status = "Cancelled. Choose an image or change a setting to run again.".into();
                // A file still being read or converted is dropped, not read again by the next worker.
                for id in self.loading.values().filter(|id| !self.converted.contains_key(*id)) {
                    if let Some(ModelSource::Dropped { name, .. }) = self.extra_models.get(id).map(|s| &**s) {
                        self.status = format!("Cancelled reading {name}; nothing was kept.");
                        self.extra_models.remove(id);
                        self.view.models.retain(|m| m != id);
                    }
                }
                self.paused = true;
                self.restart_worker(out);
            }
            Action::HashChanged(pairs) => {
                let mut next = self.view.clone();
                let problems = next.apply(&pairs, &mut self.page.clone());
                // The hash never names the reader's own files ([`ViewState::shareable`]): they stay.
                for id in self.view.models.iter().rev().filter(|id| id.starts_with("file:")) {
                    if !next.models.contains(id) {
                        next.models.insert(0, id.clone());
                    }
                }
                next.models.truncate(MAX_MODELS);
                if next != self.view || !problems.is_empty() {
                    let before = self.view.models.clone();
                    self.notices = problems;
                    self.view = next;
                    self.clamp();
                    if self.view.models != before {
                        self.models_changed(out);
                    }
                }
            }
            Action::StartCamera { choice } => self.start_camera(choice, out),
            Action::CameraStarted(Ok(label)) => self.camera_started(label, out),
            Action::CameraStarted(Err(why)) | Action::CameraFailed(why) => self.camera_failed(why, out),
            Action::StopCamera => {
                self.stop_camera(out);
                self.status = "Camera off; the last frame analysed stays.".into();
            }
            Action::PageHidden => self.camera_hidden(out),
            Action::FrameTaken { width, height, rgba, at_ms } => self.frame_taken(width, height, rgba, at_ms, out),
            Action::ToggleEmbed => self.embed_open = !self.embed_open,
            Action::Export(kind) => out.push(Command::Export(kind)),
            Action::Notice(text) => self.notices.push(text),
            Action::ShowError(text) => self.error = Some(text),
        }
    }

    /// A change of what is shown; a new pair reloads and reruns, the frequency view runs its filter.
    fn change(&mut self, out: &mut Vec<Command>, edit: impl FnOnce(&mut ViewState)) {
        let (models, view) = (self.view.models.clone(), self.view.view);
        edit(&mut self.view);
        self.clamp();
        if self.view.models != models {
            self.models_changed(out);
        } else if self.view.view == View::Frequency && view != View::Frequency && self.filtered.is_none() {
            self.run_filter(out);
        }
    }

    /// Other models are shown: those no longer shown are freed, the new ones load, the image reruns.
    fn models_changed(&mut self, out: &mut Vec<Command>) {
        self.paused = false;
        self.analysis = None;
        self.filtered = None;
        self.unload_hidden(out);
        self.load_pair(out);
        self.analyze(out);
    }

    /// Frees the worker's models the page no longer shows; choosing one again loads it again (from
    /// the browser's cache, or the file the shell keeps).
    pub(super) fn unload_hidden(&mut self, out: &mut Vec<Command>) {
        let hidden: Vec<String> = self.loaded.keys().filter(|id| !self.view.models.contains(id)).cloned().collect();
        for id in hidden {
            self.loaded.remove(&id);
            self.send(out, Request::Unload { id });
        }
    }

    pub(super) fn send(&mut self, out: &mut Vec<Command>, body: Request) -> Option<u32> {
        self.link.backend()?;
        let id = self.next_id;
        self.next_id += 1;
        out.push(Command::Send(Envelope { id, body }));
        Some(id)
    }

    pub(super) fn fail(&mut self, message: String) {
        self.status = format!("Error: {message}");
        self.error = Some(message);
    }

    /// A notice that says why something stopped: listed once however often it happens.
    pub(super) fn notice_once(&mut self, text: String) {
        if !self.notices.contains(&text) {
            self.notices.push(text);
        }
    }

    pub(super) fn restart_worker(&mut self, out: &mut Vec<Command>) {
        self.stop_set("the worker restarted");
        self.probe_lost("the worker restarted before the probe finished");
        self.link = WorkerLink::Probing;
        self.loaded.clear();
        self.loading.clear();
        self.progress = None;
        self.running = None;
        self.running_filter = None;
        // A run drawn but cut off before its PCA would say "computing" for good: it goes with the run.
        for shown in [&mut self.analysis, &mut self.filtered] {
            if shown.as_ref().is_some_and(|a| !a.is_complete()) {
                *shown = None;
            }
        }
        self.opening = None;
        self.image_opened = false;
        self.generation += 1;
        match (self.backend_choice, self.probe.clone()) {
            (BackendParam::Cpu, _) => self.spawn(Backend::Cpu, "CPU chosen in the URL (backend=cpu)".into(), out),
            (_, Some(probe)) => self.spawn_probed(probe, out),
            (choice, None) => {
                out.push(Command::Probe { generation: self.generation, allow_software: choice == BackendParam::WebGpu })
            }
        }
    }

    fn spawn_probed(&mut self, probe: Result<String, String>, out: &mut Vec<Command>) {
        match probe {
            Ok(adapter) => self.spawn(Backend::WebGpu, format!("WebGPU on {adapter}"), out),
            Err(why) => self.spawn(Backend::Cpu, why, out),
        }
    }

    fn spawn(&mut self, backend: Backend, why: String, out: &mut Vec<Command>) {
        out.push(Command::SpawnWorker { generation: self.generation, backend });
        self.link = WorkerLink::Starting { backend, why };
        self.send(out, Request::Start { backend });
    }

    /// WebGPU failed: a fresh worker on the CPU, the same models, the same image.
    pub(super) fn fall_back(&mut self, reason: &str, out: &mut Vec<Command>) {
        self.probe = Some(Err(format!("WebGPU failed ({reason}), so the CPU runs the models")));
        self.backend_choice = BackendParam::Auto;
        self.notices.push(format!("WebGPU failed ({reason}); switched to the CPU and ran again."));
        self.restart_worker(out);
    }

    /// The models of the current pair that still need loading, once the worker has started.
    pub(super) fn load_pair(&mut self, out: &mut Vec<Command>) {
        if !matches!(self.link, WorkerLink::Ready { .. }) {
            return;
        }
        for id in self.view.models.clone() {
            if self.loaded.contains_key(&id) || self.loading.values().any(|v| v == &id) {
                continue;
            }
            let source = if let Some(entry) = self.manifest.iter().find(|m| m.id == id) {
                ModelSource::Url { url: entry.address(), sha256: Some(entry.sha256.clone()), bytes: Some(entry.bytes) }
            } else if let Some(converted) = self.converted.get(&id) {
                // The shell keeps the converted file: a restarted worker loads it as a dropped file.
                ModelSource::Dropped { name: converted.file_name.clone(), size: converted.size }
            } else if let Some(source) = self.extra_models.get(&id) {
                (**source).clone()
            } else {
                continue;
            };
            let size = if self.view.native.contains(&id) { RunSize::Native } else { RunSize::Card };
            if let Some(request) = self.send(out, Request::LoadModel { id: id.clone(), source, size }) {
                self.loading.insert(request, id);
            }
        }
    }

    /// Hands the image to a started worker (once per worker: it keeps it for every run).
    pub(super) fn open_image(&mut self, out: &mut Vec<Command>) {
        self.image_opened = false;
        self.opening = None;
        let Some(image) = self.image.clone() else { return };
        if matches!(self.link, WorkerLink::Ready { .. }) {
            let request = match image.bytes {
                ImageBytes::File(bytes) => Request::OpenImage { bytes: bytes.to_vec() },
                ImageBytes::Frame { width, height, rgba } => Request::OpenFrame { width, height, rgba: rgba.to_vec() },
            };
            self.opening = self.send(out, request);
        }
    }

    fn can_run(&self) -> bool {
        self.image.is_some() && self.image_opened && self.pair_ready()
    }

    pub(super) fn analyze(&mut self, out: &mut Vec<Command>) {
        if !self.can_run() {
            return;
        }
        let models = self.view.models.clone();
        // A camera frame's filtered run replaces the one before when it comes, as its main run does.
        if self.camera.is_none() {
            self.filtered = None;
        }
        self.running =
            self.send(out, Request::Analyze { models: models.clone(), filter: None, layer: self.view.layer });
        if self.view.view == View::Frequency {
            self.run_filter(out);
        }
        if self.camera.is_none() {
            let backend = self.link.backend().map_or("", Backend::label);
            let name = self.image.as_ref().map_or("", |i| i.name.as_str());
            self.status = format!("Analysing {name} with {} models on {backend}…", models.len());
        }
    }

    fn run_filter(&mut self, out: &mut Vec<Command>) {
        if !self.can_run() {
            return;
        }
        let filter = Some(self.frequency_filter());
        self.running_filter =
            self.send(out, Request::Analyze { models: self.view.models.clone(), filter, layer: self.view.layer });
    }

    pub(super) fn clamp(&mut self) {
        let pair: Vec<_> = self.view.models.iter().filter_map(|id| self.loaded.get(id)).collect();
        if let Some(first) = self.view.models.first().and_then(|id| self.loaded.get(id)) {
            let depth = pair.iter().map(|m| m.depth).min().unwrap_or(1);
            let (heads, grid) = (first.heads, first.grid());
            self.view.clamp_to(depth, heads, grid);
        }
    }
}
