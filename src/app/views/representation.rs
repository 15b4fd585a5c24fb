//! Representation view: how alike the selected token is to every other token, PCA colours of the
//! patch tokens, and the token SVD spectrum, at the chosen layer.

use yew::html::Scope;
use yew::prelude::*;

use super::super::component::{Analysis, App};
use super::super::draw;
use super::super::state::View;
use super::attention::{colormap_control, interactive, layer_control, query_controls, query_row, reference_grid};
use super::metrics::{chart, colorbar};
use super::{canvas, explain, family_badge, pair};
use crate::charts::{Series, line_chart};

/// Depth of the tokens shown: after block `layer` (1-based on screen = depth).
fn depth(app: &App, depth_max: usize) -> usize {
    (app.state.layer + 1).min(depth_max)
}

/// The selected patch's similarity map (for the CLS query, the centre patch: the CLS token itself is
/// not a patch).
fn similarity(app: &App, analysis: &Analysis, m: &crate::worker::protocol::ModelAnalysis) -> (Vec<f32>, usize) {
    let snap = &m.snapshot;
    let (row, _) = query_row(app.state.query, reference_grid(analysis), snap);
    let patch = if row < snap.prefix { snap.patches() / 2 + snap.grid / 2 } else { row - snap.prefix };
    (snap.query_similarity(depth(app, snap.depth), patch), patch)
}

pub fn view(app: &App, analysis: &Analysis, link: &Scope<App>) -> Html {
    let models = pair(app, analysis);
    let depth_max = models.iter().map(|(i, _)| i.depth).min().unwrap_or(1);
    let (click, hover, keys) = interactive(link, reference_grid(analysis));
    let spectra: Vec<Series> = models
        .iter()
        .map(|(info, m)| {
            let s = &m.snapshot.spectrum[depth(app, m.snapshot.depth)];
            Series {
                label: format!("{} ({})", info.name, info.family),
                line: s.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v as f64)).collect(),
                dots: Vec::new(),
                dashed: false,
                color: None,
            }
        })
        .collect();
    let panels = models.iter().enumerate().map(|(i, (info, m))| {
        let (sim, patch) = similarity(app, analysis, m);
        let mean = sim.iter().sum::<f32>() / sim.len().max(1) as f32;
        let g = m.snapshot.grid;
        let alt = format!(
            "{}: cosine similarity of patch row {} col {} to all patches after block {}: mean {mean:.3}, min {:.3}",
            info.name,
            patch / g + 1,
            patch % g + 1,
            depth(app, m.snapshot.depth),
            sim.iter().copied().fold(f32::MAX, f32::min)
        );
        html! {
            <article class="panel" data-model={info.id.clone()}>
                <h3>{ &info.name }{ " " }{ family_badge(info) }</h3>
                <div class="pair-canvases">
                    <figure>
                        <canvas id={format!("sim-{i}")} class="map" role="img" tabindex="0" aria-label={alt.clone()}
                            onclick={click.clone()} onmousemove={hover.clone()} onkeydown={keys.clone()}></canvas>
                        <figcaption>{ "similarity to the selected token" }</figcaption>
                    </figure>
                    <figure>
                        <canvas id={format!("pca-{i}")} class="map pixelated" role="img"
                            aria-label={format!("{}: the patch tokens' top three principal components as red, green and blue", info.name)}></canvas>
                        <figcaption>{ "PCA of the tokens as RGB" }</figcaption>
                    </figure>
                </div>
                <details class="numbers"><summary>{ "Numbers" }</summary><p data-similarity={info.id.clone()} data-mean={mean.to_string()}>{ alt }</p></details>
            </article>
        }
    });
    html! {
        <section aria-labelledby="tab-representation">
            { explain(View::Representation) }
            <div class="view-controls">
                { layer_control(app, link, depth_max, "After block") }
                { query_controls(app, link) }
                { colormap_control(app, link) }
            </div>
            <div class="panels">{ for panels }</div>
            { colorbar(app.state.colormap, "least similar", "most similar") }
            <figure class="metric">
                <figcaption>{ format!("Token covariance spectrum after block {}", app.state.layer + 1) }</figcaption>
                { chart(line_chart("Token SVD spectrum", "component", "ln singular value", &spectra, (640, 360))) }
            </figure>
        </section>
    }
}

pub fn paint(app: &App, analysis: &Analysis) {
    for (i, (_, m)) in pair(app, analysis).iter().enumerate() {
        let snap = &m.snapshot;
        let (sim, patch) = similarity(app, analysis, m);
        if let Some(c) = canvas(&format!("sim-{i}")) {
            draw::overlay(
                &c,
                &m.input,
                m.size,
                &draw::Heat {
                    map: &sim,
                    grid: snap.grid,
                    colormap: app.state.colormap,
                    marker: Some((patch / snap.grid, patch % snap.grid)),
                },
            );
        }
        if let Some(c) = canvas(&format!("pca-{i}")) {
            draw::rgb(&c, &snap.pca_rgb[depth(app, snap.depth)], snap.grid as u32);
        }
    }
}
