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
use crate::figures::maps::{attention_caption, attention_picture, attention_text, query_row, top_patches};
use crate::figures::picture::head_colour;
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
        let alt = attention_text(view, m, &picture);
        let body = if view.map == MapKind::Heads {
            let row = query_row(view.query, grid, snap).0;
            let layer = snap.shown_layer(view.layer);
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
        let legend = (view.map == MapKind::ClsHeads && snap.cls).then(|| head_legend(snap.heads));
        html! {
            <article class="panel" data-model={m.info.id.clone()}>
                <ModelTitle info={m.info.clone()} />
                { body }
                { for legend }
                <p class="caption">{ what.clone() }</p>
                <details class="numbers"><summary>{ "Numbers" }</summary><p data-map={m.info.id.clone()}>{ alt }</p></details>
            </article>
        }
    });
    let colorbar = match view.map {
        MapKind::Norms => html! { <Colorbar colormap={view.colormap} low="low token norm" high="high token norm" /> },
        MapKind::ClsHeads | MapKind::ClsMask => html! {},
        _ => html! { <Colorbar colormap={view.colormap} low="low attention" high="high attention" /> },
    };
    html! {
        <section aria-labelledby="tab-attention">
            <Explain view={View::Attention} />
            <div class="view-controls">
                <LayerControl layer={view.layer} depth={analysis.min_depth()} label="Layer" />
                if !matches!(view.map, MapKind::ClsHeads | MapKind::Norms | MapKind::Rollout) {
                    <HeadControl head={view.head} {heads} />
                }
                <MapControl map={view.map} />
                if !view.map.fixed_query() {
                    <QueryControls query={view.query} />
                }
                <ColormapControl colormap={view.colormap} />
            </div>
            if let Some(note) = map_note(view.map) {
                <p class="caption map-note">{ note }</p>
            }
            <div class="panels">{ for panels }</div>
            { colorbar }
        </section>
    }
}

/// Each head's colour, as a key under the head-colour map.
fn head_legend(heads: usize) -> Html {
    html! {
        <ul class="head-legend" aria-label="head colours">
            { for (0..heads).map(|h| {
                let [r, g, b] = head_colour(h);
                html! { <li><span class="swatch" style={format!("background: rgb({r},{g},{b})")}></span>{ format!("head {}", h + 1) }</li> }
            }) }
        </ul>
    }
}

/// What the field found, and what to look for, for the maps that are not the paper's.
fn map_note(map: MapKind) -> Option<&'static str> {
    match map {
        MapKind::ClsHeads => Some(
            "DINO (Caron et al., 2021) found that the CLS token's heads in a self-supervised ViT's last layer each attend to a different part of the object, so together they segment it without labels. Each patch takes the colour of the head that attends to it most; look for heads that split the object into parts.",
        ),
        MapKind::ClsMask => Some(
            "DINO's mask: the fewest patches that hold 60 % of the CLS token's attention. In DINO and in contrastive models it tends to cover the object; a masked-image model's CLS token is not trained, and its mask need not.",
        ),
        MapKind::Norms => Some(
            "Darcet et al. (2024) found that large ViTs trained long turn a few background patches into high-norm tokens that store global information and draw much of the attention (attention sinks); registers, extra tokens, take over that role. Outlined: patches above the median norm by 10 median absolute deviations; the text gives the share of attention they draw. Small models trained briefly usually have none.",
        ),
        MapKind::Query | MapKind::Heads | MapKind::Rollout => None,
    }
}
