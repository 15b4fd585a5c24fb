//! The camera's button and what it is doing: asking, or live with its frame rate.

use yew::prelude::*;

use crate::store::handle::use_dispatch;
use crate::store::{Action, Camera};

#[derive(Properties, PartialEq)]
pub struct CameraProps {
    pub camera: Option<Camera>,
}

#[function_component]
pub fn CameraControl(props: &CameraProps) -> Html {
    let dispatch = use_dispatch();
    let Some(camera) = &props.camera else {
        let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(Action::StartCamera));
        return html! {
            <button id="camera-start" class="button" {onclick}
                title="Frames are analysed in this page and never leave it">{ "Use the camera" }</button>
        };
    };
    let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(Action::StopCamera));
    let said = match (&camera.device, camera.rate()) {
        (None, _) => "Asking for the camera…".to_string(),
        (Some(device), None) => format!("{device}: frame {}", camera.frames),
        (Some(device), Some(rate)) => format!("{device}: {rate:.1} frames a second, frame {}", camera.frames),
    };
    html! {
        <span class="camera">
            <span id="camera-rate" class="camera-rate" aria-live="off">{ said }</span>
            <button id="camera-stop" class="button" {onclick}>{ "Stop camera" }</button>
        </span>
    }
}
