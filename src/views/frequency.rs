//! Frequency view: a low- or high-pass filter on each model's input (run on the image the worker
//! keeps), the filtered image and its spectrum, and how each model's features and attention move
//! against the unfiltered run.

use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::Explain;
use crate::components::canvas::PictureCanvas;
use crate::components::chart::Chart;
use crate::components::model::ModelTitle;
use crate::figures::charts::ChartKind;
use crate::figures::maps::feature_change;
use crate::figures::picture::{Picture, Pixels};
use crate::store::handle::use_dispatch;
use crate::store::{Action, Analysis, Filter, View};

#[derive(Properties, PartialEq)]
pub struct FrequencyProps {
    pub analysis: Rc<Analysis>,
    pub filtered: Option<Rc<Analysis>>,
    pub filter: Filter,
}

#[function_component]
pub fn FrequencyView(props: &FrequencyProps) -> Html {
    let dispatch = use_dispatch();
    let filter = props.filter;
    let set_kind = |high_pass: bool| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: Event| dispatch.emit(Action::SetFilter(Filter { high_pass, ..filter })))
    };
    let cutoff = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlInputElement>().value_as_number() as f32;
            dispatch.emit(Action::SetFilter(Filter { cutoff: v.clamp(0.02, 1.0), ..filter }));
        })
    };
    let filtered = props.filtered.clone().filter(|f| f.models.len() == props.analysis.models.len());
    let panels = props.analysis.models.iter().enumerate().map(|(i, m)| {
        let after = filtered.as_ref().and_then(|f| f.models.iter().find(|x| x.info.id == m.info.id));
        let moved_last = after.and_then(|a| feature_change(m, a).last().copied());
        let (input_id, spectrum_id) = (format!("flt-{i}"), format!("spec-{i}"));
        let input_label = format!("{}'s input after the filter", m.info.name());
        let spectrum_label = "log-amplitude spectrum of the filtered input, zero frequency in the centre";
        // Until the filtered run arrives, the canvases hold their place empty.
        let (input, spectrum) = match after {
            Some(a) => {
                let pixels = |bytes: &Rc<Vec<u8>>| Pixels { bytes: bytes.clone(), size: a.size };
                (
                    html! { <PictureCanvas id={input_id} label={input_label} picture={Picture::Rgb(pixels(&a.input))} /> },
                    html! { <PictureCanvas id={spectrum_id} label={spectrum_label} picture={Picture::Gray(pixels(&a.spectrum))} /> },
                )
            }
            None => (
                html! { <canvas id={input_id} class="map" role="img" aria-label={input_label}></canvas> },
                html! { <canvas id={spectrum_id} class="map" role="img" aria-label={spectrum_label}></canvas> },
            ),
        };
        let canvases = html! {
            <>
                <figure>{ input }<figcaption>{ "filtered input" }</figcaption></figure>
                <figure>{ spectrum }<figcaption>{ "its spectrum" }</figcaption></figure>
            </>
        };
        html! {
            <article class="panel" data-model={m.info.id.clone()}>
                <ModelTitle info={m.info.clone()} />
                <div class="pair-canvases">{ canvases }</div>
                <p class="caption" data-feature-change={m.info.id.clone()} data-value={moved_last.map(|v| v.to_string()).unwrap_or_default()}>
                    { match moved_last { Some(v) => format!("Last-layer tokens vs the unfiltered run: mean cosine {v:.3}"), None => "Filtering…".into() } }
                </p>
            </article>
        }
    });
    html! {
        <section aria-labelledby="tab-frequency">
            <Explain view={View::Frequency} />
            <div class="view-controls">
                <fieldset class="control">
                    <legend>{ "Filter" }</legend>
                    <label><input type="radio" name="filter" checked={!filter.high_pass} onchange={set_kind(false)} />{ " low-pass (shapes)" }</label>
                    <label><input type="radio" name="filter" checked={filter.high_pass} onchange={set_kind(true)} />{ " high-pass (textures)" }</label>
                </fieldset>
                <label class="control">{ format!("Cut-off {:.2} × Nyquist", filter.cutoff) }
                    <input type="range" min="0.02" max="1" step="0.02" value={filter.cutoff.to_string()} onchange={cutoff} />
                </label>
            </div>
            <div class="panels">{ for panels }</div>
            if let Some(filtered) = filtered {
                <div class="charts">
                    <figure class="metric"><figcaption>{ "How much the tokens moved (1 = not at all)" }</figcaption>
                        <Chart kind={ChartKind::FeatureChange} analysis={props.analysis.clone()} filtered={Some(filtered.clone())} /></figure>
                    <figure class="metric"><figcaption>{ "Attention distance, original (solid) and filtered (dashed)" }</figcaption>
                        <Chart kind={ChartKind::FilteredDistance} analysis={props.analysis.clone()} filtered={Some(filtered)} /></figure>
                </div>
            }
        </section>
    }
}
