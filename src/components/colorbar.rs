//! A horizontal legend for a colormap (decorative: each map's text alternative has its numbers).

use crate::figures::picture::ColormapRgb;
use yew::prelude::*;

use crate::store::Colormap;

#[derive(Properties, PartialEq)]
pub struct ColorbarProps {
    pub colormap: Colormap,
    pub low: AttrValue,
    pub high: AttrValue,
}

#[function_component]
pub fn Colorbar(props: &ColorbarProps) -> Html {
    let stops: Vec<String> = (0..=10)
        .map(|i| {
            let [r, g, b] = props.colormap.rgb(i as f32 / 10.0);
            format!("rgb({r},{g},{b}) {}%", i * 10)
        })
        .collect();
    html! {
        <div class="colorbar" aria-hidden="true">
            <span>{ props.low.clone() }</span>
            <span class="bar" style={format!("background: linear-gradient(to right, {})", stops.join(", "))}></span>
            <span>{ props.high.clone() }</span>
        </div>
    }
}
