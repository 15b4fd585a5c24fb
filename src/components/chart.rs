//! One line chart as inline SVG, drawn from the analysis (decorative: its numbers are in a table or
//! the text next to it). The SVG is built once per analysis and chart.

use std::rc::Rc;

use yew::prelude::*;

use crate::figures::charts::{ChartKind, chart};
use crate::store::Analysis;

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub kind: ChartKind,
    pub analysis: Rc<Analysis>,
    #[prop_or_default]
    pub filtered: Option<Rc<Analysis>>,
}

#[function_component]
pub fn Chart(props: &ChartProps) -> Html {
    let svg = use_memo((props.kind, props.analysis.clone(), props.filtered.clone()), |(kind, analysis, filtered)| {
        chart(*kind, analysis, filtered.as_deref()).map(|c| c.svg())
    });
    match &*svg {
        Some(Ok(svg)) => {
            html! { <div class="chart" aria-hidden="true">{ Html::from_html_unchecked(svg.clone().into()) }</div> }
        }
        Some(Err(e)) => html! { <p class="error">{ e }</p> },
        None => Html::default(),
    }
}
