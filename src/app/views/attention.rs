//! Attention view: the selected query's attention (one head, the head mean, every head, or the
//! rollout) over each model's input. Click, hover or use the arrow keys on a canvas to move the query.

use web_sys::{KeyboardEvent, MouseEvent};
use yew::html::Scope;
use yew::prelude::*;

use super::super::component::{Analysis, App, Msg};
use super::super::draw;
use super::super::state::{Colormap, MapKind, Query, View};
use super::{canvas, explain, family_badge, pair};
use crate::analysis::Snapshot;

/// The token row of the query in a model with this grid (queries are kept in the first model's grid).
pub fn query_row(query: Query, reference_grid: usize, snapshot: &Snapshot) -> (usize, Option<(usize, usize)>) {
    match query {
        Query::Cls => (0, None),
        Query::Patch { row, col } => {
            let g = snapshot.grid;
            let (r, c) = ((row * g / reference_grid.max(1)).min(g - 1), (col * g / reference_grid.max(1)).min(g - 1));
            (snapshot.prefix + r * g + c, Some((r, c)))
        }
    }
}

pub fn reference_grid(analysis: &Analysis) -> usize {
    analysis.models.first().map_or(14, |m| m.snapshot.grid)
}

/// The map a canvas shows, for the current state.
pub fn current_map(app: &App, analysis: &Analysis, snapshot: &Snapshot, head: Option<usize>) -> Vec<f32> {
    let (row, _) = query_row(app.state.query, reference_grid(analysis), snapshot);
    match app.state.map {
        MapKind::Rollout => snapshot.rollout_map(row),
        _ => snapshot.attention_map(app.state.layer.min(snapshot.depth - 1), head, row),
    }
}

pub fn layer_control(app: &App, link: &Scope<App>, depth: usize, label: &str) -> Html {
    let oninput = link.callback(|e: InputEvent| {
        let v = e.target_unchecked_into::<web_sys::HtmlInputElement>().value_as_number() as usize;
        Msg::Set(Box::new(move |s| s.layer = v.saturating_sub(1)))
    });
    html! {
        <label class="control">{ format!("{label} {}", app.state.layer + 1) }
            <input type="range" min="1" max={depth.to_string()} value={(app.state.layer + 1).to_string()} {oninput}
                aria-valuetext={format!("{label} {} of {depth}", app.state.layer + 1)} />
        </label>
    }
}

pub fn colormap_control(app: &App, link: &Scope<App>) -> Html {
    let onchange = link.callback(|e: Event| {
        let v = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
        let c = Colormap::ALL.into_iter().find(|c| c.key() == v).unwrap_or(Colormap::Viridis);
        Msg::Set(Box::new(move |s| s.colormap = c))
    });
    html! {
        <label class="control">{ "Colours" }
            <select {onchange}>
                { for Colormap::ALL.iter().map(|c| html! { <option value={c.key()} selected={*c == app.state.colormap}>{ c.key() }</option> }) }
            </select>
        </label>
    }
}

pub fn query_controls(app: &App, link: &Scope<App>) -> Html {
    let cls = app.state.query == Query::Cls;
    let toggle = link.callback(move |_| {
        Msg::Set(Box::new(move |s| s.query = if cls { Query::Patch { row: 7, col: 7 } } else { Query::Cls }))
    });
    let text = match app.state.query {
        Query::Cls => "Query: CLS token".to_string(),
        Query::Patch { row, col } => format!("Query: patch row {}, column {}", row + 1, col + 1),
    };
    html! {
        <span class="control">
            <span class="query-text">{ text }</span>
            <button aria-pressed={cls.to_string()} onclick={toggle}>{ "CLS query" }</button>
        </span>
    }
}

/// Arrow keys move the query one patch; Home selects the CLS query.
pub fn key_to_query(e: &KeyboardEvent, grid: usize) -> Option<Msg> {
    let (dr, dc): (i64, i64) = match e.key().as_str() {
        "ArrowUp" => (-1, 0),
        "ArrowDown" => (1, 0),
        "ArrowLeft" => (0, -1),
        "ArrowRight" => (0, 1),
        "Home" => {
            e.prevent_default();
            return Some(Msg::Set(Box::new(|s| s.query = Query::Cls)));
        }
        _ => return None,
    };
    e.prevent_default();
    let g = grid as i64;
    Some(Msg::Set(Box::new(move |s| {
        let (row, col) = match s.query {
            Query::Patch { row, col } => (row as i64, col as i64),
            Query::Cls => (g / 2, g / 2),
        };
        s.query = Query::Patch { row: (row + dr).clamp(0, g - 1) as usize, col: (col + dc).clamp(0, g - 1) as usize };
    })))
}

/// Canvas events → query (click, hover and keys), in the reference grid.
pub fn interactive(
    link: &Scope<App>,
    grid: usize,
) -> (Callback<MouseEvent>, Callback<MouseEvent>, Callback<KeyboardEvent>) {
    let pick = move |e: &MouseEvent| {
        let target: web_sys::HtmlElement = e.target_unchecked_into();
        let (w, h) = (target.client_width().max(1) as f64, target.client_height().max(1) as f64);
        let col = ((e.offset_x() as f64 / w) * grid as f64).floor().clamp(0.0, grid as f64 - 1.0) as usize;
        let row = ((e.offset_y() as f64 / h) * grid as f64).floor().clamp(0.0, grid as f64 - 1.0) as usize;
        Query::Patch { row, col }
    };
    let click = link.callback(move |e: MouseEvent| {
        let q = pick(&e);
        Msg::Set(Box::new(move |s| s.query = q))
    });
    let hover = link.batch_callback(move |e: MouseEvent| {
        // Only with no button down or with the primary one: a drag paints the query along.
        let q = pick(&e);
        (e.buttons() <= 1).then(|| {
            Msg::Set(Box::new(move |s: &mut super::super::state::ViewState| {
                if s.query != q {
                    s.query = q
                }
            }))
        })
    });
    let keys = link.batch_callback(move |e: KeyboardEvent| key_to_query(&e, grid));
    (click, hover, keys)
}

fn top_patches(map: &[f32], grid: usize, n: usize) -> String {
    let mut order: Vec<usize> = (0..map.len()).collect();
    order.sort_by(|&a, &b| map[b].total_cmp(&map[a]));
    order
        .iter()
        .take(n)
        .map(|&i| format!("row {} col {}: {:.3}", i / grid + 1, i % grid + 1, map[i]))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn view(app: &App, analysis: &Analysis, link: &Scope<App>) -> Html {
    let models = pair(app, analysis);
    let depth = models.iter().map(|(i, _)| i.depth).min().unwrap_or(1);
    let heads = models.iter().map(|(i, _)| i.heads).max().unwrap_or(1);
    let grid = reference_grid(analysis);
    let (click, hover, keys) = interactive(link, grid);
    let head_change = link.callback(|e: Event| {
        let v = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
        let h = v.parse::<usize>().ok();
        Msg::Set(Box::new(move |s| s.head = h))
    });
    let map_change = link.callback(|e: Event| {
        let v = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
        let m = [MapKind::Query, MapKind::Heads, MapKind::Rollout]
            .into_iter()
            .find(|m| m.key() == v)
            .unwrap_or(MapKind::Query);
        Msg::Set(Box::new(move |s| s.map = m))
    });
    let panels = models.iter().enumerate().map(|(i, (info, m))| {
        let snap = &m.snapshot;
        let map = current_map(app, analysis, snap, app.state.head);
        let what = match app.state.map {
            MapKind::Rollout => "attention rollout through all layers".to_string(),
            _ => format!("layer {} attention, {}", app.state.layer + 1, app.state.head.map_or("mean of heads".into(), |h| format!("head {}", h + 1))),
        };
        let alt = format!("{} {}: strongest patches {}", info.name, what, top_patches(&map, snap.grid, 5));
        let body = if app.state.map == MapKind::Heads {
            html! {
                <div class="head-grid">
                    { for (0..snap.heads).map(|h| html! {
                        <figure>
                            <canvas id={format!("att-{i}-h{h}")} class="map small" role="img" tabindex="0"
                                aria-label={format!("{} head {}: {}", info.name, h + 1, top_patches(&snap.attention_map(app.state.layer.min(snap.depth - 1), Some(h), query_row(app.state.query, grid, snap).0), snap.grid, 3))}
                                onclick={click.clone()} onkeydown={keys.clone()}></canvas>
                            <figcaption>{ format!("head {}", h + 1) }</figcaption>
                        </figure>
                    }) }
                </div>
            }
        } else {
            html! {
                <canvas id={format!("att-{i}")} class="map" role="img" tabindex="0" aria-label={alt.clone()}
                    onclick={click.clone()} onmousemove={hover.clone()} onkeydown={keys.clone()}></canvas>
            }
        };
        html! {
            <article class="panel" data-model={info.id.clone()}>
                <h3>{ &info.name }{ " " }{ family_badge(info) }</h3>
                { body }
                <p class="caption">{ what }</p>
                <details class="numbers"><summary>{ "Numbers" }</summary><p data-map={info.id.clone()}>{ alt }</p></details>
            </article>
        }
    });
    html! {
        <section aria-labelledby="tab-attention">
            { explain(View::Attention) }
            <div class="view-controls">
                { layer_control(app, link, depth, "Layer") }
                <label class="control">{ "Head" }
                    <select onchange={head_change}>
                        <option value="mean" selected={app.state.head.is_none()}>{ "mean of heads" }</option>
                        { for (0..heads).map(|h| html! { <option value={h.to_string()} selected={app.state.head == Some(h)}>{ format!("head {}", h + 1) }</option> }) }
                    </select>
                </label>
                <label class="control">{ "Show" }
                    <select onchange={map_change}>
                        <option value="query" selected={app.state.map == MapKind::Query}>{ "query attention" }</option>
                        <option value="heads" selected={app.state.map == MapKind::Heads}>{ "all heads" }</option>
                        <option value="rollout" selected={app.state.map == MapKind::Rollout}>{ "rollout" }</option>
                    </select>
                </label>
                { query_controls(app, link) }
                { colormap_control(app, link) }
            </div>
            <div class="panels">{ for panels }</div>
            { super::metrics::colorbar(app.state.colormap, "low attention", "high attention") }
        </section>
    }
}

pub fn paint(app: &App, analysis: &Analysis) {
    let grid = reference_grid(analysis);
    for (i, (_, m)) in pair(app, analysis).iter().enumerate() {
        let snap = &m.snapshot;
        let (row, marker) = query_row(app.state.query, grid, snap);
        if app.state.map == MapKind::Heads {
            for h in 0..snap.heads {
                if let Some(c) = canvas(&format!("att-{i}-h{h}")) {
                    let map = snap.attention_map(app.state.layer.min(snap.depth - 1), Some(h), row);
                    draw::overlay(
                        &c,
                        &m.input,
                        m.size,
                        &draw::Heat { map: &map, grid: snap.grid, colormap: app.state.colormap, marker },
                    );
                }
            }
        } else if let Some(c) = canvas(&format!("att-{i}")) {
            let map = current_map(app, analysis, snap, app.state.head);
            draw::overlay(
                &c,
                &m.input,
                m.size,
                &draw::Heat { map: &map, grid: snap.grid, colormap: app.state.colormap, marker },
            );
        }
    }
}
