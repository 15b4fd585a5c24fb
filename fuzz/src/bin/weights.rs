//! A vitscope weight file: header, config, card, tensors, int8 scales, every check before a read.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = vitscope_core::weights::ModelFile::from_bytes(data);
    });
}
