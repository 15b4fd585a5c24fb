//! The page's end of the inference worker: spawns the worker built for a backend, posts requests, and
//! turns its answers and its death into actions tagged with the worker's generation (so the store can
//! ignore a replaced worker's last words). Dropping a [`Connection`] ends its worker.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};
use yew::Callback;

use vitscope_protocol::messages::{Backend, Envelope, ModelSource, Request, Response, decode, encode};

use crate::store::Action;

/// Requests wait here until the worker says it listens: its wasm loads asynchronously, and a message
/// that arrives before its handler exists is dropped.
#[derive(Default)]
struct Outbox {
    listening: bool,
    waiting: Vec<Message>,
}

/// An encoded request, and the dropped file that travels beside it.
struct Message {
    bytes: Uint8Array,
    file: Option<web_sys::File>,
}

pub struct Connection {
    worker: Worker,
    outbox: Rc<RefCell<Outbox>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

fn post(worker: &Worker, message: &Message) {
    let transfer = js_sys::Array::of1(&message.bytes.buffer());
    // A `File` is cloned by reference: the worker reads it in slices, and the page never reads it.
    let _ = match &message.file {
        Some(file) => worker.post_message_with_transfer(&js_sys::Array::of2(&message.bytes, file), &transfer),
        None => worker.post_message_with_transfer(&message.bytes, &transfer),
    };
}

impl Connection {
    /// Starts the worker built for `backend` (relative, so the page works from any sub-path).
    pub fn spawn(backend: Backend, generation: u32, dispatch: Callback<Action>) -> Result<Self, String> {
        let worker =
            Worker::new(backend.worker_script()).map_err(|e| format!("the inference worker could not start: {e:?}"))?;
        let outbox = Rc::new(RefCell::new(Outbox::default()));
        let (waiting, target, replies) = (outbox.clone(), worker.clone(), dispatch.clone());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            // `[message, Blob]` when a converted file travels with the reply, else the message alone.
            let data = event.data();
            let (message, blob) = match data.dyn_ref::<js_sys::Array>() {
                Some(parts) => (parts.get(0), parts.get(1).dyn_into::<web_sys::Blob>().ok()),
                None => (data, None),
            };
            // A view of the message's bytes: `Uint8Array::new` of a Uint8Array would copy them first.
            let bytes = message.dyn_into::<Uint8Array>().unwrap_or_else(|m| Uint8Array::new(&m)).to_vec();
            let envelope = decode::<Envelope<Response>>(&bytes);
            if let (Ok(Envelope { body: Response::Converted(c), .. }), Some(blob)) = (&envelope, blob) {
                super::files::keep(&c.file_name, &blob);
            }
            match envelope {
                Ok(Envelope { body: Response::Listening, .. }) => {
                    let mut outbox = waiting.borrow_mut();
                    outbox.listening = true;
                    for message in outbox.waiting.drain(..) {
                        post(&target, &message);
                    }
                }
                Ok(envelope) => replies.emit(Action::WorkerReplied { generation, envelope: Box::new(envelope) }),
                Err(error) => replies.emit(Action::WorkerCrashed { generation, message: error.to_string() }),
            }
        });
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            event.prevent_default();
            dispatch.emit(Action::WorkerCrashed { generation, message: event.message() });
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self { worker, outbox, _on_message: on_message, _on_error: on_error })
    }

    /// Posts a request now, or once the worker listens.
    pub fn send(&self, envelope: &Envelope<Request>) {
        let bytes = Uint8Array::from(encode(envelope).as_slice());
        let file = match &envelope.body {
            Request::LoadModel { source: ModelSource::Dropped { name, .. }, .. } => super::files::dropped(name),
            _ => None,
        };
        let message = Message { bytes, file };
        let mut outbox = self.outbox.borrow_mut();
        if outbox.listening {
            post(&self.worker, &message);
        } else {
            outbox.waiting.push(message);
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Unhook first: the closures are freed with `self`, and a queued event must not call them.
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}
