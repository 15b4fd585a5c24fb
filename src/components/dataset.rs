//! The set panel under the metrics view: measure every gallery photo (or drop several images at
//! once), watch the count, stop when enough; each metric's chart shows the models' means over the
//! set with the middle half of the images shaded, and a table gives the numbers.

use std::rc::Rc;

use vitscope_protocol::Metric;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::probe::ProbeResults;
use crate::figures::charts::set_chart;
use crate::service::files::{measure_files, probe_files};
use crate::store::dataset::SetProgress;
use crate::store::handle::use_dispatch;
use crate::store::{Action, Dataset, ExportKind, GalleryItem, ProbeState, SetKind, SetSource, SetSummary};

#[derive(Properties, PartialEq)]
pub struct DatasetProps {
    pub dataset: Option<Rc<Dataset>>,
    pub gallery: Rc<Vec<GalleryItem>>,
    /// The models shown are loaded.
    pub ready: bool,
}

#[function_component]
pub fn DatasetPanel(props: &DatasetProps) -> Html {
    let dispatch = use_dispatch();
    let running = props.dataset.as_ref().is_some_and(|s| s.progress == SetProgress::Running);
    let measure = {
        let (dispatch, gallery) = (dispatch.clone(), props.gallery.clone());
        Callback::from(move |_| {
            let names = gallery.iter().map(|g| g.file.clone()).collect();
            dispatch.emit(Action::MeasureSet { source: SetSource::Gallery, names });
        })
    };
    let send = |action: Action| {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.emit(action.clone()))
    };
    let (stop, csv, json) =
        (send(Action::StopSet), send(Action::Export(ExportKind::SetCsv)), send(Action::Export(ExportKind::SetJson)));
    // A picked folder's files go to the shell's `read` (a set to measure, or a labelled set to probe).
    let folder_input = |read: fn(Vec<web_sys::File>, Callback<Action>)| {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(list) = input.files() {
                read((0..list.length()).filter_map(|i| list.get(i)).collect(), dispatch.clone());
            }
            input.set_value("");
        })
    };
    let (folder, labelled) = (folder_input(measure_files), folder_input(probe_files));
    // Summarised once per new image, for the charts and their tables both.
    let charts = use_memo(props.dataset.clone(), |set| {
        let set = set.as_ref().filter(|s| !s.measured.is_empty() && s.kind == SetKind::Metrics)?;
        let summaries = set.summaries();
        let images = set.measured.len();
        let svgs = Metric::CHARTED.into_iter().map(|m| (m, set_chart(m, images, &summaries).svg())).collect::<Vec<_>>();
        Some((summaries, svgs))
    });
    html! {
        <section class="dataset" aria-labelledby="dataset-title">
            <h2 id="dataset-title">{ "Over a set of images" }</h2>
            <p class="caption">{ "The paper's curves are averages over ImageNet's validation images; one image's are noisy. Measure every gallery photo, or drop several images at once: each goes through the models shown, only its numbers are kept (the images stay in this page), and each chart shows the models' means with the middle half of the images shaded." }</p>
            <div class="set-inputs">
                <button class="measure-set" disabled={!props.ready || running || props.gallery.is_empty()} onclick={measure}>
                    { format!("Measure all {} gallery photos", props.gallery.len()) }
                </button>
                <label class="button" for="set-folder">{ "Measure a folder…" }</label>
                <input id="set-folder" class="visually-hidden" type="file" webkitdirectory=true multiple=true disabled={!props.ready || running} onchange={folder} />
                <span class="hint">{ "or drop several images at once." }</span>
            </div>
            <div class="set-inputs">
                <label class="button" for="probe-folder">{ "Probe a labelled folder…" }</label>
                <input id="probe-folder" class="visually-hidden" type="file" webkitdirectory=true multiple=true disabled={!props.ready || running} onchange={labelled} />
                <span class="hint">{ "a folder with one subfolder of images per class (or a labels.csv of file,label rows), such as Imagenette's val folder (fast.ai), near what the bundled models were trained on." }</span>
            </div>
            if let Some(set) = &props.dataset {
                { status(set, stop) }
                if set.kind == SetKind::Metrics && !set.measured.is_empty() {
                    <div class="set-exports">
                        <button class="set-csv" onclick={csv}>{ "Set CSV (every image)" }</button>
                        <button class="set-json" onclick={json}>{ "Set JSON" }</button>
                    </div>
                } else if matches!(set.probe, ProbeState::Done(_)) {
                    <div class="set-exports">
                        <button class="probe-csv" onclick={csv}>{ "Probe CSV" }</button>
                        <button class="probe-json" onclick={json}>{ "Probe JSON" }</button>
                    </div>
                }
            }
            if let Some(set) = props.dataset.as_ref().filter(|s| s.kind == SetKind::Probe) {
                <ProbeResults set={set.clone()} />
            }
            if let (Some(set), Some((summaries, svgs))) = (&props.dataset, &*charts) {
                <div class="charts">{ for svgs.iter().map(|(metric, svg)| figure(*metric, svg, set.measured.len(), summaries)) }</div>
            }
        </section>
    }
}

fn status(set: &Dataset, stop: Callback<MouseEvent>) -> Html {
    let (done, total) = (set.seen(), set.names.len());
    let skipped = match set.skipped.len() {
        0 => String::new(),
        n => format!(", {n} skipped"),
    };
    let state = match (&set.progress, set.seconds_left()) {
        (SetProgress::Running, Some(left)) => format!("Measuring (about {left:.0} s left)"),
        (SetProgress::Running, None) => "Measuring".to_string(),
        (SetProgress::Done, _) => "Done".to_string(),
        (SetProgress::Stopped(why), _) => format!("Stopped ({why})"),
    };
    let text = format!(
        "{state}: {} of {total} images measured{skipped}, {:.1} s in the worker.",
        set.measured.len(),
        set.millis / 1000.0
    );
    html! {
        <div class="set-status">
            <p role="status" data-measured={set.measured.len().to_string()} data-total={total.to_string()}>{ text }</p>
            <progress max={total.to_string()} value={done.to_string()} aria-label="images measured"></progress>
            if set.progress == SetProgress::Running {
                <button class="stop-set" onclick={stop}>{ "Stop" }</button>
            }
            if !set.skipped.is_empty() {
                <details class="skipped">
                    <summary>{ "Skipped" }</summary>
                    <ul>{ for set.skipped.iter().map(|(name, why)| html! { <li>{ format!("{name}: {why}") }</li> }) }</ul>
                </details>
            }
        </div>
    }
}

fn figure(metric: Metric, svg: &Result<String, String>, images: usize, summaries: &[SetSummary]) -> Html {
    let (title, axis, key) = (metric.title(), metric.axis(), metric.key());
    let chart = match svg {
        Ok(svg) => {
            html! { <div class="chart" aria-hidden="true">{ Html::from_html_unchecked(svg.clone().into()) }</div> }
        }
        Err(e) => html! { <p class="error">{ e }</p> },
    };
    let rows: Vec<_> = summaries.iter().map(|s| (&s.model, s.of(metric))).collect();
    let layers = rows.iter().map(|(_, (mean, _))| mean.len()).max().unwrap_or(0);
    html! {
        <figure class="metric set-metric" data-metric={key}>
            <figcaption>{ format!("{title} over {images} images") }</figcaption>
            { chart }
            <details class="numbers">
                <summary>{ format!("{title} over the set: mean (first–third quartile)") }</summary>
                <table>
                    <thead><tr><th scope="col">{ axis.label() }</th>{ for rows.iter().map(|(m, _)| html! { <th scope="col">{ m.name() }</th> }) }</tr></thead>
                    <tbody>
                        { for (0..layers).map(|l| html! {
                            <tr>
                                <th scope="row">{ axis.number(l) }</th>
                                { for rows.iter().map(|(m, (mean, q))| {
                                    let at = |v: &[f32]| v.get(l).copied().unwrap_or(f32::NAN);
                                    let (v, q1, q3) = (at(mean), at(&q.q1), at(&q.q3));
                                    html! {
                                        <td data-set-model={m.id.clone()} data-metric={key} data-layer={axis.number(l).to_string()}
                                            data-mean={v.to_string()} data-q1={q1.to_string()} data-q3={q3.to_string()}>
                                            { format!("{v:.4} ({q1:.4}–{q3:.4})") }
                                        </td>
                                    }
                                }) }
                            </tr>
                        }) }
                    </tbody>
                </table>
            </details>
        </figure>
    }
}
