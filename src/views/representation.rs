//! Representation view: how alike the selected token is to every other token, PCA colours of the
//! patch tokens, and the token SVD spectrum, at the chosen layer.

use std::rc::Rc;

use yew::prelude::*;

use super::Explain;
use crate::components::canvas::PictureCanvas;
use crate::components::chart::Chart;
use crate::components::colorbar::Colorbar;
use crate::components::controls::{ColormapControl, LayerControl, QueryControls};
use crate::components::model::ModelTitle;
use crate::components::query::query_handlers;
use crate::figures::charts::ChartKind;
use crate::figures::maps::{foreground_picture, foreground_text, pca_picture, similarity_picture, token_depth};
use crate::store::handle::use_dispatch;
use crate::store::{Analysis, View, ViewState};

#[derive(Properties, PartialEq)]
pub struct RepresentationProps {
    pub analysis: Rc<Analysis>,
    pub view: ViewState,
}

#[function_component]
pub fn RepresentationView(props: &RepresentationProps) -> Html {
    let dispatch = use_dispatch();
    let (analysis, view) = (&props.analysis, &props.view);
    let grid = analysis.reference_grid();
    let handlers = query_handlers(grid, view.query, &dispatch);
    let panels = analysis.models.iter().enumerate().map(|(i, m)| {
        let (name, g) = (m.info.name(), m.snapshot.grid);
        let similarity = similarity_picture(view, grid, m);
        let sim = similarity.heat();
        let patch = match &similarity {
            crate::figures::picture::Picture::Overlay { marker: Some((r, c)), .. } => r * g + c,
            _ => 0,
        };
        let mean = sim.iter().sum::<f32>() / sim.len().max(1) as f32;
        let alt = format!(
            "{name}: cosine similarity of patch row {} col {} to all patches after block {}: mean {mean:.3}, min {:.3}",
            patch / g + 1,
            patch % g + 1,
            token_depth(view, m.snapshot.depth),
            sim.iter().copied().fold(f32::MAX, f32::min)
        );
        let foreground = foreground_text(view, m);
        let pca_label = format!("{name}: the patch tokens' top three principal components as red, green and blue");
        html! {
            <article class="panel" data-model={m.info.id.clone()}>
                <ModelTitle info={m.info.clone()} />
                <div class="pair-canvases">
                    <figure>
                        <PictureCanvas id={format!("sim-{i}")} label={alt.clone()} picture={similarity.clone()}
                            onclick={handlers.click.clone()} onmousemove={handlers.hover.clone()} onkeydown={handlers.keys.clone()} />
                        <figcaption>{ "similarity to the selected token" }</figcaption>
                    </figure>
                    <figure>
                        <PictureCanvas id={format!("pca-{i}")} class={classes!("map", "pixelated")} label={pca_label}
                            picture={pca_picture(view, m)} />
                        <figcaption>{ "PCA of the tokens as RGB" }</figcaption>
                    </figure>
                    <figure>
                        <PictureCanvas id={format!("fg-pca-{i}")} class={classes!("map", "pixelated")} label={foreground.clone()}
                            picture={foreground_picture(view, m)} />
                        <figcaption>{ "PCA of the foreground (DINOv2)" }</figcaption>
                    </figure>
                </div>
                <details class="numbers"><summary>{ "Numbers" }</summary>
                    <p data-similarity={m.info.id.clone()} data-mean={mean.to_string()}>{ alt }</p>
                    <p data-foreground={m.info.id.clone()}>{ foreground }</p>
                </details>
            </article>
        }
    });
    html! {
        <section aria-labelledby="tab-representation">
            <Explain view={View::Representation} />
            <div class="view-controls">
                <LayerControl layer={view.layer} depth={analysis.min_depth()} label="After block" />
                <QueryControls query={view.query} />
                <ColormapControl colormap={view.colormap} />
            </div>
            <div class="panels">{ for panels }</div>
            <Colorbar colormap={view.colormap} low="least similar" high="most similar" />
            <figure class="metric">
                <figcaption>{ format!("Token covariance spectrum after block {}", view.layer + 1) }</figcaption>
                <Chart kind={ChartKind::Spectrum { layer: view.layer }} analysis={analysis.clone()} />
            </figure>
        </section>
    }
}
