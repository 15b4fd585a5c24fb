//! The top of the page: title, the aria-live status line, the backend badge (with why it was chosen),
//! Cancel while something runs, and the download progress.

use vitscope_protocol::messages::{Backend, Stage};
use yew::prelude::*;

use crate::store::handle::use_dispatch;
use crate::store::{Action, Progress};

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub embed: bool,
    pub status: AttrValue,
    /// The running backend and why, once the worker has started.
    pub backend: Option<(Backend, AttrValue)>,
    pub progress: Option<Progress>,
    pub busy: bool,
}

#[function_component]
pub fn Header(props: &HeaderProps) -> Html {
    let dispatch = use_dispatch();
    let backend = match &props.backend {
        Some((b, note)) => {
            html! { <span class="backend" title={note.clone()} data-backend={b.label()}>{ format!("Backend: {}", b.label()) }</span> }
        }
        None => html! { <span class="backend">{ "Backend: starting…" }</span> },
    };
    let progress = props.progress.as_ref().map(|Progress { model, stage, loaded, total }| {
        let what = stage.label();
        let label = match (stage, total) {
            (Stage::CheckingInt8, Some(t)) => format!("{what} for {model}: grouping {} of at most {t}", loaded + 1),
            (_, Some(t)) => format!("{what} {model}: {:.1} of {:.1} MB", *loaded as f64 / 1e6, *t as f64 / 1e6),
            (_, None) => format!("{what} {model}: {:.1} MB", *loaded as f64 / 1e6),
        };
        html! {
            <div class="progress">
                <progress max={total.unwrap_or(0).to_string()} value={loaded.to_string()} aria-label={label.clone()}></progress>
                <span>{ label }</span>
            </div>
        }
    });
    let cancel = props.busy.then(|| {
        let onclick = Callback::from(move |_| dispatch.emit(Action::Cancel));
        html! { <button class="cancel" {onclick}>{ "Cancel" }</button> }
    });
    html! {
        <header class="top">
            if !props.embed {
                <h1>{ "vitscope" }</h1>
                <p class="tagline">{ "What do self-supervised Vision Transformers learn? A contrastive (CL) and a masked-image-modelling (MIM) ViT side by side on your image (add the hybrid, a DINOv2 or your own checkpoint: up to four), with the analyses of Park et al. (ICLR 2023). Your image never leaves this page." }</p>
            }
            <div class="statusbar">
                <p id="status" class="status" role="status" aria-live="polite">{ props.status.clone() }</p>
                { backend }
                { cancel }
            </div>
            { progress }
        </header>
    }
}

#[derive(Properties, PartialEq)]
pub struct NoticesProps {
    pub error: Option<AttrValue>,
    pub notices: Vec<String>,
}

/// The error (an alert) and the notices about the URL, WebGPU and the gallery.
#[function_component]
pub fn Notices(props: &NoticesProps) -> Html {
    let error = props.error.as_ref().map(|e| html! { <p class="error" role="alert">{ e.clone() }</p> });
    html! {
        <div class="messages">
            { error }
            if !props.notices.is_empty() {
                <ul class="notices" aria-label="Notices">{ for props.notices.iter().map(|n| html! { <li>{ n }</li> }) }</ul>
            }
        </div>
    }
}
