//! A dropped image: format sniffing, size limits before decoding, decoding, EXIF orientation.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = vitscope_core::image::decode(data);
    });
}
