//! A checkpoint converted as `vitscope convert` and the page convert it: safetensors or PyTorch
//! (zip, tar, legacy pickle), layout detection, key mapping and every tensor the layout keeps.
use std::sync::Arc;

use vitscope_convert::{ConvertOptions, convert_source};

fn main() {
    // The hash names the source on the card; fuzzing it would only cost time.
    let options = ConvertOptions { sha256: Some("0".repeat(64)), ..ConvertOptions::default() };
    afl::fuzz!(|data: &[u8]| {
        let _ = convert_source(Arc::new(data.to_vec()), "fuzzed.pth", &options, &mut |_| {});
    });
}
