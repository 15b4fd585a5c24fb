//! The two edits a position table may need on conversion, after the keys are mapped.

use vitscope_core::model::names;
use vitscope_core::model::position::resize_absolute;
use vitscope_core::model::{HostTensor, HostWeights};

use crate::layout::Plan;

/// Hugging Face's DINOv2 with registers adds the table's first row to CLS before inserting the
/// registers; vitscope (like timm) stores that sum as the CLS token and the patch rows as the table.
pub fn fold_class_position(plan: &Plan, weights: &mut HostWeights) {
    if !plan.fold_class_position {
        return;
    }
    let c = plan.config.width;
    let Some(table) = weights.get_mut(names::POSITION_TABLE) else { return };
    let class_row: Vec<f32> = table.data.drain(..c).collect();
    table.shape[1] -= 1;
    if let Some(cls) = weights.get_mut(names::CLS_TOKEN) {
        cls.data.iter_mut().zip(&class_row).for_each(|(t, p)| *t += p);
    }
}

/// `convert --image-size` stores the model at another size: its absolute table is resampled as
/// timm's `resample_abs_pos_embed` does (the forward pass would otherwise do it on every load).
pub fn resample_to_stored_size(plan: &Plan, weights: &mut HostWeights) {
    let config = &plan.config;
    if plan.trained_image_size == config.image_size {
        return;
    }
    let Some(table) = weights.get_mut(names::POSITION_TABLE) else { return };
    let (old, new) = (plan.trained_image_size / config.patch_size, config.grid());
    let rows = config.position_prefix();
    *table = HostTensor::new(
        vec![1, new * new + rows, config.width],
        resize_absolute(&table.data, config.width, rows, old, new),
    );
}
