//! A labelled set's probes under the metrics view: how well each layer's tokens name the images'
//! classes, for every model, with the numbers in a table and the protocol spelled out.

use std::rc::Rc;

use vitscope_protocol::probe::{Probe, protocol_text};
use yew::prelude::*;

use crate::figures::charts::probe_chart;
use crate::store::dataset::SetProgress;
use crate::store::handle::use_dispatch;
use crate::store::{Action, Dataset, ProbeState, Probed};

#[derive(Properties, PartialEq)]
pub struct ProbeProps {
    pub set: Rc<Dataset>,
}

#[function_component]
pub fn ProbeResults(props: &ProbeProps) -> Html {
    let dispatch = use_dispatch();
    let again = Callback::from(move |_| dispatch.emit(Action::ProbeAgain));
    let set = &props.set;
    let classes = set.classes.len();
    let body = match &set.probe {
        // Stopped by the worker (a restart, a fallback), not by the user: the measured images can
        // still be probed.
        ProbeState::NotYet if matches!(set.progress, SetProgress::Stopped(_)) => html! {
            <p class="probe-status" role="status">
                { "The set stopped before the probes ran. " }
                <button class="probe-again" onclick={again}>{ format!("Probe the {} measured images", set.measured.len()) }</button>
            </p>
        },
        ProbeState::NotYet => html! {
            <p class="probe-status" role="status">{ format!("{classes} classes; the probes run once the images are measured (or when you stop).") }</p>
        },
        ProbeState::Running(_) => html! {
            <p class="probe-status" role="status">{ format!("Probing every layer over {} images…", set.measured.len()) }</p>
        },
        ProbeState::Failed(why) => html! {
            <p class="probe-status error" role="status">
                { format!("No probe: {why}. ") }
                <button class="probe-again" onclick={again}>{ "Probe again" }</button>
            </p>
        },
        ProbeState::Done(probed) => results(probed),
    };
    html! {
        <section class="probe" aria-labelledby="probe-title">
            <h3 id="probe-title">{ "Per-layer probes" }</h3>
            <p class="caption">{ "What each layer knows about the classes: each image is left out in turn and named from the others' tokens, by its 20 nearest neighbours (kNN) and by a linear classifier. The paper (Fig. 10) found a contrastive model's linear probe rising to the last layer and a masked-image model's peaking in the middle layers and falling after: MIM's later layers turn back to pixels. Look for where each curve peaks; the dashed line is what always naming the largest class scores." }</p>
            { body }
        </section>
    }
}

fn results(probed: &Probed) -> Html {
    let charts = Probe::ALL.into_iter().filter(|&p| probed.models.iter().any(|(_, c)| p.curve(c).is_some()));
    let classes = probed.classes.iter().map(|(c, n)| format!("{c} ({n})")).collect::<Vec<_>>().join(", ");
    let best = probed.models.iter().filter_map(|(m, curves)| {
        let (probe, curve) =
            [Probe::LinearAvg, Probe::KnnCls, Probe::KnnAvg].into_iter().find_map(|p| Some((p, p.curve(curves)?)))?;
        let (layer, top) = curve.iter().enumerate().fold((0, f32::MIN), |b, (l, &a)| if a > b.1 { (l, a) } else { b });
        Some(format!(
            "{}: {} is highest at layer {} ({:.1} %)",
            m.name(),
            probe.title().to_lowercase(),
            layer + 1,
            100.0 * top
        ))
    });
    let no_linear = probed.models.iter().all(|(_, c)| c.linear_avg.is_none());
    html! {
        <>
            <p class="probe-status" role="status" data-probed={probed.images.to_string()}>
                { format!("Probed {} images of {} classes in {:.1} s: {classes}. ", probed.images, probed.classes.len(), probed.millis / 1000.0) }
                { best.collect::<Vec<_>>().join("; ") }
                { "." }
            </p>
            if no_linear {
                <p class="hint">{ "The linear probe runs when every class has at least 5 images." }</p>
            }
            <div class="charts">{ for charts.map(|p| figure(p, probed)) }</div>
            <p class="hint">{ format!("Protocol: {}.", protocol_text()) }</p>
        </>
    }
}

fn figure(probe: Probe, probed: &Probed) -> Html {
    let chart = match probe_chart(probe, probed).svg() {
        Ok(svg) => html! { <div class="chart" aria-hidden="true">{ Html::from_html_unchecked(svg.into()) }</div> },
        Err(e) => html! { <p class="error">{ e }</p> },
    };
    let rows: Vec<_> = probed.models.iter().filter_map(|(m, c)| Some((m, probe.curve(c)?))).collect();
    let layers = rows.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    html! {
        <figure class="metric probe-chart" data-probe={probe.key()}>
            <figcaption>{ format!("{} over {} images", probe.title(), probed.images) }</figcaption>
            { chart }
            <details class="numbers">
                <summary>{ format!("{}: accuracy (%) per layer", probe.title()) }</summary>
                <table>
                    <thead><tr><th scope="col">{ "layer" }</th>{ for rows.iter().map(|(m, _)| html! { <th scope="col">{ m.name() }</th> }) }</tr></thead>
                    <tbody>
                        { for (0..layers).map(|l| html! {
                            <tr>
                                <th scope="row">{ l + 1 }</th>
                                { for rows.iter().map(|(m, curve)| {
                                    let a = curve.get(l).copied().unwrap_or(f32::NAN);
                                    html! {
                                        <td data-probe-model={m.id.clone()} data-probe={probe.key()} data-layer={(l + 1).to_string()} data-accuracy={a.to_string()}>
                                            { format!("{:.1}", 100.0 * a) }
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
