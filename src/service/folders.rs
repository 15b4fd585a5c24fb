//! Folders dropped on the page. The browser hands them over as directory entries
//! (`webkitGetAsEntry`), readable only during the drop event; they are walked here, asynchronously,
//! to their files, each named by its path from the dropped folder (`photos/cats/a.jpg`).

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::DataTransfer;

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Calls `target.method(resolve, reject)` and waits for either callback.
async fn callback_call(target: &JsValue, method: &str) -> Result<JsValue, String> {
    let function: Function = get(target, method).dyn_into().map_err(|_| format!("no {method} here"))?;
    let target = target.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        if let Err(e) = function.call2(&target, &resolve, &reject) {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    });
    JsFuture::from(promise).await.map_err(|e| format!("{method} failed ({e:?})"))
}

/// The directory entries among the dropped items (taken now: they are gone after the event), and how
/// many files were dropped beside them.
pub fn dropped_directories(transfer: &DataTransfer) -> (Vec<JsValue>, usize) {
    let items = transfer.items();
    let entries: Vec<JsValue> = (0..items.length())
        .filter_map(|i| items.get(i))
        .filter_map(|item| {
            Reflect::get(&item, &"webkitGetAsEntry".into()).ok()?.dyn_into::<Function>().ok()?.call0(&item).ok()
        })
        .collect();
    let (directories, files): (Vec<JsValue>, Vec<JsValue>) =
        entries.into_iter().partition(|e| get(e, "isDirectory").as_bool().unwrap_or(false));
    (directories, files.len())
}

/// Every file under `directory`, with its path from the directory's parent, in no particular order,
/// and the paths of files that could not be read. Symbolic links are not followed by the browser, so
/// a walk always ends.
pub async fn walk(directory: JsValue) -> Result<(Vec<(String, web_sys::File)>, Vec<String>), String> {
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    let mut pending = vec![(directory, String::new())];
    while let Some((dir, parent)) = pending.pop() {
        let path = format!("{parent}{}/", get(&dir, "name").as_string().unwrap_or_default());
        let reader = Reflect::get(&dir, &"createReader".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .and_then(|f| f.call0(&dir).ok())
            .ok_or("the folder could not be read")?;
        // readEntries gives the entries in batches, then an empty one.
        loop {
            let batch: Array = callback_call(&reader, "readEntries").await?.unchecked_into();
            if batch.length() == 0 {
                break;
            }
            for entry in batch.iter() {
                let name = get(&entry, "name").as_string().unwrap_or_default();
                if get(&entry, "isDirectory").as_bool().unwrap_or(false) {
                    pending.push((entry, path.clone()));
                } else if get(&entry, "isFile").as_bool().unwrap_or(false) {
                    match callback_call(&entry, "file").await {
                        Ok(file) => out.push((format!("{path}{name}"), file.unchecked_into())),
                        Err(_) => unreadable.push(format!("{path}{name}")),
                    }
                }
            }
        }
    }
    Ok((out, unreadable))
}
