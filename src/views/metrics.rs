//! Layer-metrics view: one chart per metric with every model on the same axes (this image's per-head
//! dots and mean, each model's dataset reference from its card, the paper's curve for the paper's own
//! models), and a table under each chart with the numbers. Settings never re-render it.

use std::rc::Rc;

use vitscope_protocol::Metric;
use yew::prelude::*;

use super::Explain;
use crate::components::chart::Chart;
use crate::figures::charts::{ChartKind, any_without_paper_curve, metric_rows};
use crate::store::{Analysis, View};

#[derive(Properties, PartialEq)]
pub struct MetricsProps {
    pub analysis: Rc<Analysis>,
}

#[function_component]
pub fn MetricsView(props: &MetricsProps) -> Html {
    let analysis = &props.analysis;
    let charts = Metric::CHARTED.into_iter().map(|metric| {
        let (title, axis, key) = (metric.title(), metric.axis(), metric.key());
        let rows = metric_rows(metric, analysis);
        let layers = rows.iter().map(|r| r.values.len()).max().unwrap_or(0);
        html! {
            <figure class="metric" data-metric={key}>
                <figcaption>{ title }</figcaption>
                <Chart kind={ChartKind::Metric(metric)} analysis={analysis.clone()} />
                <details class="numbers">
                    <summary>{ format!("{title}: numbers") }</summary>
                    <table>
                        <thead><tr><th scope="col">{ axis.label() }</th>{ for rows.iter().map(|r| html! { <th scope="col">{ &r.name }</th> }) }</tr></thead>
                        <tbody>
                            { for (0..layers).map(|l| html! {
                                <tr>
                                    <th scope="row">{ axis.number(l) }</th>
                                    { for rows.iter().map(|r| {
                                        let v = r.values.get(l).copied().unwrap_or(f32::NAN);
                                        html! { <td data-model={r.id.clone()} data-metric={key} data-layer={axis.number(l).to_string()} data-value={v.to_string()}>{ format!("{v:.4}") }</td> }
                                    }) }
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </details>
            </figure>
        }
    });
    html! {
        <section aria-labelledby="tab-metrics">
            <Explain view={View::Metrics} />
            if any_without_paper_curve(analysis) {
                <p class="caption">{ "Solid: this image. Dashed: the model's dataset average from its card, and the paper's published ViT-B/16 curves for the paper's own models only. Dots: single heads." }</p>
            }
            <div class="charts">{ for charts }</div>
        </section>
    }
}
