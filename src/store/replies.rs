//! The worker's answers and the page's two lists (bundled models, gallery), applied to the state.

use std::rc::Rc;

use vitscope_protocol::messages::{Arithmetic, Backend, Envelope, Kept, ModelSource, Request, Response, WorkerError};

use super::Manifest;
use super::data::{Analysis, GalleryItem, ModelResult, Progress};
use super::{Command, MAX_MODELS, State, WorkerLink};

impl State {
    pub(super) fn reply(&mut self, Envelope { id, body }: Envelope<Response>, out: &mut Vec<Command>) {
        match body {
            Response::Listening | Response::Unloaded | Response::ArithmeticSet { .. } => {}
            Response::Started { backend } => {
                let WorkerLink::Starting { why, .. } = &self.link else { return };
                let note = why.clone();
                self.status = format!("Running on {}: {note}", backend.label());
                self.link = WorkerLink::Ready { backend, note };
                if self.view.arithmetic != Arithmetic::default() {
                    self.send(out, Request::SetArithmetic { arithmetic: self.view.arithmetic });
                }
                self.load_pair(out);
                self.open_image(out);
            }
            Response::Progress { id: model, stage, loaded, total } => {
                if self.loading.contains_key(&id) {
                    self.progress = Some(Progress { model: self.model_label(&model), stage, loaded, total });
                }
            }
            Response::Converted(converted) => {
                if !self.loading.contains_key(&id) {
                    return;
                }
                let name = match self.extra_models.get(&converted.id).map(|s| &**s) {
                    Some(ModelSource::Dropped { name, .. }) => name.clone(),
                    _ => converted.id.clone(),
                };
                self.notices.push(match &converted.kept {
                    Kept::Stored => format!(
                        "Converted {name} ({} layout) in this page; kept in this browser, so dropping it again loads at once.",
                        converted.layout
                    ),
                    Kept::Found => format!("{name} was converted here before; loaded the kept copy."),
                    Kept::Unavailable(why) => format!(
                        "Converted {name} ({} layout) in this page, but {why}: it lasts until the page closes (Save converted file keeps it).",
                        converted.layout
                    ),
                });
                // Kept once: a restarted worker is sent these bytes (load_pair) instead of the checkpoint.
                self.converted.insert(converted.id.clone(), Rc::from(converted));
            }
            Response::ModelLoaded(info) => {
                if self.loading.remove(&id).is_none() {
                    return;
                }
                self.progress = None;
                if !self.view.models.contains(&info.id) {
                    // Chosen away while it loaded.
                    self.send(out, Request::Unload { id: info.id });
                    return;
                }
                self.status = format!("Loaded {} ({}, {}).", info.name(), info.family().label(), info.precision);
                self.loaded.insert(info.id.clone(), Rc::new(*info));
                self.clamp();
                if !self.paused {
                    self.analyze(out);
                }
            }
            Response::ImageOpened { width, height } => {
                if self.opening != Some(id) {
                    return;
                }
                self.opening = None;
                self.image_opened = true;
                self.dimensions = Some((width, height));
                if !self.paused {
                    self.analyze(out);
                }
            }
            Response::Analyzed { models, millis, .. } => {
                let is_main = self.running == Some(id);
                if !is_main && self.running_filter != Some(id) {
                    return;
                }
                let models: Vec<ModelResult> = models
                    .into_iter()
                    .filter_map(|m| Some(ModelResult::new(self.loaded.get(&m.id)?.clone(), m)))
                    .collect();
                let (width, height) = self.dimensions.unwrap_or_default();
                let backend = self.link.backend().unwrap_or(Backend::Cpu);
                let image = self.image.as_ref().map_or_else(|| "the image".to_string(), |i| i.name.clone());
                let analysis = Analysis { image, width, height, backend, models };
                self.analysed(id, analysis, millis);
            }
            Response::Derived { models, millis } => {
                if let Some(analysis) = self.drawn_by(id).map(|a| a.derived(models)) {
                    self.analysed(id, analysis, millis);
                }
            }
            Response::Represented { models, millis } => {
                if let Some(analysis) = self.drawn_by(id).map(|a| a.represented(models)) {
                    self.analysed(id, analysis, millis);
                }
            }
            Response::Measured { models, millis } => {
                if self.is_set_request(id) {
                    self.set_measured(models, millis, out);
                }
            }
            Response::Probed { models, millis } => {
                if self.is_probe_request(id) {
                    self.probed(models, millis);
                }
            }
            Response::Failed(error) if self.is_probe_request(id) => self.probe_failed(&error),
            Response::Failed(error) if self.is_set_request(id) && !matches!(error, WorkerError::Device(_)) => {
                self.set_failed(error, out);
            }
            Response::Failed(WorkerError::Device(reason)) if self.link.backend() == Some(Backend::WebGpu) => {
                self.fall_back(&reason, out);
            }
            Response::Failed(error) => {
                if let Some(model) = self.loading.remove(&id) {
                    if self.view.native.contains(&model) {
                        // Too large at its native size: it runs at its card's again.
                        self.view.native.retain(|m| m != &model);
                        self.progress = None;
                        self.notices.push(format!("{error}; running it at its card's size."));
                        self.load_pair(out);
                        return;
                    }
                    self.view.models.retain(|m| m != &model);
                    // A file that cannot be read is not offered again.
                    self.extra_models.remove(&model);
                    self.progress = None;
                    // The page goes on with the other models, so why this one is missing stays
                    // listed (an alert would be cleared by their next analysis).
                    if !self.view.models.is_empty() {
                        let why = error.to_string();
                        self.status = format!("Error: {why}");
                        self.notice_once(why);
                        return;
                    }
                }
                if self.opening == Some(id)
                    && let WorkerError::Image(why) = &error
                {
                    // Refused (the worker keeps the previous image, but the page has let it go): named,
                    // and nothing runs until the user chooses another.
                    let name = self.image.take().map(|i| i.name).unwrap_or_default();
                    self.view.image = None;
                    self.opening = None;
                    self.fail(format!("{name}: {why}"));
                    return;
                }
                for pending in [&mut self.running, &mut self.running_filter, &mut self.opening] {
                    if *pending == Some(id) {
                        *pending = None;
                    }
                }
                self.fail(error.to_string());
            }
        }
    }

    /// The analysis request `id` drew first (the main run's or the filtered one's), while that run is
    /// still the one in flight: what its later answers complete.
    fn drawn_by(&self, id: u32) -> Option<&Rc<Analysis>> {
        match id {
            _ if self.running == Some(id) => self.analysis.as_ref(),
            _ if self.running_filter == Some(id) => self.filtered.as_ref(),
            _ => None,
        }
    }

    /// A run's analysis shown: drawn at once, and the run over once its representations are in
    /// (until then the status says what is still coming).
    fn analysed(&mut self, id: u32, analysis: Analysis, millis: f64) {
        let is_main = self.running == Some(id);
        let complete = analysis.is_complete();
        let analysis = Rc::new(analysis);
        if !is_main {
            if complete {
                self.running_filter = None;
            }
            self.filtered = Some(analysis);
            return;
        }
        let (image, models, backend) = (analysis.image.clone(), analysis.models.len(), analysis.backend);
        let (width, height) = (analysis.width, analysis.height);
        self.analysis = Some(analysis);
        self.error = None;
        if !complete {
            if let (None, Some(analysis)) = (&self.camera, &self.analysis) {
                self.status = if analysis.is_shown() {
                    format!(
                        "Shown: {image} at this layer in {millis:.0} ms; the other layers' PCA colours and spectra follow…"
                    )
                } else if analysis.is_derived() {
                    format!("Drawn: {image} in {millis:.0} ms; computing the PCA colours and spectra…")
                } else if analysis.draws(&self.view) {
                    format!("Drawn: {image} in {millis:.0} ms; computing the metrics, PCA colours and spectra…")
                } else {
                    format!("Analysing {image}: its attention maps in {millis:.0} ms; computing the metrics…")
                };
            }
            return;
        }
        self.running = None;
        match self.camera.as_mut() {
            Some(camera) => {
                // (A photo's run that ends after the camera started is not a frame.)
                if camera.frames > 0 {
                    camera.analysed = Some(camera.frames);
                }
                if camera.device.is_some() {
                    self.status = camera.status();
                }
            }
            None => {
                self.status = format!(
                    "Ready: {image} ({width}×{height}) with {models} models in {millis:.0} ms on {}.",
                    backend.label()
                )
            }
        }
    }

    /// What the model menus offer, as (id, label): the listed models, then the reader's own (dropped
    /// files and `?model=`), named as loaded when they are.
    pub fn choices(&self) -> Vec<(String, String)> {
        let listed = self.manifest.iter().map(|m| (m.id.clone(), format!("{} ({})", m.name, m.family.label())));
        let own = self.extra_models.iter().map(|(id, source)| {
            let whose = match &**source {
                ModelSource::Url { .. } => "from the link",
                _ => "your file",
            };
            let label = match self.loaded.get(id) {
                Some(info) => format!("{} ({}, {whose})", info.name(), info.family().label()),
                None => format!("{} ({whose})", self.model_label(id)),
            };
            (id.clone(), label)
        });
        listed.chain(own).collect()
    }

    /// What the page calls a model before it has loaded: its listed name, or its file's.
    fn model_label(&self, id: &str) -> String {
        match (self.manifest.iter().find(|m| m.id == id), self.extra_models.get(id).map(|s| &**s)) {
            (Some(entry), _) => entry.name.clone(),
            (None, Some(ModelSource::Dropped { name, .. })) => name.clone(),
            (None, Some(ModelSource::Url { url, .. })) => url.rsplit('/').next().unwrap_or(url).to_string(),
            _ => id.to_string(),
        }
    }

    pub(super) fn manifest_loaded(&mut self, manifest: Manifest, out: &mut Vec<Command>) {
        self.notices.extend(manifest.problems.iter().cloned());
        let default_pair = if manifest.default_pair.is_empty() {
            manifest.models.iter().take(2).map(|m| m.id.clone()).collect()
        } else {
            manifest.default_pair.clone()
        };
        let url_model = self.page.model_url.clone().map(|url| {
            let id = format!("url:{}", url.rsplit('/').next().unwrap_or(&url));
            self.extra_models.insert(id.clone(), Rc::new(ModelSource::Url { url, sha256: None, bytes: None }));
            id
        });
        let known = |id: &String| manifest.models.iter().any(|m| &m.id == id) || url_model.as_ref() == Some(id);
        let (kept, unknown): (Vec<String>, Vec<String>) = self.view.models.iter().cloned().partition(known);
        let (files, unlisted): (Vec<String>, Vec<String>) = unknown.into_iter().partition(|id| id.starts_with("file:"));
        if !files.is_empty() {
            let names: Vec<&str> = files.iter().map(|id| id.trim_start_matches("file:")).collect();
            self.notices.push(format!(
                "{} came from your computer and cannot be reopened from a link: drop it again (a checkpoint converted here before loads without converting).",
                names.join(", ")
            ));
        }
        if !unlisted.is_empty() {
            self.notices.push(format!(
                "No listed model is called {}; {}. Listed: {}.",
                unlisted.join(", "),
                if kept.is_empty() { "showing the default pair" } else { "showing the others" },
                manifest.models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        self.view.models = if kept.is_empty() { default_pair } else { kept };
        self.manifest = Rc::new(manifest.models);
        if let Some(id) = url_model
            && !self.view.models.contains(&id)
        {
            self.view.models.insert(0, id);
            self.view.models.truncate(MAX_MODELS);
        }
        self.load_pair(out);
    }

    pub(super) fn gallery_loaded(&mut self, items: Vec<GalleryItem>, out: &mut Vec<Command>) {
        self.gallery = Rc::new(items);
        if self.image.is_some() {
            return;
        }
        let first = self.gallery.first().map(|g| g.file.clone());
        let pick = match self.view.image.clone() {
            Some(name) if self.gallery.iter().any(|g| g.file == name) => Some(name),
            Some(name) => {
                self.notices.push(format!("`{name}` is not in the gallery; showing the first photo."));
                first
            }
            None => first,
        };
        if let Some(file) = pick {
            out.push(Command::FetchImage(file));
        }
    }
}
