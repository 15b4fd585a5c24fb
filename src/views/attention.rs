//! Attention view: the selected query's attention (one head, the head mean, every head, or the
//! rollout) over each model's input. Click, hover or use the arrow keys on a canvas to move the query.

use std::rc::Rc;

use yew::prelude::*;

use super::Explain;
use crate::components::canvas::PictureCanvas;
use crate::components::colorbar::Colorbar;
use crate::components::controls::{ColormapControl, HeadControl, LayerControl, MapControl, QueryControls};
use crate::components::model::ModelTitle;
use crate::components::query::query_handlers;
use crate::figures::maps::{attention_caption, attention_picture, query_row, top_patches};
use crate::store::handle::use_dispatch;
use crate::store::{Analysis, MapKind, View, ViewState};

#[derive(Properties, PartialEq)]
pub struct AttentionProps {
    pub analysis: Rc<Analysis>,
    pub view: ViewState,
}

#[function_component]
pub fn AttentionView(props: &AttentionProps) -> Html {
    let dispatch = use_dispatch();
    let (analysis, view) = (&props.analysis, &props.view);
    let heads = analysis.models.iter().map(|m| m.info.heads).max().unwrap_or(1);
    let grid = analysis.reference_grid();
    let handlers = query_handlers(grid, view.query, &dispatch);
    let what = attention_caption(view);
    let panels = analysis.models.iter().enumerate().map(|(i, m)| {
        let (snap, name) = (&m.snapshot, m.info.name());
        let picture = attention_picture(view, grid, m, view.head);
        let alt = format!("{name} {what}: strongest patches {}", top_patches(picture.heat(), snap.grid, 5));
        let body = if view.map == MapKind::Heads {
            let row = query_row(view.query, grid, snap).0;
            let layer = view.layer.min(snap.depth - 1);
            html! {
                <div class="head-grid">
                    { for (0..snap.heads).map(|h| {
                        let label = format!("{name} head {}: {}", h + 1, top_patches(&snap.attention_map(layer, Some(h), row), snap.grid, 3));
                        html! {
                            <figure>
                                <PictureCanvas id={format!("att-{i}-h{h}")} class={classes!("map", "small")} label={label}
                                    picture={attention_picture(view, grid, m, Some(h))}
                                    onclick={handlers.click.clone()} onkeydown={handlers.keys.clone()} />
                                <figcaption>{ format!("head {}", h + 1) }</figcaption>
                            </figure>
                        }
                    }) }
                </div>
            }
        } else {
            html! {
                <PictureCanvas id={format!("att-{i}")} label={alt.clone()} {picture} onclick={handlers.click.clone()}
                    onmousemove={handlers.hover.clone()} onkeydown={handlers.keys.clone()} />
            }
        };
        html! {
            <article class="panel" data-model={m.info.id.clone()}>
                <ModelTitle info={m.info.clone()} />
                { body }
                <p class="caption">{ what.clone() }</p>
                <details class="numbers"><summary>{ "Numbers" }</summary><p data-map={m.info.id.clone()}>{ alt }</p></details>
            </article>
        }
    });
    html! {
        <section aria-labelledby="tab-attention">
            <Explain view={View::Attention} />
            <div class="view-controls">
                <LayerControl layer={view.layer} depth={analysis.min_depth()} label="Layer" />
                <HeadControl head={view.head} {heads} />
                <MapControl map={view.map} />
                <QueryControls query={view.query} />
                <ColormapControl colormap={view.colormap} />
            </div>
            <div class="panels">{ for panels }</div>
            <Colorbar colormap={view.colormap} low="low attention" high="high attention" />
        </section>
    }
}
