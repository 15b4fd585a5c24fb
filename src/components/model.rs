//! A model's title with its family badge, and its card in the footer (from the typed card, with this
//! image's timing for curious users and for the browser benchmark's data attributes).

use std::rc::Rc;

use vitscope_protocol::messages::{Converted, Kept, MAX_ATTENTION_BYTES, ModelInfo};
use vitscope_protocol::{Family, Timing};
use yew::prelude::*;

use crate::store::handle::use_dispatch;
use crate::store::{Action, Arithmetic};

/// A model the footer describes.
#[derive(Clone, PartialEq)]
pub struct ShownModel {
    pub info: Rc<ModelInfo>,
    /// This image's cost, once analysed.
    pub timing: Option<Timing>,
    /// Set when the page converted it from a checkpoint.
    pub converted: Option<Rc<Converted>>,
}

#[derive(Properties, PartialEq)]
pub struct ModelProps {
    pub info: Rc<ModelInfo>,
}

#[function_component]
pub fn FamilyBadge(props: &ModelProps) -> Html {
    let family = props.info.family();
    let class = match family {
        Family::Contrastive => "badge cl",
        Family::MaskedImageModeling => "badge mim",
        Family::Hybrid | Family::Supervised | Family::Unknown => "badge other",
    };
    html! { <span class={class} title={format!("{} family", family.label())}>{ family.label() }</span> }
}

/// A panel's heading: the model's name and family.
#[function_component]
pub fn ModelTitle(props: &ModelProps) -> Html {
    html! { <h3>{ props.info.name() }{ " " }<FamilyBadge info={props.info.clone()} /></h3> }
}

#[derive(Properties, PartialEq)]
pub struct CardProps {
    pub info: Rc<ModelInfo>,
    /// This image's cost, once analysed.
    pub timing: Option<Timing>,
    pub converted: Option<Rc<Converted>>,
}

#[function_component]
pub fn ModelCardItem(props: &CardProps) -> Html {
    let dispatch = use_dispatch();
    let m = &props.info;
    let grid = m.grid();
    let shape = format!(
        " ({}, ViT {grid}×{grid} patches of {} px, width {}, {} layers, {} heads, {}): ",
        m.family().label(),
        m.patch_size,
        m.width,
        m.depth,
        m.heads,
        m.precision
    );
    let notes = m.card.notes.as_deref().unwrap_or("");
    let timing = props.timing.map(|t| {
        html! {
            <span class="timing" data-model={m.id.clone()} data-forward-ms={format!("{:.1}", t.forward_ms)} data-first-ms={format!("{:.1}", t.first_ms)} data-total-ms={format!("{:.1}", t.total_ms)}>
                { format!(" This image: forward pass {:.0} ms, attention maps {:.0} ms, every analysis {:.0} ms.", t.forward_ms, t.first_ms, t.total_ms) }
            </span>
        }
    });
    let converted = props.converted.as_ref().map(|c| {
        let dispatch = dispatch.clone();
        let id = m.id.clone();
        let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(Action::SaveConverted(id.clone())));
        let kept = match &c.kept {
            Kept::Stored | Kept::Found => "kept in this browser",
            Kept::Unavailable(_) => "not kept: this page has no browser storage",
        };
        html! {
            <span class="converted">
                { format!(" Converted in this page from a {} checkpoint ({kept}). ", c.layout) }
                <button class="save-converted" {onclick}>{ format!("Save converted file ({:.1} MB)", c.size as f64 / 1e6) }</button>
            </span>
        }
    });
    let size = m.has_native_choice().then(|| size_choice(m, dispatch.clone()));
    html! {
        <li>
            <strong>{ m.name() }</strong>{ shape }
            { format!("trained on {}. {notes}", m.card.training_data) }
            <span class="preprocessing">{ format!(" Input: {}.", m.card.preprocessing.describe()) }</span>
            { size }
            { timing }
            { converted }
        </li>
    }
}

/// For a model trained at another size than its card runs it at (a 518-px DINOv2 runs at 224): the
/// size it runs at, and a button for the other one, disabled with the reason when the page could
/// not hold its attention maps.
fn size_choice(m: &ModelInfo, dispatch: Callback<Action>) -> Html {
    let (native, crop) = (m.native_size, m.card.preprocessing.crop);
    let at_native = m.image_size == native;
    let id = m.id.clone();
    let onclick = Callback::from(move |_: MouseEvent| {
        dispatch.emit(Action::SetNativeSize { id: id.clone(), native: !at_native })
    });
    let grid = native as usize / m.patch_size.max(1);
    let megabytes = m.attention_bytes(native) >> 20;
    let too_large = m.attention_bytes(native) > MAX_ATTENTION_BYTES;
    let (said, button) = if at_native {
        (format!(" Runs at its native {native} px."), format!("Run at {crop} px"))
    } else {
        (
            format!(" Trained at {native} px, run here at {crop} px (position table resampled)."),
            format!(
                "Run at its native {native} px ({grid}×{grid} patches; {megabytes} MB of attention maps, several GB of memory in all)"
            ),
        )
    };
    let why = too_large.then(|| {
        format!("At {native} px its attention maps take {megabytes} MB, more than the page holds; `vitscope analyze --image-size {native}` measures it natively.")
    });
    html! {
        <span class="run-size">
            { said }{ " " }
            <button class="native-size" disabled={too_large && !at_native} title={why.clone().unwrap_or_default()} {onclick}>{ button }</button>
            if let Some(why) = why { <span class="hint">{ format!(" {why}") }</span> }
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct ArithmeticProps {
    pub arithmetic: Arithmetic,
}

/// How the CPU multiplies by int8 weights: each dequantized to f32 (the f32 model's numbers, to the
/// file's rounding), or in integers (faster, within the int8 bounds the README states).
#[function_component]
pub fn ArithmeticChoice(props: &ArithmeticProps) -> Html {
    let dispatch = use_dispatch();
    let onchange = Callback::from(move |e: Event| {
        let v = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
        dispatch.emit(Action::SetArithmetic(if v == "int8" { Arithmetic::Int8 } else { Arithmetic::F32 }));
    });
    let option = |a: Arithmetic, text: &str| html! { <option value={a.label()} selected={props.arithmetic == a}>{ text }</option> };
    html! {
        <label class="control arithmetic">{ "Int8 weights multiply in " }
            <select {onchange}>
                { option(Arithmetic::F32, "f32 (each weight dequantized: the f32 model's numbers)") }
                { option(Arithmetic::Int8, "integers (faster; inputs rounded to 16 bits per token)") }
            </select>
        </label>
    }
}
