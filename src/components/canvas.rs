//! A canvas showing a [`Picture`], painted after render through its `NodeRef` and only when the
//! picture changed (the element keeps its pixels across renders).

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData, KeyboardEvent, MouseEvent};
use yew::prelude::*;

use crate::figures::picture::Picture;

#[derive(Properties, PartialEq)]
pub struct CanvasProps {
    pub id: AttrValue,
    #[prop_or_else(|| classes!("map"))]
    pub class: Classes,
    pub picture: Picture,
    /// The text alternative, with the map's numbers.
    pub label: AttrValue,
    /// Canvases that move the query are focusable and take clicks, hovers and keys.
    #[prop_or_default]
    pub onclick: Option<Callback<MouseEvent>>,
    #[prop_or_default]
    pub onmousemove: Option<Callback<MouseEvent>>,
    #[prop_or_default]
    pub onkeydown: Option<Callback<KeyboardEvent>>,
}

fn paint(canvas: &HtmlCanvasElement, picture: &Picture) {
    let (rgba, size) = picture.rgba();
    canvas.set_width(size);
    canvas.set_height(size);
    let context = canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok());
    if let (Some(ctx), Ok(data)) = (context, ImageData::new_with_u8_clamped_array(Clamped(&rgba), size)) {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}

#[function_component]
pub fn PictureCanvas(props: &CanvasProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(props.picture.clone(), move |picture| {
            if let Some(canvas) = node.cast::<HtmlCanvasElement>() {
                paint(&canvas, picture);
            }
        });
    }
    let focusable = props.onkeydown.is_some().then_some("0");
    html! {
        <canvas ref={node} id={props.id.clone()} class={props.class.clone()} role="img" tabindex={focusable}
            aria-label={props.label.clone()} onclick={props.onclick.clone()} onmousemove={props.onmousemove.clone()}
            onkeydown={props.onkeydown.clone()}></canvas>
    }
}
