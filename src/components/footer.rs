//! The foot of the page: exports, the Embed snippet, the models' cards, the photo's credit and the
//! paper; in an embed, a link to the full page instead.

use web_sys::{FocusEvent, HtmlTextAreaElement};
use yew::prelude::*;

use super::model::{ArithmeticChoice, ModelCardItem, ShownModel};
use crate::service::url::{embed_snippet, full_page_url};
use crate::store::handle::use_dispatch;
use crate::store::{Action, ExportKind, GalleryItem, ViewState};

#[derive(Properties, PartialEq)]
pub struct FooterProps {
    pub embed: bool,
    /// For the links (full page, embed snippet).
    pub view: ViewState,
    pub ready: bool,
    /// Whether the models run on the CPU, where int8 weights can multiply in integers.
    pub cpu: bool,
    pub own_image: bool,
    pub embed_open: bool,
    /// The pair's models that are loaded, with this image's timing when analysed.
    pub models: Vec<ShownModel>,
    pub credit: Option<GalleryItem>,
}

#[function_component]
pub fn Footer(props: &FooterProps) -> Html {
    let credit = props.credit.as_ref().map(|g| {
        html! { <p class="credit">{ format!("Photo: {} by {}, {} ({}).", g.file, g.author, g.license, g.source) }</p> }
    });
    if props.embed {
        return html! {
            <footer class="bottom"><a href={full_page_url(&props.view)} target="_blank" rel="noopener">{ "Open in vitscope ↗" }</a>{ credit }</footer>
        };
    }
    let int8 = props.models.iter().any(|m| m.info.precision == "int8");
    let arithmetic = (props.cpu && int8).then(|| html! { <ArithmeticChoice arithmetic={props.view.arithmetic} /> });
    let cards = props.models.iter().map(|m| {
        html! { <ModelCardItem info={m.info.clone()} timing={m.timing} converted={m.converted.clone()} /> }
    });
    html! {
        <footer class="bottom">
            <ExportButtons ready={props.ready} own_image={props.own_image} embed_open={props.embed_open} view={props.view.clone()} />
            <section aria-label="About the models"><h2>{ "Models" }</h2><ul class="cards">{ for cards }</ul>{ arithmetic }</section>
            { credit }
            <p class="fine">{ "Park, Han, Kim, Ko, Yun. What Do Self-Supervised Vision Transformers Learn? ICLR 2023. Everything runs in your browser; no image is uploaded." }</p>
        </footer>
    }
}

#[derive(Properties, PartialEq)]
struct ExportProps {
    ready: bool,
    own_image: bool,
    embed_open: bool,
    view: ViewState,
}

#[function_component]
fn ExportButtons(props: &ExportProps) -> Html {
    let dispatch = use_dispatch();
    let send = |action: Action| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(action.clone()))
    };
    let select = Callback::from(|e: FocusEvent| {
        if let Some(t) = e.target_dyn_into::<HtmlTextAreaElement>() {
            t.select();
        }
    });
    html! {
        <section class="export" aria-label="Export and share">
            <button disabled={!props.ready} onclick={send(Action::Export(ExportKind::Png))}>{ "Save view as PNG" }</button>
            <button disabled={!props.ready} onclick={send(Action::Export(ExportKind::Csv))}>{ "Metrics CSV" }</button>
            <button disabled={!props.ready} onclick={send(Action::Export(ExportKind::Json))}>{ "Metrics JSON" }</button>
            <button aria-expanded={props.embed_open.to_string()} onclick={send(Action::ToggleEmbed)}>{ "Embed" }</button>
            if props.embed_open {
                <div class="embed-box">
                    <label for="embed-code">{ "Paste this into a web page (it resizes itself):" }</label>
                    <textarea id="embed-code" readonly=true rows="4" value={embed_snippet(&props.view)} onfocus={select} />
                    if props.own_image {
                        <p class="caption">{ "Your own image is not part of the link (it never leaves this page): the embed shows the first gallery photo." }</p>
                    }
                    if props.view.has_own_models() {
                        <p class="caption">{ "Models from your own files are not part of the link either: host the converted files and list them with ?manifest= (see the README) to embed them." }</p>
                    }
                </div>
            }
        </section>
    }
}
