//! Layer-metrics view: one chart per metric with every model on the same axes: this image's values
//! (per-head dots and the mean), each model's dataset reference from its card, and the paper's
//! published curve where the model is the paper's. A table under each chart has the numbers.

use yew::html::Scope;
use yew::prelude::*;

use super::super::component::{Analysis, App};
use super::super::state::{Colormap, View};
use super::{explain, pair};
use crate::analysis::paper;
use crate::analysis::report::{METRICS, layer_number, x_label};
use crate::charts::{Series, line_chart};
use crate::weights::{Curve, ModelCard};
use crate::worker::protocol::ModelInfo;

/// The paper's models are ViT-B/16 MoCo v3 and SimMIM: only those get the published curves.
fn paper_model(info: &ModelInfo, card: Option<&ModelCard>) -> Option<&'static str> {
    let layout = card.map(|c| c.source.layout.as_str()).unwrap_or("");
    match (layout, info.width, info.patch_size) {
        ("mocov3", 768, 16) => Some("MoCo v3 ViT-B/16 (paper)"),
        ("simmim", 768, 16) => Some("SimMIM ViT-B/16 (paper)"),
        _ => None,
    }
}

fn series(label: String, curve: &Curve, metric: &str, dashed: bool, dots: bool, color: usize) -> Series {
    let x = |i: usize| layer_number(metric, i) as f64;
    Series {
        label,
        line: curve.mean.iter().enumerate().map(|(i, &v)| (x(i), v as f64)).collect(),
        dots: if dots {
            curve.per_head.iter().enumerate().flat_map(|(i, h)| h.iter().map(move |&v| (x(i), v as f64))).collect()
        } else {
            Vec::new()
        },
        dashed,
        color: Some(color),
    }
}

pub fn chart(svg: Result<String, String>) -> Html {
    match svg {
        Ok(svg) => html! { <div class="chart" aria-hidden="true">{ Html::from_html_unchecked(svg.into()) }</div> },
        Err(e) => html! { <p class="error">{ e }</p> },
    }
}

pub fn view(app: &App, analysis: &Analysis, _link: &Scope<App>) -> Html {
    let models = pair(app, analysis);
    let cards: Vec<Option<ModelCard>> = models.iter().map(|(i, _)| serde_json::from_str(&i.card_json).ok()).collect();
    let charts = METRICS.iter().filter(|(k, _, _)| *k != "head_similarity").map(|&(metric, title, unit)| {
        let mut all = Vec::new();
        let mut rows: Vec<(String, String, Vec<f32>)> = Vec::new();
        for (k, ((info, m), card)) in models.iter().zip(&cards).enumerate() {
            let curves = m.snapshot.metrics.curves(m.snapshot.grid);
            if let Some(curve) = curves.get(metric) {
                all.push(series(format!("{} ({}): this image", info.name, info.family), curve, metric, false, metric != "delta_log_amplitude", k));
                rows.push((info.id.clone(), info.name.clone(), curve.mean.clone()));
            }
            if let Some(reference) = card.as_ref().and_then(|c| c.reference_curves.as_ref())
                && let Some(curve) = reference.curves.get(metric)
            {
                all.push(series(format!("{}: {} mean", info.name, reference.dataset), curve, metric, true, false, k));
            }
            if let Some(name) = paper_model(info, card.as_ref()) {
                all.extend(
                    paper::curves_for(metric).filter(|p| p.model == name).map(|p| Series::paper(p, Some(models.len() + 2))),
                );
            }
        }
        let layers = rows.iter().map(|r| r.2.len()).max().unwrap_or(0);
        html! {
            <figure class="metric" data-metric={metric}>
                <figcaption>{ title }</figcaption>
                { chart(line_chart(title, x_label(metric), unit, &all, (640, 400))) }
                <details class="numbers">
                    <summary>{ format!("{title}: numbers") }</summary>
                    <table>
                        <thead><tr><th scope="col">{ x_label(metric) }</th>{ for rows.iter().map(|r| html! { <th scope="col">{ &r.1 }</th> }) }</tr></thead>
                        <tbody>
                            { for (0..layers).map(|l| html! {
                                <tr>
                                    <th scope="row">{ layer_number(metric, l) }</th>
                                    { for rows.iter().map(|r| {
                                        let v = r.2.get(l).copied().unwrap_or(f32::NAN);
                                        html! { <td data-model={r.0.clone()} data-metric={metric} data-layer={layer_number(metric, l).to_string()} data-value={v.to_string()}>{ format!("{v:.4}") }</td> }
                                    }) }
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </details>
            </figure>
        }
    });
    let note = if models.iter().zip(&cards).any(|((i, _), c)| paper_model(i, c.as_ref()).is_none()) {
        Some(
            html! { <p class="caption">{ "Solid: this image. Dashed: the model's dataset average from its card, and the paper's published ViT-B/16 curves for the paper's own models only. Dots: single heads." }</p> },
        )
    } else {
        None
    };
    html! {
        <section aria-labelledby="tab-metrics">
            { explain(View::Metrics) }
            { note }
            <div class="charts">{ for charts }</div>
        </section>
    }
}

/// A horizontal legend for a colormap.
pub fn colorbar(colormap: Colormap, low: &str, high: &str) -> Html {
    let stops: Vec<String> = (0..=10)
        .map(|i| {
            let [r, g, b] = colormap.rgb(i as f32 / 10.0);
            format!("rgb({r},{g},{b}) {}%", i * 10)
        })
        .collect();
    html! {
        <div class="colorbar" aria-hidden="true">
            <span>{ low }</span>
            <span class="bar" style={format!("background: linear-gradient(to right, {})", stops.join(", "))}></span>
            <span>{ high }</span>
        </div>
    }
}
