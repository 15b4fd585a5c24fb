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
        let onclick = Callback::from(move |_: MouseEvent| {
            dispatch.emit(Action::StartCamera { choice: crate::service::files::next_choice() })
        });
        return html! {
            <button id="camera-start" class="button" {onclick}
                title="Frames are analysed in this page and never leave it">{ "Use the camera" }</button>
        };
    };
    let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(Action::StopCamera));
    let said = match (&camera.device, camera.analysed, camera.rate()) {
        (None, ..) => "Asking for the camera…".to_string(),
        (Some(device), None, _) => format!("{device}: analysing the first frame…"),
        (Some(device), Some(frame), None) => format!("{device}: frame {frame} shown"),
        (Some(device), Some(frame), Some(rate)) => format!("{device}: frame {frame} shown, {rate:.1} frames a second"),
    };
    let analysed = camera.analysed.map(|f| f.to_string());
    html! {
        <span class="camera">
            <span id="camera-rate" class="camera-rate" aria-live="off" data-analysed={analysed}>{ said }</span>
            <button id="camera-stop" class="button" {onclick}>{ "Stop camera" }</button>
        </span>
    }
}
