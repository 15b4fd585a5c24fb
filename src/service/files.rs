//! A dropped, pasted or picked file: images go to the analysis; model files (vitscope files and
//! official checkpoints) stay here, never read by the page, and travel to the worker beside the
//! request that loads them ([`dropped`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use vitscope_protocol::download::{MAX_IMAGE_FILE_BYTES, is_image_name, size_label};
use vitscope_protocol::labels::{Labels, labels_file};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use yew::Callback;

use crate::store::{Action, ImageInput, SetSource};

/// What a model file may be called: vitscope or timm `.safetensors`, `torch.save` files.
const MODEL_EXTENSIONS: [&str; 6] = [".safetensors", ".pth", ".pt", ".tar", ".bin", ".ckpt"];

thread_local! {
    /// Dropped model files by name, kept so a restarted worker can be handed the file again.
    static DROPPED: RefCell<HashMap<String, web_sys::File>> = RefCell::default();
    static CHOICES: Cell<u64> = const { Cell::new(0) };
    /// Images dropped together, measured as a set one at a time (never all read at once).
    static SET: RefCell<Vec<web_sys::File>> = RefCell::default();
}

/// Numbers each image the user chooses (a drop, a paste, a pick, a gallery photo), in the order
/// chosen, for [`Action::ImageRead`].
pub fn next_choice() -> u64 {
    CHOICES.with(|c| {
        c.set(c.get() + 1);
        c.get()
    })
}

/// The model file dropped under `name`, for the request that loads it.
pub fn dropped(name: &str) -> Option<web_sys::File> {
    DROPPED.with(|d| d.borrow().get(name).cloned())
}

/// Keeps a converted model's file (a `Blob` from the worker) as if it had been dropped under `name`.
pub fn keep(name: &str, blob: &web_sys::Blob) {
    let parts = js_sys::Array::of1(blob);
    if let Ok(file) = web_sys::File::new_with_blob_sequence(&parts, name) {
        DROPPED.with(|d| d.borrow_mut().insert(name.to_string(), file));
    }
}

/// Offers the file kept under `name` as a download (the browser's copy, never read here).
pub fn save(name: &str) -> Result<(), String> {
    let file = dropped(name).ok_or("the converted file is no longer in this page")?;
    super::export::download_blob(name, &file)
}

fn is_model_file(name: &str) -> bool {
    let lower = name.to_lowercase();
    MODEL_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

/// A drop of several files: the images among them are measured as a set, the model files load as
/// when dropped alone.
pub fn read_files(files: Vec<web_sys::File>, dispatch: Callback<Action>) {
    let (models, images): (Vec<_>, Vec<_>) = files.into_iter().partition(|f| is_model_file(&f.name()));
    for file in models {
        read_file(file, dispatch.clone());
    }
    match images.len() {
        0 => {}
        1 => read_file(images.into_iter().next().expect("one image"), dispatch),
        _ => measure_set(images, dispatch),
    }
}

/// A chosen folder's images (by their names' endings, as `vitscope analyze` lists a folder) are
/// measured as a set, in name order; anything else in it is left out.
pub fn measure_files(files: Vec<web_sys::File>, dispatch: Callback<Action>) {
    let mut images: Vec<_> = files.into_iter().filter(|f| is_image_name(&f.name())).collect();
    if images.is_empty() {
        dispatch.emit(Action::Notice("That folder holds no images (JPEG, PNG, WebP, GIF or BMP).".into()));
        return;
    }
    images.sort_by_key(web_sys::File::name);
    measure_set(images, dispatch);
}

/// A labelled folder's images (each named by its path under the folder; the class is its first folder,
/// or what the folder's `labels.csv` says) are probed, in the byte order of those paths, as `vitscope
/// probe` orders them.
pub fn probe_files(files: Vec<web_sys::File>, dispatch: Callback<Action>) {
    let under = |f: &web_sys::File| {
        // `webkitRelativePath` starts with the chosen folder's own name.
        let path = js_sys::Reflect::get(f, &"webkitRelativePath".into())
            .ok()
            .and_then(|p| p.as_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| f.name());
        path.split_once('/').map_or(path.as_str(), |(_, rest)| rest).to_string()
    };
    let named: Vec<(String, web_sys::File)> = files.into_iter().map(|f| (under(&f), f)).collect();
    let listed = labels_file(named.iter().map(|(path, _)| path.as_str()))
        .and_then(|chosen| named.iter().find(|(path, _)| path == chosen))
        .map(|(_, f)| f.clone());
    let mut images: Vec<(String, web_sys::File)> =
        named.into_iter().filter(|(_, f)| is_image_name(&f.name())).collect();
    if images.is_empty() {
        dispatch.emit(Action::Notice("That folder holds no images (JPEG, PNG, WebP, GIF or BMP).".into()));
        return;
    }
    images.sort_by(|a, b| a.0.cmp(&b.0));
    spawn_local(async move {
        let labels = match listed {
            None => Labels::Subfolders,
            Some(file) => match read_text(&file).await.and_then(|text| Labels::from_csv(&text)) {
                Ok(labels) => labels,
                Err(why) => return dispatch.emit(Action::Notice(format!("The folder was not probed: {why}."))),
            },
        };
        let (names, files): (Vec<String>, Vec<web_sys::File>) = images.into_iter().unzip();
        SET.with(|s| *s.borrow_mut() = files);
        dispatch.emit(Action::ProbeSet { names, labels });
    });
}

/// A small text file's contents (a labels.csv: refused past 16 MB).
async fn read_text(file: &web_sys::File) -> Result<String, String> {
    if file.size() > 16e6 {
        return Err(format!("{} has {:.0} MB; a labels file of at most 16 MB is read", file.name(), file.size() / 1e6));
    }
    let text = JsFuture::from(file.text()).await.map_err(|e| format!("{} could not be read ({e:?})", file.name()))?;
    text.as_string().ok_or_else(|| format!("{} is not text", file.name()))
}

/// Keeps `images` for [`read_set_file`] and starts measuring them.
fn measure_set(images: Vec<web_sys::File>, dispatch: Callback<Action>) {
    measure_named(images.into_iter().map(|f| (f.name(), f)).collect(), dispatch);
}

/// As [`measure_set`], each image under its own name (a dropped folder's: its path).
fn measure_named(images: Vec<(String, web_sys::File)>, dispatch: Callback<Action>) {
    let (names, files): (Vec<String>, Vec<web_sys::File>) = images.into_iter().unzip();
    SET.with(|s| *s.borrow_mut() = files);
    dispatch.emit(Action::MeasureSet { source: SetSource::Dropped, names });
}

/// Folders dropped on the page (directory entries, taken during the drop): their images, subfolders
/// included, are measured as a set in the order of their paths, each named by its path.
pub fn measure_folders(directories: Vec<wasm_bindgen::JsValue>, loose: usize, dispatch: Callback<Action>) {
    if loose > 0 {
        let (what, were) = if loose == 1 { ("A file", "was") } else { ("Files", "were") };
        dispatch.emit(Action::Notice(format!(
            "{what} dropped beside a folder {were} left out: drop images on their own, or put them in the folder."
        )));
    }
    wasm_bindgen_futures::spawn_local(async move {
        let mut images = Vec::new();
        for directory in directories {
            match super::folders::walk(directory).await {
                Ok((files, unreadable)) => {
                    images.extend(files.into_iter().filter(|(path, _)| is_image_name(path)));
                    if !unreadable.is_empty() {
                        let names = unreadable.join(", ");
                        dispatch.emit(Action::Notice(format!("These dropped files could not be read: {names}.")));
                    }
                }
                Err(why) => dispatch.emit(Action::Notice(format!("A dropped folder could not be read: {why}."))),
            }
        }
        if images.is_empty() {
            dispatch.emit(Action::Notice("The dropped folder holds no images (JPEG, PNG, WebP, GIF or BMP).".into()));
            return;
        }
        images.sort_by(|a, b| a.0.cmp(&b.0));
        measure_named(images, dispatch);
    });
}

/// The bytes of image `index` of the dropped set.
pub async fn read_set_file(index: usize) -> Result<Rc<Vec<u8>>, String> {
    let file = SET.with(|s| s.borrow().get(index).cloned()).ok_or("the dropped files are no longer in this page")?;
    read_image(&file).await
}

/// An image file's bytes, refused by its size before it is read.
async fn read_image(file: &web_sys::File) -> Result<Rc<Vec<u8>>, String> {
    let size = file.size() as u64;
    if size > MAX_IMAGE_FILE_BYTES {
        let (size, limit) = (size_label(size), size_label(MAX_IMAGE_FILE_BYTES));
        return Err(format!("the file has {size}; images of at most {limit} are read"));
    }
    let buffer =
        JsFuture::from(file.array_buffer()).await.map_err(|e| format!("the file could not be read ({e:?})"))?;
    Ok(Rc::new(js_sys::Uint8Array::new(&buffer).to_vec()))
}

pub fn read_file(file: web_sys::File, dispatch: Callback<Action>) {
    let name = file.name();
    if is_model_file(&name) {
        let size = file.size() as u64;
        DROPPED.with(|d| d.borrow_mut().insert(name.clone(), file));
        dispatch.emit(Action::ModelFileDropped { name, size });
        return;
    }
    // Numbered now, as chosen: reads finish in any order.
    let choice = next_choice();
    wasm_bindgen_futures::spawn_local(async move {
        let result = read_image(&file).await.map_err(|e| format!("{name}: {e}"));
        let result = result.map(|bytes| ImageInput::file(name, bytes, None));
        dispatch.emit(Action::ImageRead { choice, result });
    });
}
