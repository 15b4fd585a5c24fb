//! The view settings: layer slider, head and map menus, colours, and the query's text and CLS toggle.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::store::handle::use_dispatch;
use crate::store::{Action, Colormap, MapKind, Query};

#[derive(Properties, PartialEq)]
pub struct LayerProps {
    /// 0-based.
    pub layer: usize,
    pub depth: usize,
    pub label: AttrValue,
}

#[function_component]
pub fn LayerControl(props: &LayerProps) -> Html {
    let dispatch = use_dispatch();
    let oninput = Callback::from(move |e: InputEvent| {
        let v = e.target_unchecked_into::<HtmlInputElement>().value_as_number() as usize;
        dispatch.emit(Action::SetLayer(v.saturating_sub(1)));
    });
    let (label, shown, depth) = (&props.label, props.layer + 1, props.depth);
    html! {
        <label class="control">{ format!("{label} {shown}") }
            <input type="range" min="1" max={depth.to_string()} value={shown.to_string()} {oninput}
                aria-valuetext={format!("{label} {shown} of {depth}")} />
        </label>
    }
}

#[derive(Properties, PartialEq)]
pub struct HeadProps {
    pub head: Option<usize>,
    pub heads: usize,
}

#[function_component]
pub fn HeadControl(props: &HeadProps) -> Html {
    let dispatch = use_dispatch();
    let onchange = Callback::from(move |e: Event| {
        let v = e.target_unchecked_into::<HtmlSelectElement>().value();
        dispatch.emit(Action::SetHead(v.parse::<usize>().ok()));
    });
    html! {
        <label class="control">{ "Head" }
            <select {onchange}>
                <option value="mean" selected={props.head.is_none()}>{ "mean of heads" }</option>
                { for (0..props.heads).map(|h| html! { <option value={h.to_string()} selected={props.head == Some(h)}>{ format!("head {}", h + 1) }</option> }) }
            </select>
        </label>
    }
}

#[derive(Properties, PartialEq)]
pub struct MapProps {
    pub map: MapKind,
}

#[function_component]
pub fn MapControl(props: &MapProps) -> Html {
    let dispatch = use_dispatch();
    let onchange = Callback::from(move |e: Event| {
        let v = e.target_unchecked_into::<HtmlSelectElement>().value();
        dispatch.emit(Action::SetMap(MapKind::ALL.into_iter().find(|m| m.key() == v).unwrap_or(MapKind::Query)));
    });
    let option = |kind: MapKind, text: &str| {
        html! { <option value={kind.key()} selected={props.map == kind}>{ text.to_string() }</option> }
    };
    html! {
        <label class="control">{ "Show" }
            <select {onchange}>
                { option(MapKind::Query, "query attention") }
                { option(MapKind::Heads, "all heads") }
                { option(MapKind::Rollout, "rollout") }
                { option(MapKind::ClsHeads, "CLS: heads in colour (DINO)") }
                { option(MapKind::ClsMask, "CLS: 60 % mass mask (DINO)") }
                { option(MapKind::Norms, "token norms and sinks") }
            </select>
        </label>
    }
}

#[derive(Properties, PartialEq)]
pub struct ColormapProps {
    pub colormap: Colormap,
}

#[function_component]
pub fn ColormapControl(props: &ColormapProps) -> Html {
    let dispatch = use_dispatch();
    let onchange = Callback::from(move |e: Event| {
        let v = e.target_unchecked_into::<HtmlSelectElement>().value();
        let c = Colormap::ALL.into_iter().find(|c| c.key() == v).unwrap_or(Colormap::Viridis);
        dispatch.emit(Action::SetColormap(c));
    });
    html! {
        <label class="control">{ "Colours" }
            <select {onchange}>
                { for Colormap::ALL.iter().map(|c| html! { <option value={c.key()} selected={*c == props.colormap}>{ c.key() }</option> }) }
            </select>
        </label>
    }
}

#[derive(Properties, PartialEq)]
pub struct QueryProps {
    pub query: Query,
}

/// The query in words, and the CLS toggle.
#[function_component]
pub fn QueryControls(props: &QueryProps) -> Html {
    let dispatch = use_dispatch();
    let cls = props.query == Query::Cls;
    let toggle = Callback::from(move |_| {
        dispatch.emit(Action::SetQuery(if cls { Query::Patch { row: 7, col: 7 } } else { Query::Cls }))
    });
    let text = match props.query {
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
