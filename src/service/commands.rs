//! Carries out the store's commands. Each asynchronous one ends in an action, dispatched back.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use yew::Callback;

use super::worker::Connection;
use super::{camera, export, fetch, files, webgpu};
use crate::store::{Action, Command, SetSource, State};

/// The worker now in use (replaced on every spawn).
pub type Link = Rc<RefCell<Option<Connection>>>;

pub fn run(command: Command, state: &State, link: &Link, dispatch: &Callback<Action>) {
    let dispatch = dispatch.clone();
    match command {
        Command::FetchManifest(author) => {
            spawn_local(async move { dispatch.emit(Action::ManifestLoaded(fetch::manifest(author).await)) })
        }
        Command::FetchGallery => {
            spawn_local(async move { dispatch.emit(Action::GalleryLoaded(fetch::gallery().await)) })
        }
        Command::FetchImage(file) => {
            let choice = files::next_choice();
            spawn_local(
                async move { dispatch.emit(Action::ImageRead { choice, result: fetch::gallery_image(file).await }) },
            )
        }
        Command::ReadSetImage { source, index, name } => spawn_local(async move {
            let result = match source {
                SetSource::Gallery => fetch::gallery_bytes(&name).await,
                SetSource::Dropped => files::read_set_file(index).await,
            };
            dispatch.emit(Action::SetImageRead { index, result });
        }),
        Command::Probe { generation, allow_software } => spawn_local(async move {
            let result = webgpu::probe(allow_software).await;
            dispatch.emit(Action::Probed { generation, result });
        }),
        Command::SpawnWorker { generation, backend } => {
            // The old worker ends before the new one loads.
            link.borrow_mut().take();
            match Connection::spawn(backend, generation, dispatch.clone()) {
                Ok(connection) => *link.borrow_mut() = Some(connection),
                Err(message) => dispatch.emit(Action::WorkerSpawnFailed { generation, message }),
            }
        }
        Command::Send(envelope) => {
            if let Some(connection) = link.borrow().as_ref() {
                connection.send(&envelope);
            }
        }
        Command::Export(kind) => {
            if let Err(e) = export::export(kind, state) {
                dispatch.emit(Action::ShowError(e));
            }
        }
        Command::StartCamera => camera::start(dispatch),
        Command::GrabFrame => camera::grab(dispatch),
        Command::StopCamera => camera::stop(),
        Command::Save { file_name } => {
            if let Err(e) = files::save(&file_name) {
                dispatch.emit(Action::ShowError(format!("{file_name} could not be saved: {e}")));
            }
        }
    }
}
