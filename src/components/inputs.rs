//! Choosing models and images: a menu per model shown (one to four) with its remove button, a menu
//! that adds one, a keyboard-reachable file picker (images and model files), and the gallery. Drop
//! and paste work anywhere (the root listens for them).

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::camera::CameraControl;
use crate::service::files::read_file;
use crate::store::handle::use_dispatch;
use crate::store::{Action, Camera, GalleryItem, MAX_MODELS};

#[derive(Properties, PartialEq)]
pub struct InputsProps {
    /// The models shown, in order.
    pub models: Vec<String>,
    /// Every model a menu offers, as (id, label).
    pub choices: Rc<Vec<(String, String)>>,
    pub gallery: Rc<Vec<GalleryItem>>,
    /// The gallery photo in use, if any.
    pub image: Option<String>,
    pub camera: Option<Camera>,
}

#[derive(Properties, PartialEq)]
struct SlotProps {
    slot: usize,
    current: String,
    choices: Rc<Vec<(String, String)>>,
    removable: bool,
}

/// One shown model: its menu, and a button that stops showing it.
#[function_component]
fn ModelSlot(props: &SlotProps) -> Html {
    let dispatch = use_dispatch();
    let slot = props.slot;
    let onchange = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let id = e.target_unchecked_into::<HtmlSelectElement>().value();
            dispatch.emit(Action::ChooseModel { slot, id });
        })
    };
    let label = format!("Model {}", slot + 1);
    let name = props.choices.iter().find(|(id, _)| *id == props.current).map_or("", |(_, text)| text.as_str());
    let remove = props.removable.then(|| {
        let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(Action::RemoveModel(slot)));
        html! { <button class="remove-model" title="Stop showing this model" aria-label={format!("Remove {label}: {name}")} {onclick}>{ "×" }</button> }
    });
    html! {
        <div class="model-slot" data-slot={slot.to_string()}>
            <label class="model-menu">{ label.clone() }
                <select {onchange} aria-label={label}>
                    { for props.choices.iter().map(|(id, text)| html! { <option value={id.clone()} selected={*id == props.current}>{ text }</option> }) }
                </select>
            </label>
            { remove }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct AddProps {
    shown: usize,
    choices: Rc<Vec<(String, String)>>,
}

/// A menu of the models not shown; choosing one adds it.
#[function_component]
fn AddModel(props: &AddProps) -> Html {
    let dispatch = use_dispatch();
    let slot = props.shown;
    let onchange = Callback::from(move |e: Event| {
        let select: HtmlSelectElement = e.target_unchecked_into();
        let id = select.value();
        // Back to the prompt: the menu adds, it does not show a choice.
        select.set_value("");
        if !id.is_empty() {
            dispatch.emit(Action::ChooseModel { slot, id });
        }
    });
    html! {
        <label class="model-menu add-model">{ format!("Add a model (up to {MAX_MODELS})") }
            <select {onchange} aria-label="Add a model">
                <option value="" selected=true>{ "Compare with…" }</option>
                { for props.choices.iter().map(|(id, text)| html! { <option value={id.clone()}>{ text }</option> }) }
            </select>
        </label>
    }
}

#[function_component]
pub fn Inputs(props: &InputsProps) -> Html {
    let dispatch = use_dispatch();
    let shown = props.models.len();
    let slots = props.models.iter().enumerate().map(|(slot, id)| {
        html! { <ModelSlot {slot} current={id.clone()} choices={props.choices.clone()} removable={shown > 1} /> }
    });
    let others: Vec<(String, String)> =
        props.choices.iter().filter(|(id, _)| !props.models.contains(id)).cloned().collect();
    let add =
        (shown < MAX_MODELS && !others.is_empty()).then(|| html! { <AddModel {shown} choices={Rc::new(others)} /> });
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
            <div class="models" role="group" aria-label="Models shown side by side">
                { for slots }
                { add }
            </div>
            <div class="image-input">
                <label class="button" for="file">{ "Choose an image or model file…" }</label>
                <input id="file" class="visually-hidden" type="file" accept="image/*,.safetensors,.pth,.pt,.tar,.bin,.ckpt" onchange={picker} />
                <CameraControl camera={props.camera.clone()} />
                <span class="hint">{ "or drop / paste an image or a folder anywhere, or use the camera. A model file adds a model: a vitscope .safetensors, or an official checkpoint (MoCo v3, SimMIM, MAE, DINO, BEiT .pth; timm or Hugging Face .safetensors), converted here without uploading it." }</span>
            </div>
            <details class="gallery">
                <summary>{ format!("Sample gallery ({} photos)", props.gallery.len()) }</summary>
                <ul>{ for gallery }</ul>
            </details>
        </section>
    }
}
