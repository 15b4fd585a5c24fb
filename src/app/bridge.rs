//! The page's end of the worker: spawns it, sends requests, and turns its answers and its crash into
//! callbacks. Cancelling a run terminates the worker; the page starts a fresh one.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};
use yew::Callback;

use crate::worker::protocol::{Backend, Envelope, Request, Response, decode, encode};

pub enum WorkerEvent {
    Reply(Envelope<Response>),
    /// The worker died (a panic, out of memory, a lost GPU that burn could not survive).
    Crashed(String),
}

/// Requests wait here until the worker says it listens: its wasm loads asynchronously, and a message
/// that arrives before its handler exists is dropped.
#[derive(Default)]
struct Outbox {
    listening: bool,
    waiting: Vec<Uint8Array>,
}

pub struct Bridge {
    worker: Worker,
    next_id: u32,
    outbox: Rc<RefCell<Outbox>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

fn post(worker: &Worker, bytes: &Uint8Array) {
    let transfer = js_sys::Array::of1(&bytes.buffer());
    let _ = worker.post_message_with_transfer(bytes, &transfer);
}

impl Bridge {
    /// Starts the worker built for `backend` (Trunk's loader script for each worker binary).
    pub fn spawn(backend: Backend, on_event: Callback<WorkerEvent>) -> Result<Self, String> {
        let script = match backend {
            Backend::Cpu => "./explorer-worker-cpu_loader.js",
            Backend::WebGpu => "./explorer-worker-gpu_loader.js",
        };
        // Relative, so the page works from any sub-path.
        let worker = Worker::new(script).map_err(|e| format!("the inference worker could not start: {e:?}"))?;
        let outbox = Rc::new(RefCell::new(Outbox::default()));
        let events = on_event.clone();
        let (box_ref, target) = (outbox.clone(), worker.clone());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let bytes = Uint8Array::new(&event.data()).to_vec();
            match decode::<Envelope<Response>>(&bytes) {
                Ok(Envelope { body: Response::Listening, .. }) => {
                    let mut outbox = box_ref.borrow_mut();
                    outbox.listening = true;
                    for message in outbox.waiting.drain(..) {
                        post(&target, &message);
                    }
                }
                Ok(envelope) => events.emit(WorkerEvent::Reply(envelope)),
                Err(message) => events.emit(WorkerEvent::Crashed(message)),
            }
        });
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            event.prevent_default();
            on_event.emit(WorkerEvent::Crashed(event.message()));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self { worker, next_id: 1, outbox, _on_message: on_message, _on_error: on_error })
    }

    /// Sends a request (or queues it until the worker listens); returns the id its answers will carry.
    pub fn send(&mut self, body: Request) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        let bytes = Uint8Array::from(encode(&Envelope { id, body }).as_slice());
        let mut outbox = self.outbox.borrow_mut();
        if outbox.listening {
            post(&self.worker, &bytes);
        } else {
            outbox.waiting.push(bytes);
        }
        id
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}
