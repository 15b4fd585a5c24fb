//! The page ↔ worker messages, both directions.
use vitscope_protocol::messages::{Envelope, Request, Response, decode};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = decode::<Envelope<Request>>(data);
        let _ = decode::<Envelope<Response>>(data);
    });
}
