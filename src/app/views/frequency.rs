//! Frequency view: a low- or high-pass filter on each model's input, the filtered image and its
//! spectrum, and how each model's features and attention move against the unfiltered run.

use yew::html::Scope;
use yew::prelude::*;

use super::super::component::{Analysis, App, Msg};
use super::super::draw;
use super::super::state::View;
use super::metrics::chart;
use super::{canvas, explain, family_badge, pair};
use crate::analysis::LayerMetrics;
use crate::analysis::Snapshot;
use crate::charts::{Series, line_chart};

/// Per depth: mean over patches of cos(z[i], z′[i]) between two runs' tokens (1 = unchanged).
pub fn feature_change(a: &Snapshot, b: &Snapshot) -> Vec<f32> {
    let (n, c) = (a.patches(), a.channels);
    (0..=a.depth)
        .map(|d| {
            let (x, y) = (&a.tokens[d * n * c..(d + 1) * n * c], &b.tokens[d * n * c..(d + 1) * n * c]);
            x.chunks_exact(c)
                .zip(y.chunks_exact(c))
                .map(|(p, q)| p.iter().zip(q).map(|(u, v)| u * v).sum::<f32>())
                .sum::<f32>()
                / n as f32
        })
        .collect()
}

pub fn view(app: &App, analysis: &Analysis, link: &Scope<App>) -> Html {
    let models = pair(app, analysis);
    let filter = app.state.filter;
    let set_kind = |high: bool| {
        link.batch_callback(move |_: Event| {
            vec![Msg::Set(Box::new(move |s| s.filter.high_pass = high)), Msg::RunFilter]
        })
    };
    let cutoff = link.batch_callback(|e: Event| {
        let v = e.target_unchecked_into::<web_sys::HtmlInputElement>().value_as_number() as f32;
        vec![Msg::Set(Box::new(move |s| s.filter.cutoff = v.clamp(0.02, 1.0))), Msg::RunFilter]
    });
    let filtered = app.filtered.clone().filter(|f| f.models.len() == analysis.models.len());
    let mut change = Vec::new();
    let mut distance = Vec::new();
    let panels = models.iter().enumerate().map(|(i, (info, m))| {
        let after = filtered.as_ref().and_then(|f| f.models.iter().find(|x| x.id == m.id));
        let mut moved_last = None;
        if let Some(after) = after {
            let moved = feature_change(&m.snapshot, &after.snapshot);
            moved_last = moved.last().copied();
            change.push(Series {
                label: format!("{} ({})", info.name, info.family),
                line: moved.iter().enumerate().map(|(d, &v)| (d as f64, v as f64)).collect(),
                dots: Vec::new(),
                dashed: false,
                color: None,
            });
            for (run, dashed, s) in [("original", false, &m.snapshot), ("filtered", true, &after.snapshot)] {
                distance.push(Series {
                    label: format!("{} ({run})", info.name),
                    line: LayerMetrics::layer_means(&s.metrics.attention_distance).iter().enumerate().map(|(l, &v)| ((l + 1) as f64, v as f64)).collect(),
                    dots: Vec::new(),
                    dashed,
                    color: Some(i),
                });
            }
        }
        html! {
            <article class="panel" data-model={info.id.clone()}>
                <h3>{ &info.name }{ " " }{ family_badge(info) }</h3>
                <div class="pair-canvases">
                    <figure><canvas id={format!("flt-{i}")} class="map" role="img" aria-label={format!("{}'s input after the filter", info.name)}></canvas><figcaption>{ "filtered input" }</figcaption></figure>
                    <figure><canvas id={format!("spec-{i}")} class="map" role="img" aria-label="log-amplitude spectrum of the filtered input, zero frequency in the centre"></canvas><figcaption>{ "its spectrum" }</figcaption></figure>
                </div>
                <p class="caption" data-feature-change={info.id.clone()} data-value={moved_last.map(|v| v.to_string()).unwrap_or_default()}>
                    { match moved_last { Some(v) => format!("Last-layer tokens vs the unfiltered run: mean cosine {v:.3}"), None => "Filtering…".into() } }
                </p>
            </article>
        }
    }).collect::<Vec<_>>();
    html! {
        <section aria-labelledby="tab-frequency">
            { explain(View::Frequency) }
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
            if !change.is_empty() {
                <div class="charts">
                    <figure class="metric"><figcaption>{ "How much the tokens moved (1 = not at all)" }</figcaption>
                        { chart(line_chart("Mean cosine, filtered vs original tokens", "depth (0 = embedding)", "cosine", &change, (640, 360))) }</figure>
                    <figure class="metric"><figcaption>{ "Attention distance, original (solid) and filtered (dashed)" }</figcaption>
                        { chart(line_chart("Mean attention distance", "layer", "pixels", &distance, (640, 360))) }</figure>
                </div>
            }
        </section>
    }
}

pub fn paint(app: &App, analysis: &Analysis) {
    let Some(filtered) = app.filtered.clone() else { return };
    for (i, (_, m)) in pair(app, analysis).iter().enumerate() {
        let Some(after) = filtered.models.iter().find(|x| x.id == m.id) else { continue };
        if let Some(c) = canvas(&format!("flt-{i}")) {
            draw::rgb(&c, &after.input, after.size);
        }
        if let Some(c) = canvas(&format!("spec-{i}")) {
            draw::gray(&c, &after.spectrum, after.size);
        }
    }
}
