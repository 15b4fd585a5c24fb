//! Choosing models and images: model menus, a keyboard-reachable file picker (images and model
//! files), and the gallery. Drop and paste work anywhere (see the component).

use web_sys::HtmlInputElement;
use yew::html::Scope;
use yew::prelude::*;

use super::super::component::{App, Msg, read_file};

fn model_menu(app: &App, link: &Scope<App>, slot: usize) -> Html {
    let current = app.state.models.get(slot).cloned().unwrap_or_default();
    let mut options: Vec<(String, String)> =
        app.manifest.iter().map(|m| (m.id.clone(), format!("{} ({})", m.name, m.family))).collect();
    for (id, info) in &app.loaded {
        if !options.iter().any(|(o, _)| o == id) {
            options.push((id.clone(), format!("{} ({}, your file)", info.name, info.family)));
        }
    }
    let onchange = link.callback(move |e: Event| {
        let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
        Msg::ChooseModel(slot, value)
    });
    let label = if slot == 0 { "Left model" } else { "Right model" };
    html! {
        <label class="model-menu">{ label }
            <select {onchange} aria-label={label}>
                { for options.into_iter().map(|(id, text)| html! { <option value={id.clone()} selected={id == current}>{ text }</option> }) }
            </select>
        </label>
    }
}

pub fn controls(app: &App, link: &Scope<App>) -> Html {
    let picker = {
        let link = link.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                read_file(file, &link);
            }
            input.set_value("");
        })
    };
    let gallery = app.gallery.iter().map(|g| {
        let file = g.file.clone();
        let selected = app.state.image.as_deref() == Some(g.file.as_str());
        let onclick = link.callback(move |_| Msg::PickGallery(file.clone()));
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
            <div class="models">{ model_menu(app, link, 0) }{ model_menu(app, link, 1) }</div>
            <div class="image-input">
                <label class="button" for="file">{ "Choose an image or model file…" }</label>
                <input id="file" class="visually-hidden" type="file" accept="image/*,.safetensors" onchange={picker} />
                <span class="hint">{ "or drop / paste an image anywhere (a .safetensors file adds a model)" }</span>
            </div>
            <details class="gallery">
                <summary>{ format!("Sample gallery ({} photos)", app.gallery.len()) }</summary>
                <ul>{ for gallery }</ul>
            </details>
        </section>
    }
}
