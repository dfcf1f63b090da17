//! One journal entry and its file format.
//!
//! A small text file, one `name=value` field a line, between a version header and an `end`
//! line:
//!
//! ```text
//! s3sync upload journal 1
//! target=http://127.0.0.1:9000 us-east-1 bucket
//! key=dir/big.bin
//! upload_id=2~abc
//! source=file
//! size=268435456
//! version=1715000000123456789
//! part_size=8388608
//! checksum=
//! pid=4242
//! host=builder
//! created=1715000000
//! end
//! ```
//!
//! Values are written as they are except for three escapes, so that any UTF-8 key (a
//! newline included) stays on its line: `\\` for a backslash, `\n` for a line feed and `\r`
//! for a carriage return. Every field is required and may appear once; anything else makes
//! the file corrupt. The `end` line tells a complete file from one cut short (the writer
//! renames complete files into place, so only damage from outside cuts one short). A file
//! whose header names another version is foreign: written by another release of s3sync,
//! left alone rather than guessed at.

/// The first line of every entry this release writes.
const HEADER: &str = "s3sync upload journal 1";
/// What every entry's header starts with, whatever its version.
const HEADER_FAMILY: &str = "s3sync upload journal ";

/// Where an upload's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A local file: resumable.
    File,
    /// Another object streamed through s3sync: recorded so a killed run's upload can be
    /// aborted, not resumed.
    Object,
    /// Another object copied by the server (UploadPartCopy): recorded, not resumed.
    ServerCopy,
}

impl SourceKind {
    fn name(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Object => "object",
            SourceKind::ServerCopy => "copy",
        }
    }

    fn parse(text: &str) -> Option<SourceKind> {
        match text {
            "file" => Some(SourceKind::File),
            "object" => Some(SourceKind::Object),
            "copy" => Some(SourceKind::ServerCopy),
            _ => None,
        }
    }
}

/// What the source was when the upload started: an upload may only be resumed from a
/// source that is still the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceId {
    pub kind: SourceKind,
    pub size: u64,
    /// The file's modification time in nanoseconds since 1970, or the object's ETag (and
    /// version id): anything that changes when the content may have.
    pub version: String,
}

/// One multipart upload in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The endpoint, region and bucket (see `S3Store::identity`).
    pub target: String,
    /// The full object key.
    pub key: String,
    pub upload_id: String,
    pub source: SourceId,
    /// The size of every part but the last.
    pub part_size: u64,
    /// The additional checksum the upload was created with (`CRC32C/COMPOSITE`), or empty.
    pub checksum: String,
    /// The process that started the upload, and its host: a live one is not interfered with.
    pub pid: u32,
    pub host: String,
    /// Seconds since 1970 when the upload was created.
    pub created: u64,
}

/// Why a file is not an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Damaged, or not a journal entry at all.
    Corrupt(String),
    /// Written by a release with another format version.
    Foreign(String),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::Corrupt(why) => write!(f, "corrupt ({why})"),
            Unreadable::Foreign(header) => {
                write!(f, "written by another version of s3sync ('{header}')")
            }
        }
    }
}

const FIELDS: [&str; 11] = [
    "target",
    "key",
    "upload_id",
    "source",
    "size",
    "version",
    "part_size",
    "checksum",
    "pid",
    "host",
    "created",
];

impl Entry {
    /// The file's text.
    pub fn encode(&self) -> String {
        let values = [
            self.target.clone(),
            self.key.clone(),
            self.upload_id.clone(),
            self.source.kind.name().to_string(),
            self.source.size.to_string(),
            self.source.version.clone(),
            self.part_size.to_string(),
            self.checksum.clone(),
            self.pid.to_string(),
            self.host.clone(),
            self.created.to_string(),
        ];
        let mut out = String::with_capacity(256);
        out.push_str(HEADER);
        out.push('\n');
        for (name, value) in FIELDS.iter().zip(values) {
            out.push_str(name);
            out.push('=');
            escape(&value, &mut out);
            out.push('\n');
        }
        out.push_str("end\n");
        out
    }

    /// Reads a file's text back.
    pub fn decode(text: &str) -> Result<Entry, Unreadable> {
        let corrupt = |why: &str| Unreadable::Corrupt(why.to_string());
        let mut lines = text.split('\n');
        let header = lines.next().unwrap_or_default();
        if header != HEADER {
            return Err(if header.starts_with(HEADER_FAMILY) {
                Unreadable::Foreign(header.chars().take(60).collect())
            } else {
                corrupt("no journal header")
            });
        }
        let mut values: [Option<String>; FIELDS.len()] = Default::default();
        let mut ended = false;
        for line in lines {
            if ended {
                if line.is_empty() {
                    continue;
                }
                return Err(corrupt("text after the end line"));
            }
            if line == "end" {
                ended = true;
                continue;
            }
            let (name, raw) = line
                .split_once('=')
                .ok_or_else(|| corrupt("a line without '='"))?;
            let slot = FIELDS
                .iter()
                .position(|f| *f == name)
                .ok_or_else(|| corrupt("an unknown field"))?;
            if values[slot].is_some() {
                return Err(corrupt("a repeated field"));
            }
            values[slot] = Some(unescape(raw).ok_or_else(|| corrupt("a bad escape"))?);
        }
        if !ended {
            return Err(corrupt("cut short"));
        }
        let [
            target,
            key,
            upload_id,
            source,
            size,
            version,
            part_size,
            checksum,
            pid,
            host,
            created,
        ] = values.map(Option::unwrap_or_default);
        let number = |text: &str| text.parse::<u64>().map_err(|_| corrupt("a bad number"));
        if target.is_empty() || key.is_empty() || upload_id.is_empty() {
            return Err(corrupt("a missing field"));
        }
        Ok(Entry {
            target,
            key,
            upload_id,
            source: SourceId {
                kind: SourceKind::parse(&source).ok_or_else(|| corrupt("an unknown source"))?,
                size: number(&size)?,
                version,
            },
            part_size: number(&part_size)?,
            checksum,
            pid: pid.parse().map_err(|_| corrupt("a bad process id"))?,
            host,
            created: number(&created)?,
        })
    }
}

fn escape(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        Entry {
            target: "http://127.0.0.1:9000 us-east-1 b".into(),
            key: "dir/a=b\nc\\d\r é".into(),
            upload_id: "2~abc".into(),
            source: SourceId {
                kind: SourceKind::File,
                size: 268_435_456,
                version: "-1715000000123456789".into(),
            },
            part_size: 8 << 20,
            checksum: "CRC32C/COMPOSITE".into(),
            pid: 4242,
            host: "builder".into(),
            created: 1_715_000_000,
        }
    }

    #[test]
    fn entries_round_trip_with_any_key() {
        let entry = sample();
        let text = entry.encode();
        assert_eq!(text.lines().count(), 13, "{text}");
        assert!(text.contains("key=dir/a=b\\nc\\\\d\\r é\n"), "{text}");
        assert_eq!(Entry::decode(&text), Ok(entry));
    }

    #[test]
    fn damaged_and_foreign_files_are_told_apart() {
        let text = sample().encode();
        let corrupt = |t: &str| matches!(Entry::decode(t), Err(Unreadable::Corrupt(_)));
        assert!(corrupt(""));
        assert!(corrupt("garbage\x00\x01"));
        assert!(corrupt(&text[..text.len() - 4]), "cut short");
        assert!(corrupt(&text.replace("size=", "sighs=")));
        assert!(corrupt(&text.replace("size=268435456", "size=big")));
        assert!(corrupt(&text.replace("pid=4242\n", "pid=4242\npid=1\n")));
        assert!(corrupt(&text.replace("source=file", "source=tape")));
        assert!(corrupt(&text.replace("key=dir/a", "key=dir\\x")));
        assert!(corrupt(&format!("{text}more\n")));
        assert!(matches!(
            Entry::decode(&text.replace("journal 1", "journal 2")),
            Err(Unreadable::Foreign(_))
        ));
    }
}
