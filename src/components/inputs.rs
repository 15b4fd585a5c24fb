//! Choosing models and images: model menus, a keyboard-reachable file picker (images and model
//! files), and the gallery. Drop and paste work anywhere (the root listens for them).

use std::collections::BTreeMap;
use std::rc::Rc;

use vitscope_protocol::messages::ModelInfo;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::service::files::read_file;
use crate::store::handle::use_dispatch;
use crate::store::{Action, GalleryItem, ManifestEntry};

#[derive(Properties, PartialEq)]
pub struct InputsProps {
    pub models: Vec<String>,
    pub manifest: Rc<Vec<ManifestEntry>>,
    pub loaded: BTreeMap<String, Rc<ModelInfo>>,
    pub gallery: Rc<Vec<GalleryItem>>,
    /// The gallery photo in use, if any.
    pub image: Option<String>,
}

#[derive(Properties, PartialEq)]
struct MenuProps {
    slot: usize,
    current: String,
    options: Rc<Vec<(String, String)>>,
}

#[function_component]
fn ModelMenu(props: &MenuProps) -> Html {
    let dispatch = use_dispatch();
    let slot = props.slot;
    let onchange = Callback::from(move |e: Event| {
        let id = e.target_unchecked_into::<HtmlSelectElement>().value();
        dispatch.emit(Action::ChooseModel { slot, id });
    });
    let label = if slot == 0 { "Left model" } else { "Right model" };
    html! {
        <label class="model-menu">{ label }
            <select {onchange} aria-label={label}>
                { for props.options.iter().map(|(id, text)| html! { <option value={id.clone()} selected={*id == props.current}>{ text }</option> }) }
            </select>
        </label>
    }
}

#[function_component]
pub fn Inputs(props: &InputsProps) -> Html {
    let dispatch = use_dispatch();
    let mut options: Vec<(String, String)> =
        props.manifest.iter().map(|m| (m.id.clone(), format!("{} ({})", m.name, m.family.label()))).collect();
    for (id, info) in &props.loaded {
        if !options.iter().any(|(o, _)| o == id) {
            options.push((id.clone(), format!("{} ({}, your file)", info.name(), info.family().label())));
        }
    }
    let options = Rc::new(options);
    let current = |slot: usize| props.models.get(slot).cloned().unwrap_or_default();
    let picker = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                read_file(file, dispatch.clone());
            }
            input.set_value("");
        })
    };
    let gallery = props.gallery.iter().map(|g| {
        let selected = props.image.as_deref() == Some(g.file.as_str());
        let (file, dispatch) = (g.file.clone(), dispatch.clone());
        let onclick = Callback::from(move |_| dispatch.emit(Action::PickGallery(file.clone())));
        html! {
            <li>
                <button class={classes!("thumb", selected.then_some("selected"))} {onclick}
                    aria-label={format!("Use {} by {} ({})", g.file, g.author, g.license)} aria-pressed={selected.to_string()}>
                    <img src={format!("./gallery/{}", g.file)} alt="" loading="lazy" width="96" height="64" />
                </button>
            </li>
        }
    });
    html! {
        <section class="controls" aria-label="Models and image">
            <div class="models">
                <ModelMenu slot={0} current={current(0)} options={options.clone()} />
                <ModelMenu slot={1} current={current(1)} options={options} />
            </div>
            <div class="image-input">
                <label class="button" for="file">{ "Choose an image or model file…" }</label>
                <input id="file" class="visually-hidden" type="file" accept="image/*,.safetensors,.pth,.pt,.tar,.bin,.ckpt" onchange={picker} />
                <span class="hint">{ "or drop / paste an image anywhere. A model file adds a model: a vitscope .safetensors, or an official checkpoint (MoCo v3, SimMIM, MAE, DINO, BEiT .pth; timm or Hugging Face .safetensors), converted here without uploading it." }</span>
            </div>
            <details class="gallery">
                <summary>{ format!("Sample gallery ({} photos)", props.gallery.len()) }</summary>
                <ul>{ for gallery }</ul>
            </details>
        </section>
    }
}
