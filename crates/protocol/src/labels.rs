//! Where a labelled set's classes come from, for the probes: each image's first subfolder, or a
//! `labels.csv` at the folder's top. The CLI and the page read a folder by these same rules, so their
//! probes give each image the same class.

use std::collections::BTreeMap;

/// The file a labelled folder may name its images' classes in.
pub const LABELS_FILE: &str = "labels.csv";

/// Whether a file at the folder's top is its [`LABELS_FILE`], however its name is cased (a file
/// saved as `Labels.CSV` on Windows or macOS is meant as the same).
fn is_labels_file(name: &str) -> bool {
    name.eq_ignore_ascii_case(LABELS_FILE)
}

/// Which of a folder's top-level names is its labels file: [`LABELS_FILE`] itself, or else the first
/// in byte order of those named so in another case. The CLI and the page both choose by this.
pub fn labels_file<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut found: Option<&str> = None;
    for name in names.into_iter().filter(|n| is_labels_file(n)) {
        if name == LABELS_FILE {
            return Some(name);
        }
        found = Some(found.map_or(name, |f| f.min(name)));
    }
    found
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Labels {
    /// The class of `dogs/a.jpg` is `dogs`; images at the top have none.
    #[default]
    Subfolders,
    /// From `labels.csv`.
    Listed(Listed),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listed {
    /// Image path (relative to the folder, `/`-separated) → class.
    exact: BTreeMap<String, String>,
    /// The same paths in ASCII lower case → class; `None` where listed paths that differ only in
    /// case have different classes.
    folded: BTreeMap<String, Option<String>>,
}

impl Labels {
    /// Reads `labels.csv`: a `file,label` row per image (its path under the folder, then its class),
    /// optionally under a header row; blank lines and lines starting with `#` are skipped, and fields
    /// may be quoted as spreadsheets write them.
    pub fn from_csv(text: &str) -> Result<Self, String> {
        let mut listed = BTreeMap::new();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields = split_row(line);
            let [file, class] = fields.as_slice() else {
                return Err(format!(
                    "{LABELS_FILE} line {number}: expected `file,label`, found {} field{}",
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" }
                ));
            };
            // Windows' separators, as a spreadsheet there writes paths (so a `\` inside a file's own
            // name, possible elsewhere, cannot be listed).
            let file = file.replace('\\', "/");
            let file = file.trim_start_matches("./");
            if listed.is_empty() && is_header(file, class) {
                continue;
            }
            if file.is_empty() || class.is_empty() {
                return Err(format!("{LABELS_FILE} line {number}: a file and a label are both needed"));
            }
            if let Some(before) = listed.insert(file.to_string(), class.clone())
                && &before != class
            {
                return Err(format!("{LABELS_FILE} line {number}: {file} is labelled both {before} and {class}"));
            }
        }
        if listed.is_empty() {
            return Err(format!("{LABELS_FILE} lists no images"));
        }
        let mut folded: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (file, class) in &listed {
            folded
                .entry(file.to_ascii_lowercase())
                .and_modify(|c| {
                    if c.as_ref() != Some(class) {
                        *c = None;
                    }
                })
                .or_insert_with(|| Some(class.clone()));
        }
        Ok(Self::Listed(Listed { exact: listed, folded }))
    }

    /// The class of the image at `path`, or `None` when it has none. A listed path matches exactly,
    /// or else with ASCII letters' case ignored, unless listed paths that differ only in case have
    /// different classes (a list written on a file system that ignores case).
    pub fn class_of<'a>(&'a self, path: &'a str) -> Option<&'a str> {
        match self {
            Self::Subfolders => {
                let mut parts = path.split('/').filter(|p| !p.is_empty());
                let class = parts.next()?;
                parts.next().map(|_| class)
            }
            Self::Listed(Listed { exact, folded }) => {
                exact.get(path).or_else(|| folded.get(&path.to_ascii_lowercase())?.as_ref()).map(String::as_str)
            }
        }
    }

    /// Why an image has no class, for the list of skipped images.
    pub fn why_unlabelled(&self) -> String {
        match self {
            Self::Subfolders => "not in a class subfolder".into(),
            Self::Listed(_) => format!("not listed in {LABELS_FILE}"),
        }
    }
}

/// Numbers the classes of a set's images (`None`: an image without one) in the order they are first
/// met: the class names, and each image's class index.
pub fn number_classes<'a>(of_images: impl IntoIterator<Item = Option<&'a str>>) -> (Vec<String>, Vec<Option<usize>>) {
    let mut classes: Vec<String> = Vec::new();
    let indices = of_images
        .into_iter()
        .map(|class| {
            let class = class?;
            Some(classes.iter().position(|c| c == class).unwrap_or_else(|| {
                classes.push(class.to_string());
                classes.len() - 1
            }))
        })
        .collect();
    (classes, indices)
}

fn is_header(file: &str, class: &str) -> bool {
    let file = file.to_ascii_lowercase();
    let class = class.to_ascii_lowercase();
    ["file", "filename", "path", "image"].contains(&file.as_str())
        && ["label", "class", "category", "target"].contains(&class.as_str())
}

/// One CSV row's fields, trimmed, with RFC 4180 quoting (`"a,b"`, `""` for a quote).
fn split_row(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        let field = fields.last_mut().expect("one field at least");
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => field.push(c),
        }
    }
    fields.iter().map(|f| f.trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_is_the_first_subfolder_and_top_images_have_none() {
        let labels = Labels::Subfolders;
        assert_eq!(labels.class_of("dogs/a.jpg"), Some("dogs"));
        assert_eq!(labels.class_of("dogs/puppies/a.jpg"), Some("dogs"));
        assert_eq!(labels.class_of("a.jpg"), None);
        assert_eq!(labels.class_of("/a.jpg"), None);
    }

    #[test]
    fn a_labels_file_names_each_images_class() {
        let text =
            "\u{feff}file,label\n# photos\n./a.jpg, cat\n\n\"b, the second.jpg\",\"dog \"\"rex\"\"\"\nsub/c.png,cat\n";
        let labels = Labels::from_csv(text).unwrap();
        assert_eq!(labels.class_of("a.jpg"), Some("cat"));
        assert_eq!(labels.class_of("b, the second.jpg"), Some("dog \"rex\""));
        assert_eq!(labels.class_of("sub/c.png"), Some("cat"));
        assert_eq!(labels.class_of("d.jpg"), None);
        assert_eq!(labels.why_unlabelled(), "not listed in labels.csv");
        // A header is only a header on the first row.
        assert_eq!(Labels::from_csv("a.jpg,x\nfile,label\n").unwrap().class_of("file"), Some("label"));
    }

    #[test]
    fn a_list_written_where_case_and_separators_differ_still_finds_its_images() {
        let labels = Labels::from_csv("Cat.JPG,cat\ntrain\\dog.jpg,dog\nb.jpg,x\nB.jpg,y\n").unwrap();
        assert_eq!(labels.class_of("cat.jpg"), Some("cat"));
        assert_eq!(labels.class_of("Cat.JPG"), Some("cat"));
        assert_eq!(labels.class_of("train/dog.jpg"), Some("dog"));
        assert_eq!(labels.class_of("Train/Dog.jpg"), Some("dog"));
        // Two listed paths that differ only in case: each matches itself, a third casing neither.
        assert_eq!((labels.class_of("b.jpg"), labels.class_of("B.jpg")), (Some("x"), Some("y")));
        assert_eq!(labels.class_of("b.JPG"), None);
        assert!(is_labels_file("labels.csv") && is_labels_file("Labels.CSV") && !is_labels_file("labels.csv.bak"));
        // Rows that differ only in case but agree on the class still match a third casing.
        let same = Labels::from_csv("a.jpg,x\nA.jpg,x\n").unwrap();
        assert_eq!(same.class_of("a.JPG"), Some("x"));
        // Which file is the list: labels.csv itself, or the first other casing in byte order.
        assert_eq!(labels_file(["a.jpg", "Labels.csv", "labels.csv", "LABELS.CSV"]), Some("labels.csv"));
        assert_eq!(labels_file(["Labels.csv", "a.jpg", "LABELS.CSV"]), Some("LABELS.CSV"));
        assert_eq!(labels_file(["a.jpg", "sub/labels.csv"]), None);
    }

    #[test]
    fn classes_are_numbered_in_the_order_first_met() {
        let (classes, indices) = number_classes([Some("dog"), None, Some("cat"), Some("dog")]);
        assert_eq!(classes, ["dog", "cat"]);
        assert_eq!(indices, [Some(0), None, Some(1), Some(0)]);
    }

    #[test]
    fn a_broken_labels_file_says_which_line() {
        let err = |text: &str| Labels::from_csv(text).unwrap_err();
        assert_eq!(err("a.jpg,cat\nb.jpg\n"), "labels.csv line 2: expected `file,label`, found 1 field");
        assert_eq!(err("a.jpg,cat,extra\n"), "labels.csv line 1: expected `file,label`, found 3 fields");
        assert_eq!(err("a.jpg,\n"), "labels.csv line 1: a file and a label are both needed");
        assert_eq!(err("a.jpg,cat\na.jpg,dog\n"), "labels.csv line 2: a.jpg is labelled both cat and dog");
        assert_eq!(err("file,label\n\n"), "labels.csv lists no images");
        assert!(Labels::from_csv("a.jpg,cat\na.jpg,cat\n").is_ok(), "a repeated row is harmless");
    }
}
