//! The root: owns the store, carries out its commands, listens to the page (hash changes, drops,
//! pastes), keeps the URL and the theme current, and lays the page out from components and views.

use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use vitscope_protocol::messages::Backend;
use wasm_bindgen::JsCast;
use web_sys::{ClipboardEvent, DragEvent};
use yew::prelude::*;

use crate::components::dataset::DatasetPanel;
use crate::components::footer::Footer;
use crate::components::header::{Header, Notices};
use crate::components::inputs::Inputs;
use crate::components::model::ShownModel;
use crate::service::commands::{self, Link};
use crate::service::dom::{document, window};
use crate::service::files::{measure_folders, read_file, read_files};
use crate::service::folders::dropped_directories;
use crate::service::url::{drop_bad_search, hash_of, keep_hash, location_params, post_height, read_params};
use crate::store::handle::{Dispatch, Store};
use crate::store::settings::Theme;
use crate::store::{Action, State, View};
use crate::views::{CurrentView, Tabs};

/// Drop and paste anywhere on the page, the user's own hash changes, and the page going out of sight.
fn listen(dispatch: Callback<Action>) -> Vec<EventListener> {
    let mut listeners = Vec::new();
    if let Some(window) = window() {
        let dispatch = dispatch.clone();
        listeners.push(EventListener::new(&window, "hashchange", move |_| {
            let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
            dispatch.emit(Action::HashChanged(read_params(&hash)));
        }));
    }
    let Some(document) = document() else { return listeners };
    let options = EventListenerOptions::enable_prevent_default;
    listeners.push(EventListener::new_with_options(&document, "dragover", options(), |e| e.prevent_default()));
    let on_drop = dispatch.clone();
    listeners.push(EventListener::new_with_options(&document, "drop", options(), move |e| {
        e.prevent_default();
        let transfer = e.dyn_ref::<DragEvent>().and_then(|d| d.data_transfer());
        let (folders, loose) = transfer.as_ref().map(dropped_directories).unwrap_or_default();
        if !folders.is_empty() {
            measure_folders(folders, loose, on_drop.clone());
            return;
        }
        let files = transfer.and_then(|t| t.files());
        let files: Vec<_> = files.map(|f| (0..f.length()).filter_map(|i| f.get(i)).collect()).unwrap_or_default();
        match files.len() {
            0 => on_drop.emit(Action::Notice(
                "Nothing to use in that drop: drop an image or a .safetensors model file.".into(),
            )),
            1 => read_file(files.into_iter().next().expect("one file"), on_drop.clone()),
            _ => read_files(files, on_drop.clone()),
        }
    }));
    let (on_hidden, seen) = (dispatch.clone(), document.clone());
    listeners.push(EventListener::new(&document, "visibilitychange", move |_| {
        if seen.hidden() {
            on_hidden.emit(Action::PageHidden);
        }
    }));
    listeners.push(EventListener::new(&document, "paste", move |e| {
        let files = e.dyn_ref::<ClipboardEvent>().and_then(|c| c.clipboard_data()).and_then(|d| d.files());
        if let Some(file) = files.and_then(|f| f.get(0)) {
            read_file(file, dispatch.clone());
        }
    }));
    listeners
}

#[function_component]
pub fn App() -> Html {
    let store = use_reducer(|| {
        let (search, hash) = location_params();
        let (state, commands) = State::new(&search, &hash);
        Store::new(state, commands)
    });
    use_effect_with((), |_| drop_bad_search());
    let link: Link = use_mut_ref(|| None);
    let dispatcher: Dispatch = store.dispatcher();
    {
        let (store, dispatch) = (store.clone(), Callback::from(dispatcher.clone()));
        use_effect_with(store.seq, move |_| {
            for command in store.take_commands() {
                commands::run(command, &store.state, &link, &dispatch);
            }
        });
    }
    {
        let dispatch = Callback::from(dispatcher.clone());
        use_effect_with((), move |_| {
            let listeners = listen(dispatch);
            move || drop(listeners)
        });
    }
    let s = &store.state;
    let hash = hash_of(&s.view);
    use_effect_with((hash, s.page.embed), |(hash, embed)| {
        if !embed {
            keep_hash(hash);
        }
    });
    use_effect_with(s.page.theme, |theme| {
        let name = match theme {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        };
        if let Some(root) = document().and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-theme", name);
        }
    });
    let embed = s.page.embed;
    // After every render: an embedding page resizes its frame to this one.
    use_effect(move || {
        if embed {
            post_height();
        }
    });
    html! {
        <ContextProvider<Dispatch> context={dispatcher}>
            <div class={classes!("app", embed.then_some("embed"))}>
                <Header {embed} status={s.status.clone()} backend={s.backend().map(|(b, note)| (b, AttrValue::from(note.to_string())))}
                    progress={s.progress.clone()} busy={s.busy()} />
                <Notices error={s.error.clone().map(AttrValue::from)} notices={s.notices.clone()} />
                if !embed {
                    <Inputs models={s.view.models.clone()} choices={Rc::new(s.choices())}
                        gallery={s.gallery.clone()} image={s.view.image.clone()} camera={s.camera.clone()} />
                    <Tabs view={s.view.view} />
                }
                <main id="view" class="view" aria-busy={s.analysing().to_string()}>
                    <CurrentView analysis={s.analysis.clone()} filtered={s.filtered.clone()} view={s.view.clone()}
                        has_image={s.image.is_some()} has_error={s.error.is_some()} />
                    if !embed && s.view.view == View::Metrics {
                        <DatasetPanel dataset={s.dataset.clone()} gallery={s.gallery.clone()} ready={s.pair_ready()} />
                    }
                </main>
                { footer(s, embed) }
            </div>
        </ContextProvider<Dispatch>>
    }
}

fn footer(s: &State, embed: bool) -> Html {
    let timing = |id: &str| {
        let analysis = s.analysis.as_ref()?;
        analysis.models.iter().find(|m| m.info.id == id).map(|m| m.timing)
    };
    let models: Vec<_> = s
        .view
        .models
        .iter()
        .filter_map(|id| s.loaded.get(id))
        .map(|m| ShownModel { info: Rc::clone(m), timing: timing(&m.id), converted: s.converted.get(&m.id).cloned() })
        .collect();
    let credit =
        s.image.as_ref().and_then(|i| i.gallery.as_ref()).and_then(|f| s.gallery.iter().find(|g| &g.file == f));
    html! {
        <Footer {embed} view={s.view.clone()} ready={s.analysis.is_some()} cpu={s.link.backend() == Some(Backend::Cpu)}
            own_image={s.image.as_ref().is_some_and(|i| i.gallery.is_none())} embed_open={s.embed_open}
            {models} credit={credit.cloned()} />
    }
}
