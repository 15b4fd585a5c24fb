//! The four views, each a function component of the analysis and the settings it uses; the tab bar;
//! and the placeholder before the first result. Views use components and the store, never the root.

mod attention;
mod frequency;
mod metrics;
mod representation;

use std::rc::Rc;

use yew::prelude::*;

use crate::store::handle::use_dispatch;
use crate::store::{Action, Analysis, View, ViewState};

#[derive(Properties, PartialEq)]
pub struct TabsProps {
    pub view: View,
}

#[function_component]
pub fn Tabs(props: &TabsProps) -> Html {
    let dispatch = use_dispatch();
    let tabs = View::ALL.iter().map(|&v| {
        let selected = props.view == v;
        let dispatch = dispatch.clone();
        let onclick = Callback::from(move |_| dispatch.emit(Action::SetView(v)));
        html! {
            <button role="tab" id={format!("tab-{}", v.key())} aria-selected={selected.to_string()} aria-controls="view"
                class={classes!("tab", selected.then_some("selected"))} {onclick}>{ v.title() }</button>
        }
    });
    html! { <nav class="tabs" role="tablist" aria-label="Views">{ for tabs }</nav> }
}

#[derive(Properties, PartialEq)]
pub struct CurrentProps {
    pub analysis: Option<Rc<Analysis>>,
    pub filtered: Option<Rc<Analysis>>,
    pub view: ViewState,
    pub has_image: bool,
    pub has_error: bool,
}

#[function_component]
pub fn CurrentView(props: &CurrentProps) -> Html {
    let Some(analysis) = props.analysis.clone() else {
        let text = if !props.has_image {
            "Drop an image anywhere, paste one, choose a file, or pick a photo from the gallery."
        } else if props.has_error {
            "No result for this image: see the message above."
        } else {
            "Working…"
        };
        return html! { <p class="placeholder">{ text }</p> };
    };
    let view = props.view.clone();
    // The attention view draws from the first answer (its rollout map fills in with the second);
    // the others wait for the metrics, rollout and unit tokens, a few milliseconds later.
    if view.view != View::Attention && !analysis.draws(&view) {
        return html! { <p class="placeholder">{ "Computing the metrics and token similarities…" }</p> };
    }
    match view.view {
        View::Attention => html! { <attention::AttentionView {analysis} {view} /> },
        View::Metrics => html! { <metrics::MetricsView {analysis} /> },
        View::Representation => html! { <representation::RepresentationView {analysis} {view} /> },
        View::Frequency => {
            html! { <frequency::FrequencyView {analysis} filtered={props.filtered.clone()} filter={view.filter} /> }
        }
    }
}

#[derive(Properties, PartialEq)]
struct ExplainProps {
    view: View,
}

/// Two to four plain sentences per view: the finding and what to look for.
#[function_component]
fn Explain(props: &ExplainProps) -> Html {
    let text = match props.view {
        View::Attention => {
            "The paper found that a contrastive (CL) model's attention collapses: in later layers every query attends to nearly the same large, object-shaped region, while a MIM model's attention stays local and depends on the query. Click or hover over different patches (or use the arrow keys): the CL maps barely change, the MIM maps follow the query. The CLS query and rollout show what the whole model looks at."
        }
        View::Metrics => {
            "Attention distance is how far, in pixels, a head looks on average; NMI is the mutual information between query and key positions (near 0 means every query attends alike: attention collapse). The paper reports long distances and low NMI in CL's later layers and short distances with high NMI for MIM. ΔlogA compares the high- and low-frequency amplitude of the token features: MIM's features carry more high-frequency energy in the paper's ViT-B; small models trained briefly can differ. Token similarity near 1 means the tokens of a layer are nearly alike, as CL's become."
        }
        View::Representation => {
            "The similarity map shows how alike the selected token is to every other token of the chosen layer: CL tokens are similar across the object, MIM tokens mostly to their neighbours. The PCA colours give similar tokens similar colours; DINOv2's recipe first splits off the background with the first component, then fits the colours on the foreground alone, so the object's parts get the whole colour range. The spectrum shows how many directions the tokens use: CL's drops off fast (few dimensions, the paper's representation collapse), MIM's stays flatter."
        }
        View::Frequency => {
            "The paper found CL relies on low frequencies and shapes, MIM on high frequencies and textures. Filter the input: a low-pass keeps the shapes, a high-pass keeps the textures. A model whose features change little under a filter does not need what the filter removed."
        }
    };
    html! { <p class="explain">{ text }</p> }
}
