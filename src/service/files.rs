//! A dropped, pasted or picked file: images go to the analysis, `.safetensors` files to the models.

use std::rc::Rc;

use wasm_bindgen_futures::JsFuture;
use yew::Callback;

use crate::store::{Action, ImageInput};

pub fn read_file(file: web_sys::File, dispatch: Callback<Action>) {
    let name = file.name();
    let is_model = name.to_lowercase().ends_with(".safetensors");
    wasm_bindgen_futures::spawn_local(async move {
        let bytes = match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => Ok(Rc::new(js_sys::Uint8Array::new(&buffer).to_vec())),
            Err(e) => Err(format!("{name}: the file could not be read ({e:?})")),
        };
        dispatch.emit(if is_model {
            Action::ModelFileRead(bytes.map(|b| (name, b)))
        } else {
            Action::ImageRead(bytes.map(|bytes| ImageInput { name, bytes, gallery: None }))
        });
    });
}
