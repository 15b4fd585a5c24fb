//! A labelled set's probes: once its images are measured (or the user stops it), their pooled
//! features go to the worker, which scores every layer of every model as `vitscope probe` does.

use std::rc::Rc;

use vitscope_protocol::messages::{ModelInfo, Request, WorkerError};
use vitscope_protocol::probe::ProbeCurves;

use super::dataset::SetKind;
use super::{Command, State};

#[derive(Clone, Debug, PartialEq)]
pub enum ProbeState {
    /// Not asked for yet (the set is being measured, or it is not a labelled set).
    NotYet,
    /// The Probe request in flight, and the worker it was sent to.
    Running((u32, u32)),
    Done(Rc<Probed>),
    /// Why there is no probe; the panel offers to probe again.
    Failed(String),
}

/// Every model's probes of the images measured so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Probed {
    pub models: Vec<(Rc<ModelInfo>, ProbeCurves)>,
    /// The classes that had measured images, and how many each.
    pub classes: Vec<(String, usize)>,
    pub images: usize,
    pub millis: f64,
}

impl Probed {
    /// The share of the largest class: what a probe that always names it scores.
    pub fn majority(&self) -> f64 {
        self.classes.iter().map(|(_, n)| *n).max().unwrap_or(0) as f64 / self.images.max(1) as f64
    }
}

impl State {
    /// Sends the measured images' features to the worker, for a labelled set that has two classes
    /// measured; classes with no measured image are left out, so they do not count as too small.
    pub(super) fn request_probe(&mut self, out: &mut Vec<Command>) {
        let Some(set) = self.dataset.as_deref() else { return };
        if set.kind != SetKind::Probe || matches!(set.probe, ProbeState::Running(_) | ProbeState::Done(_)) {
            return;
        }
        let present = set.present_classes();
        if present.len() < 2 {
            let why = "a probe needs measured images of at least two classes".to_string();
            self.edit_set(|s| s.probe = ProbeState::Failed(why));
            return;
        }
        let labels = set.measured_labels.iter().map(|l| present.binary_search(l).expect("present")).collect();
        let models = set
            .models
            .iter()
            .map(|m| {
                let features =
                    set.pooled.get(&m.id).map_or_else(Vec::new, |f| f.iter().map(|f| (**f).clone()).collect());
                (m.id.clone(), features)
            })
            .collect();
        let request = Request::Probe { classes: present.len(), labels, models };
        let generation = self.generation;
        match self.send(out, request) {
            Some(id) => self.edit_set(|s| s.probe = ProbeState::Running((generation, id))),
            None => self.edit_set(|s| s.probe = ProbeState::Failed("the worker is not running".into())),
        }
    }

    /// Whether `id` is the set's Probe request in flight (to this worker).
    pub(super) fn is_probe_request(&self, id: u32) -> bool {
        self.dataset.as_ref().is_some_and(|s| s.probe == ProbeState::Running((self.generation, id)))
    }

    pub(super) fn probed(&mut self, curves: Vec<(String, ProbeCurves)>, millis: f64) {
        self.edit_set(|s| {
            let classes = s
                .present_classes()
                .iter()
                .map(|&c| (s.classes[c].clone(), s.measured_labels.iter().filter(|&&l| l == c).count()))
                .collect();
            let models = curves
                .into_iter()
                .filter_map(|(id, c)| Some((s.models.iter().find(|m| m.id == id)?.clone(), c)))
                .collect();
            s.probe = ProbeState::Done(Rc::new(Probed { models, classes, images: s.measured_labels.len(), millis }));
        });
    }

    pub(super) fn probe_failed(&mut self, error: &WorkerError) {
        let why = error.to_string();
        self.edit_set(|s| s.probe = ProbeState::Failed(why));
    }

    /// A probe in flight is lost with its worker.
    pub(super) fn probe_lost(&mut self, why: &str) {
        if self.dataset.as_ref().is_some_and(|s| matches!(s.probe, ProbeState::Running(_))) {
            self.edit_set(|s| s.probe = ProbeState::Failed(why.to_string()));
        }
    }
}
