//! Where a checkpoint's bytes come from: a file, a buffer, or anything else that can read at an
//! offset (a browser `Blob` read through `FileReaderSync` in a worker).
//!
//! vitscope's fork: upstream opens every container by path, which WebAssembly in a browser cannot
//! do. Every reader here works through a [`ByteSource`], and a path is one way to make one.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

/// Random access to a checkpoint's bytes. Reads never depend on a shared cursor, so tensors can be
/// read from several threads at once.
pub trait ByteSource: Send + Sync {
    /// The source's length in bytes.
    fn len(&self) -> io::Result<u64>;

    /// Whether the source holds no bytes.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Fills `buf` from `offset`; a source ending before `buf` is full is `UnexpectedEof`.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl ByteSource for File {
    fn len(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    #[cfg(unix)]
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }

    /// `seek_read` also moves the cursor, which nothing here depends on: every read in this crate
    /// goes through a [`SourceReader`] with its own position.
    #[cfg(windows)]
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        use std::os::windows::fs::FileExt;
        while !buf.is_empty() {
            match self.seek_read(buf, offset) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(read) => {
                    buf = &mut buf[read..];
                    offset += read as u64;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    #[cfg(not(any(unix, windows)))]
    fn read_exact_at(&self, _buf: &mut [u8], _offset: u64) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no positional file read on this target: open the checkpoint through a ByteSource",
        ))
    }
}

impl ByteSource for Vec<u8> {
    fn len(&self) -> io::Result<u64> {
        Ok(self.as_slice().len() as u64)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let range = usize::try_from(offset)
            .ok()
            .and_then(|start| Some(start..start.checked_add(buf.len())?))
            .and_then(|range| self.get(range))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(range);
        Ok(())
    }
}

/// A [`ByteSource`] read as a stream, for the parts of a container that are parsed in order (the
/// ZIP directory, the legacy pickles, a TAR archive). Each reader has its own position.
pub(crate) struct SourceReader {
    source: Arc<dyn ByteSource>,
    position: u64,
    len: u64,
}

impl SourceReader {
    pub fn new(source: Arc<dyn ByteSource>) -> io::Result<Self> {
        let len = source.len()?;
        Ok(Self {
            source,
            position: 0,
            len,
        })
    }
}

impl Read for SourceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.position);
        let n = usize::try_from(left).map_or(buf.len(), |left| left.min(buf.len()));
        self.source.read_exact_at(&mut buf[..n], self.position)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for SourceReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the source",
            )
        })?;
        Ok(self.position)
    }
}
