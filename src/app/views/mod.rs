//! The page's parts. Each view is a function of the [`App`] state; canvases are painted in [`paint`]
//! after the DOM exists.

pub mod attention;
pub mod export;
pub mod frequency;
pub mod inputs;
pub mod metrics;
pub mod representation;

use wasm_bindgen::JsCast;
use yew::html::Scope;
use yew::prelude::*;

use super::component::{App, Msg, window};
use super::state::View;
use crate::worker::protocol::{ModelAnalysis, ModelInfo};

pub fn canvas(id: &str) -> Option<web_sys::HtmlCanvasElement> {
    window().document()?.get_element_by_id(id)?.dyn_into().ok()
}

/// The analyses of the current pair, each with its model's info, in pair order.
pub fn pair<'a>(app: &'a App, analysis: &'a super::component::Analysis) -> Vec<(&'a ModelInfo, &'a ModelAnalysis)> {
    analysis.models.iter().filter_map(|m| Some((app.model_info(&m.id)?, m))).collect()
}

pub fn family_badge(info: &ModelInfo) -> Html {
    let class = match info.family.as_str() {
        "CL" => "badge cl",
        "MIM" => "badge mim",
        _ => "badge other",
    };
    html! { <span class={class} title={format!("{} family", info.family)}>{ &info.family }</span> }
}

pub fn header(app: &App, link: &Scope<App>) -> Html {
    let backend = match &app.backend {
        Some((b, note)) => {
            html! { <span class="backend" title={note.clone()} data-backend={b.label()}>{ format!("Backend: {}", b.label()) }</span> }
        }
        None => html! { <span class="backend">{ "Backend: starting…" }</span> },
    };
    let progress = app.progress.as_ref().map(|(id, loaded, total)| {
        let label = match total {
            Some(t) => format!("Downloading {id}: {:.1} of {:.1} MB", *loaded as f64 / 1e6, *t as f64 / 1e6),
            None => format!("Downloading {id}: {:.1} MB", *loaded as f64 / 1e6),
        };
        html! {
            <div class="progress">
                <progress max={total.unwrap_or(0).to_string()} value={loaded.to_string()} aria-label={label.clone()}></progress>
                <span>{ label }</span>
            </div>
        }
    });
    let cancel = app.busy().then(|| {
        html! {
            <button class="cancel" onclick={link.callback(|_| Msg::Cancel)}>{ "Cancel" }</button>
        }
    });
    html! {
        <header class="top">
            if !app.page.embed {
                <h1>{ "vitscope" }</h1>
                <p class="tagline">{ "What do self-supervised Vision Transformers learn? A contrastive (CL) and a masked-image-modelling (MIM) ViT, side by side on your image, with the analyses of Park et al. (ICLR 2023). Your image never leaves this page." }</p>
            }
            <div class="statusbar">
                <p id="status" class="status" role="status" aria-live="polite">{ &app.status }</p>
                { backend }
                { cancel }
            </div>
            { progress }
        </header>
    }
}

pub fn notices(app: &App) -> Html {
    let error = app.error.as_ref().map(|e| html! { <p class="error" role="alert">{ e }</p> });
    let notices = app.notices.iter().map(|n| html! { <li>{ n }</li> });
    html! {
        <div class="messages">
            { error }
            if !app.notices.is_empty() {
                <ul class="notices" aria-label="Notices">{ for notices }</ul>
            }
        </div>
    }
}

pub fn tabs(app: &App, link: &Scope<App>) -> Html {
    if app.page.embed {
        return Html::default();
    }
    let tabs = View::ALL.iter().map(|&v| {
        let selected = app.state.view == v;
        let onclick = link.callback(move |_| Msg::Set(Box::new(move |s| s.view = v)));
        html! {
            <button role="tab" id={format!("tab-{}", v.key())} aria-selected={selected.to_string()} aria-controls="view"
                class={classes!("tab", selected.then_some("selected"))} {onclick}>{ v.title() }</button>
        }
    });
    html! { <nav class="tabs" role="tablist" aria-label="Views">{ for tabs }</nav> }
}

pub fn current(app: &App, link: &Scope<App>) -> Html {
    let Some(analysis) = app.analysis.clone() else {
        let text = if app.image.is_none() {
            "Drop an image anywhere, paste one, choose a file, or pick a photo from the gallery."
        } else if app.error.is_some() {
            "No result for this image: see the message above."
        } else {
            "Working…"
        };
        return html! { <p class="placeholder">{ text }</p> };
    };
    match app.state.view {
        View::Attention => attention::view(app, &analysis, link),
        View::Metrics => metrics::view(app, &analysis, link),
        View::Representation => representation::view(app, &analysis, link),
        View::Frequency => frequency::view(app, &analysis, link),
    }
}

pub fn paint(app: &App) {
    let Some(analysis) = app.analysis.clone() else { return };
    match app.state.view {
        View::Attention => attention::paint(app, &analysis),
        View::Representation => representation::paint(app, &analysis),
        View::Frequency => frequency::paint(app, &analysis),
        View::Metrics => {}
    }
}

/// Two to four plain sentences per view: the finding and what to look for.
pub fn explain(view: View) -> Html {
    let text = match view {
        View::Attention => {
            "The paper found that a contrastive (CL) model's attention collapses: in later layers every query attends to nearly the same large, object-shaped region, while a MIM model's attention stays local and depends on the query. Click or hover over different patches (or use the arrow keys): the CL maps barely change, the MIM maps follow the query. The CLS query and rollout show what the whole model looks at."
        }
        View::Metrics => {
            "Attention distance is how far, in pixels, a head looks on average; NMI is the mutual information between query and key positions (near 0 means every query attends alike: attention collapse). The paper reports long distances and low NMI in CL's later layers and short distances with high NMI for MIM. ΔlogA compares the high- and low-frequency amplitude of the token features: MIM's features carry more high-frequency energy in the paper's ViT-B; small models trained briefly can differ. Token similarity near 1 means the tokens of a layer are nearly alike, as CL's become."
        }
        View::Representation => {
            "The similarity map shows how alike the selected token is to every other token of the chosen layer: CL tokens are similar across the object, MIM tokens mostly to their neighbours. The PCA colours give similar tokens similar colours, and the spectrum shows how many directions the tokens use: CL's drops off fast (few dimensions, the paper's representation collapse), MIM's stays flatter."
        }
        View::Frequency => {
            "The paper found CL relies on low frequencies and shapes, MIM on high frequencies and textures. Filter the input: a low-pass keeps the shapes, a high-pass keeps the textures. A model whose features change little under a filter does not need what the filter removed."
        }
    };
    html! { <p class="explain">{ text }</p> }
}

/// This image's cost per model, for curious users and for the browser benchmark (data attributes).
fn timing(app: &App, id: &str) -> Html {
    let Some(t) = app.analysis.as_ref().and_then(|a| a.models.iter().find(|m| m.id == id)).map(|m| m.snapshot.timing)
    else {
        return html! {};
    };
    html! {
        <span class="timing" data-model={id.to_string()} data-forward-ms={format!("{:.1}", t.forward_ms)} data-total-ms={format!("{:.1}", t.total_ms)}>
            { format!(" This image: forward pass {:.0} ms, with every analysis {:.0} ms.", t.forward_ms, t.total_ms) }
        </span>
    }
}

pub fn footer(app: &App, link: &Scope<App>) -> Html {
    let credit = app.image.as_ref().and_then(|img| img.gallery.as_ref()).and_then(|f| app.gallery.iter().find(|g| &g.file == f)).map(|g| {
        html! { <p class="credit">{ format!("Photo: {} by {}, {} ({}).", g.file, g.author, g.license, g.source) }</p> }
    });
    let models = app.state.models.iter().filter_map(|id| app.model_info(id)).map(|m| {
        let card: serde_json::Value = serde_json::from_str(&m.card_json).unwrap_or_default();
        let notes = card["notes"].as_str().unwrap_or("").to_string();
        let data = card["training_data"].as_str().unwrap_or("").to_string();
        html! {
            <li>
                <strong>{ &m.name }</strong>{ format!(" ({}, ViT {}×{} patches of {} px, width {}, {} layers, {} heads, {}): ", m.family, m.image_size as usize / m.patch_size, m.image_size as usize / m.patch_size, m.patch_size, m.width, m.depth, m.heads, m.precision) }
                { format!("trained on {data}. {notes}") }
                { timing(app, &m.id) }
            </li>
        }
    });
    if app.page.embed {
        let href = export::full_page_url(app);
        return html! { <footer class="bottom"><a href={href} target="_blank" rel="noopener">{ "Open in vitscope ↗" }</a>{ credit }</footer> };
    }
    html! {
        <footer class="bottom">
            { export::buttons(app, link) }
            <section aria-label="About the models"><h2>{ "Models" }</h2><ul class="cards">{ for models }</ul></section>
            { credit }
            <p class="fine">{ "Park, Han, Kim, Ko, Yun. What Do Self-Supervised Vision Transformers Learn? ICLR 2023. Everything runs in your browser; no image is uploaded." }</p>
        </footer>
    }
}
