//! What a download from an address in a link (`?model=`, `?manifest=`, a manifest's files) may send,
//! decided from its headers and then as each chunk arrives, so a hostile or broken server (a web page
//! where a file should be, a body without end, silence) gets a message instead of the tab's memory.
//! The page's fetches and the worker's model downloads both stream through a [`Budget`].

/// A download that receives nothing for this long is stopped.
pub const STALL_MS: u32 = 30_000;

/// The most bytes a model file may have (the weight format's own limit).
pub const MAX_MODEL_BYTES: u64 = 2 << 30;

/// The most bytes a model list may have.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// The most bytes an image file may have, checked before it is read: a 64 MP PNG fits, a 2 GB file
/// named `.jpg` is refused before it takes the tab's memory (the page, the worker and the CLI).
pub const MAX_IMAGE_FILE_BYTES: u64 = 250_000_000;

/// The name endings of the images a folder holds, for the CLI's `analyze` and the page's folder
/// picker alike (compared in lower case).
pub const IMAGE_EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "webp", "gif", "bmp", "jfif"];

/// Whether `name` ends like an image file.
pub fn is_image_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// `bytes` for people: "2 GiB", "97 MB", "97.4 MB", "1,000 bytes".
pub fn size_label(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1_000_000 && b % 1_000_000 == 0 => format!("{} MB", b / 1_000_000),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b => {
            let digits = b.to_string();
            let mut grouped = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            format!("{grouped} bytes")
        }
    }
}

/// The limits of one download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    limit: u64,
    /// The size a manifest announced: sending more is an error even under the format's limit.
    announced: Option<u64>,
    /// What is downloaded, for messages: "a model file", "the model list".
    what: &'static str,
}

impl Budget {
    /// A model file, with the size its manifest announces when there is one.
    pub fn model(announced: Option<u64>) -> Self {
        Self { limit: announced.unwrap_or(MAX_MODEL_BYTES).min(MAX_MODEL_BYTES), announced, what: "a model file" }
    }

    pub fn manifest() -> Self {
        Self { limit: MAX_MANIFEST_BYTES, announced: None, what: "the model list" }
    }

    /// The most bytes this download reads.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Checks the answer's headers before a byte of its body is read. `Content-Length` counts
    /// compressed bytes when the host compresses, so only a length above the format's limit is
    /// refused here; the body is counted as it arrives.
    pub fn check_headers(&self, content_type: Option<&str>, content_length: Option<u64>) -> Result<(), String> {
        if let Some(kind) = content_type
            && kind.trim_start().to_ascii_lowercase().starts_with("text/html")
        {
            return Err(format!("the server sent a web page (text/html), not {}: is the address right?", self.what));
        }
        match content_length {
            Some(n) if self.announced.is_none() && n > self.limit => Err(format!(
                "the server announces {}, more than {} may have ({})",
                size_label(n),
                self.what,
                size_label(self.limit)
            )),
            _ => Ok(()),
        }
    }

    /// Checks the bytes received so far; an error stops the download.
    pub fn check(&self, received: u64) -> Result<(), String> {
        if received <= self.limit {
            return Ok(());
        }
        Err(match self.announced {
            Some(n) if n <= MAX_MODEL_BYTES => {
                format!("the server sent more than the {} the model list announces; stopped", size_label(n))
            }
            _ => format!("the server sent more than {} may have ({}); stopped", self.what, size_label(self.limit)),
        })
    }

    /// The message for a download that received nothing for [`STALL_MS`].
    pub fn stalled(&self, received: u64) -> String {
        format!("the server sent nothing for {} s after {}; stopped", STALL_MS / 1000, size_label(received))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_label(2 << 30), "2 GiB");
        assert_eq!(size_label(1 << 20), "1 MiB");
        assert_eq!(size_label(97_000_000), "97 MB");
        assert!(is_image_name("a.JPG") && is_image_name("b.tar.jpeg") && is_image_name("x.JfIf"));
        assert!(!is_image_name("jpg") && !is_image_name("notes.txt") && !is_image_name("a.jpg.pth"));
        assert_eq!(size_label(97_000_001), "97.0 MB");
        assert_eq!(size_label(268_435_456), "256 MiB");
        assert_eq!(size_label(1000), "1,000 bytes");
        assert_eq!(size_label(123_456), "123,456 bytes");
        assert_eq!(size_label(7), "7 bytes");
    }

    #[test]
    fn a_web_page_is_refused_by_its_type() {
        let html = Budget::model(None).check_headers(Some(" Text/HTML; charset=utf-8"), None).unwrap_err();
        assert_eq!(html, "the server sent a web page (text/html), not a model file: is the address right?");
        assert!(Budget::model(None).check_headers(Some("application/octet-stream"), Some(97_000_000)).is_ok());
        assert!(Budget::manifest().check_headers(Some("application/json"), Some(900)).is_ok());
    }

    #[test]
    fn a_body_is_stopped_past_the_announced_size_or_the_formats_limit() {
        let announced = Budget::model(Some(1000));
        assert_eq!(announced.limit(), 1000);
        // A compressed Content-Length may differ from the file's size: only the body counts.
        assert!(announced.check_headers(None, Some(5000)).is_ok());
        assert!(announced.check(1000).is_ok());
        assert_eq!(
            announced.check(1001).unwrap_err(),
            "the server sent more than the 1,000 bytes the model list announces; stopped"
        );
        let open = Budget::model(None);
        assert_eq!(open.limit(), MAX_MODEL_BYTES);
        assert_eq!(
            open.check_headers(None, Some(3 << 30)).unwrap_err(),
            "the server announces 3 GiB, more than a model file may have (2 GiB)"
        );
        assert!(open.check(MAX_MODEL_BYTES).is_ok());
        assert_eq!(
            open.check(MAX_MODEL_BYTES + 1).unwrap_err(),
            "the server sent more than a model file may have (2 GiB); stopped"
        );
        // A manifest announcing more than the format allows is capped at the format's limit.
        assert_eq!(Budget::model(Some(5 << 30)).limit(), MAX_MODEL_BYTES);
        assert_eq!(
            Budget::manifest().check(MAX_MANIFEST_BYTES + 1).unwrap_err(),
            "the server sent more than the model list may have (1 MiB); stopped"
        );
        assert_eq!(Budget::manifest().stalled(2048), "the server sent nothing for 30 s after 2,048 bytes; stopped");
    }
}
