//! A set of images measured one at a time (the gallery, or several images dropped at once): each
//! goes to the worker, only its per-layer numbers come back and stay, so the page's memory grows by
//! a few kilobytes an image, never by its pixels. The metrics view charts each model's mean over
//! the set with its interquartile band, as `vitscope analyze` reports them. A labelled set keeps each
//! image's pooled features instead, for the probes ([`super::probe`]).

use std::collections::BTreeMap;
use std::rc::Rc;

use vitscope_protocol::labels::{Labels, number_classes};
use vitscope_protocol::messages::{Measurement, Measures, ModelInfo, Request, WorkerError};
use vitscope_protocol::metrics::Quartiles;
use vitscope_protocol::probe::PooledFeatures;
use vitscope_protocol::{Curve, LayerMetrics, Metric};

use super::probe::ProbeState;
use super::{Command, State, View};

/// Where a set's images come from; the shell reads image `index` of it when asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetSource {
    Gallery,
    /// Files dropped together, kept by the shell in the order dropped.
    Dropped,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SetProgress {
    Running,
    Done,
    /// Stopped by the user or by the worker ending; what was measured stays.
    Stopped(String),
}

/// What a set is measured for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetKind {
    /// Every per-layer metric, averaged over the images.
    Metrics,
    /// Per-layer probes of a labelled set: its names are paths whose first folder is the class.
    Probe,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub source: SetSource,
    pub kind: SetKind,
    pub names: Vec<String>,
    /// A probe's classes, in the order first met, and each name's (`None`: it has none).
    pub classes: Vec<String>,
    labels: Vec<Option<usize>>,
    /// Why a probe's image without a class is skipped.
    unlabelled: String,
    /// The models shown when it started, each measured on every image.
    pub models: Vec<Rc<ModelInfo>>,
    /// Per model, per measured image; shared, so a new state copies pointers, not numbers.
    pub metrics: BTreeMap<String, Vec<Rc<LayerMetrics>>>,
    /// A probe's features, per model, per measured image.
    pub pooled: BTreeMap<String, Vec<Rc<PooledFeatures>>>,
    pub measured: Vec<String>,
    /// A probe's class of each measured image.
    pub measured_labels: Vec<usize>,
    pub probe: ProbeState,
    pub skipped: Vec<(String, String)>,
    pub progress: SetProgress,
    /// The index being read or measured.
    next: usize,
    /// The Measure request in flight, and the worker it was sent to.
    running: Option<(u32, u32)>,
    pub millis: f64,
}

impl Dataset {
    /// How far it is: measured and skipped images of all.
    pub fn seen(&self) -> usize {
        self.measured.len() + self.skipped.len()
    }

    /// Seconds left at the pace so far, once an image has been measured.
    pub fn seconds_left(&self) -> Option<f64> {
        let measured = Some(self.measured.len()).filter(|&n| n > 0)?;
        let per_image = self.millis / measured as f64;
        Some(per_image * self.names.len().saturating_sub(self.seen()) as f64 / 1000.0)
    }

    /// The classes of a labelled set that have a measured image, ascending.
    pub fn present_classes(&self) -> Vec<usize> {
        let mut present = self.measured_labels.clone();
        present.sort_unstable();
        present.dedup();
        present
    }

    /// Each metric's quartiles over the measured images, for one model.
    pub fn quartiles(&self, model: &ModelInfo) -> BTreeMap<String, Quartiles> {
        LayerMetrics::quartiles_of(self.of(model), model.grid())
    }

    pub fn mean(&self, model: &ModelInfo) -> LayerMetrics {
        LayerMetrics::mean_of(self.of(model))
    }

    fn of(&self, model: &ModelInfo) -> &[Rc<LayerMetrics>] {
        self.metrics.get(&model.id).map_or(&[], Vec::as_slice)
    }

    /// Every model's mean curves and quartiles over the measured images, computed once for all the
    /// charts, tables and exports that show them.
    pub fn summaries(&self) -> Vec<SetSummary> {
        let summary = |m: &Rc<ModelInfo>| SetSummary {
            curves: self.mean(m).curves(m.grid()),
            quartiles: self.quartiles(m),
            model: m.clone(),
        };
        self.models.iter().map(summary).collect()
    }
}

/// One model over a set: each metric's mean curve and quartiles, by metric key.
#[derive(Clone, Debug, PartialEq)]
pub struct SetSummary {
    pub model: Rc<ModelInfo>,
    pub curves: BTreeMap<String, Curve>,
    pub quartiles: BTreeMap<String, Quartiles>,
}

impl SetSummary {
    /// The mean and quartiles of `metric`, empty where it has none.
    pub fn of(&self, metric: Metric) -> (&[f32], Quartiles) {
        let mean = self.curves.get(metric.key()).map_or(&[][..], |c| c.mean.as_slice());
        (mean, self.quartiles.get(metric.key()).cloned().unwrap_or_default())
    }
}

impl State {
    /// Starts measuring `names` from `source` with the models shown (once they are loaded): for their
    /// metrics, or with `labels` for the probes.
    pub(super) fn start_set(
        &mut self,
        source: SetSource,
        labels: Option<&Labels>,
        names: Vec<String>,
        out: &mut Vec<Command>,
    ) {
        if names.is_empty() {
            return;
        }
        let kind = if labels.is_some() { SetKind::Probe } else { SetKind::Metrics };
        let unlabelled = labels.map(Labels::why_unlabelled).unwrap_or_default();
        let (classes, labels) = match labels {
            None => (Vec::new(), vec![None; names.len()]),
            Some(listed) => number_classes(names.iter().map(|n| listed.class_of(n))),
        };
        if kind == SetKind::Probe && classes.len() < 2 {
            self.notices.push(format!(
                "To probe, choose a folder with one subfolder of images per class (the subfolder's name is the class), or with a labels.csv of file,label rows; that folder has {} with images.",
                match classes.len() {
                    0 => "none".to_string(),
                    _ => "only one".to_string(),
                }
            ));
            return;
        }
        if !self.pair_ready() {
            self.notices.push("The models are still loading: measure the set once they are in.".into());
            return;
        }
        let models: Vec<Rc<ModelInfo>> =
            self.view.models.iter().filter_map(|id| self.loaded.get(id).cloned()).collect();
        self.dataset = Some(Rc::new(Dataset {
            source,
            kind,
            metrics: models.iter().map(|m| (m.id.clone(), Vec::new())).collect(),
            pooled: BTreeMap::new(),
            names,
            classes,
            labels,
            unlabelled,
            models,
            measured: Vec::new(),
            measured_labels: Vec::new(),
            probe: ProbeState::NotYet,
            skipped: Vec::new(),
            progress: SetProgress::Running,
            next: 0,
            running: None,
            millis: 0.0,
        }));
        // Its progress and charts are under the metrics view: several images dropped on another view
        // take the reader there.
        self.view.view = View::Metrics;
        self.read_next(out);
    }

    fn read_next(&mut self, out: &mut Vec<Command>) {
        // A probe's images outside any class folder are skipped unread.
        self.edit_set(|s| {
            while s.kind == SetKind::Probe && s.next < s.names.len() && s.labels[s.next].is_none() {
                s.skipped.push((s.names[s.next].clone(), s.unlabelled.clone()));
                s.next += 1;
            }
        });
        let Some(set) = self.dataset.as_deref() else { return };
        if set.progress != SetProgress::Running {
            return;
        }
        let (source, index) = (set.source, set.next);
        match set.names.get(index).cloned() {
            Some(name) => out.push(Command::ReadSetImage { source, index, name }),
            None => {
                self.edit_set(|s| s.progress = SetProgress::Done);
                self.request_probe(out);
            }
        }
    }

    pub(super) fn edit_set(&mut self, change: impl FnOnce(&mut Dataset)) {
        if let Some(set) = self.dataset.as_mut() {
            change(Rc::make_mut(set));
        }
    }

    /// Image `index` of the set was read: it goes to the worker, or is skipped with its reason.
    pub(super) fn set_image_read(&mut self, index: usize, result: Result<Rc<Vec<u8>>, String>, out: &mut Vec<Command>) {
        let Some(set) = self.dataset.as_deref() else { return };
        if set.progress != SetProgress::Running || set.next != index {
            return;
        }
        let models = set.models.iter().map(|m| m.id.clone()).collect();
        let measures = match set.kind {
            SetKind::Metrics => Measures::Metrics,
            SetKind::Probe => Measures::Pooled,
        };
        match result {
            Ok(bytes) => {
                let generation = self.generation;
                let id = self.send(out, Request::Measure { bytes: bytes.to_vec(), models, measures });
                self.edit_set(|s| s.running = id.map(|id| (generation, id)));
                if id.is_none() {
                    self.stop_set("the worker is not running");
                }
            }
            Err(why) => self.skip_in_set(why, out),
        }
    }

    fn skip_in_set(&mut self, why: String, out: &mut Vec<Command>) {
        self.edit_set(|s| {
            let name = s.names[s.next].clone();
            s.skipped.push((name, why));
            s.next += 1;
            s.running = None;
        });
        self.read_next(out);
    }

    /// Whether `id` is the set's Measure request in flight (to this worker).
    pub(super) fn is_set_request(&self, id: u32) -> bool {
        self.dataset.as_ref().is_some_and(|s| s.running == Some((self.generation, id)))
    }

    pub(super) fn set_measured(&mut self, models: Vec<(String, Measurement)>, millis: f64, out: &mut Vec<Command>) {
        self.edit_set(|s| {
            for (id, measured) in models {
                match measured {
                    Measurement::Metrics(metrics) => s.metrics.entry(id).or_default().push(Rc::new(metrics)),
                    Measurement::Pooled(features) => s.pooled.entry(id).or_default().push(Rc::new(features)),
                }
            }
            if let Some(label) = s.labels[s.next] {
                s.measured_labels.push(label);
            }
            s.measured.push(s.names[s.next].clone());
            s.millis += millis;
            s.next += 1;
            s.running = None;
        });
        self.read_next(out);
    }

    pub(super) fn set_failed(&mut self, error: WorkerError, out: &mut Vec<Command>) {
        match error {
            WorkerError::Image(why) => self.skip_in_set(why, out),
            other => self.stop_set(&other.to_string()),
        }
    }

    pub(super) fn set_running(&self) -> bool {
        self.dataset.as_ref().is_some_and(|s| s.progress == SetProgress::Running)
    }

    /// Stops the set where it is; what was measured stays.
    pub(super) fn stop_set(&mut self, why: &str) {
        if self.set_running() {
            self.edit_set(|s| {
                s.progress = SetProgress::Stopped(why.to_string());
                s.running = None;
            });
        }
    }
}
