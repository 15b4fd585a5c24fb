//! A dropped `File` as a [`ByteSource`]: each read is one `Blob.slice` read through
//! `FileReaderSync` (which only workers have), so a 1 GB checkpoint is never in memory whole.

use std::io;

use js_sys::Uint8Array;
use vitscope_convert::ByteSource;
use web_sys::{File, FileReaderSync};

// The impls of `Send` and `Sync` below hold only while the wasm has one thread.
#[cfg(target_feature = "atomics")]
compile_error!("BlobSource assumes a single-threaded wasm build (no `atomics` target feature)");

pub struct BlobSource {
    file: File,
    reader: FileReaderSync,
    len: u64,
}

// SAFETY: built without the `atomics` target feature (checked above), this wasm module runs on one
// thread, so the JS handles inside can never be reached from another.
unsafe impl Send for BlobSource {}
unsafe impl Sync for BlobSource {}

impl BlobSource {
    pub fn new(file: File) -> Result<Self, String> {
        let reader =
            FileReaderSync::new().map_err(|e| format!("this browser cannot read files in a worker ({e:?})"))?;
        let len = file.size() as u64;
        Ok(Self { file, reader, len })
    }
}

impl ByteSource for BlobSource {
    fn len(&self) -> io::Result<u64> {
        Ok(self.len)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let end = offset.checked_add(buf.len() as u64).filter(|&end| end <= self.len);
        let end = end.ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        let gone = |e: wasm_bindgen::JsValue| {
            // Chromium says NotReadableError when the file was changed or moved after it was chosen.
            io::Error::other(format!(
                "the browser could not read the file: {} (was it changed or moved?)",
                super::describe(&e)
            ))
        };
        let slice = self.file.slice_with_f64_and_f64(offset as f64, end as f64).map_err(gone)?;
        let buffer = self.reader.read_as_array_buffer(&slice).map_err(gone)?;
        let bytes = Uint8Array::new(&buffer);
        if bytes.length() as usize != buf.len() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file is shorter than when it was chosen"));
        }
        bytes.copy_to(buf);
        Ok(())
    }
}
