//! S3 additional checksums: CRC32, CRC32C and CRC64NVME (through `crc-fast`), SHA-1 and
//! SHA-256. A value is the base64 of the big-endian digest.
//!
//! A multipart object's checksum comes in two kinds. *Composite*: the digest of the
//! concatenated binary part digests, then `-` and the part count (SHA-1 and SHA-256 are
//! always composite). *Full-object*: the CRC of all the bytes, with no suffix (CRC64NVME is
//! always full-object, CRC32 and CRC32C on request). A full-object CRC is obtained here by
//! combining the part CRCs, never by reading the data again.

use md5::Digest as _;

use crate::util::encoding::{base64, base64_decode};

/// An additional checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Crc64Nvme,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// Parses `SHA256`, `crc32c`, ... (case-insensitive).
    pub fn parse(text: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(text.trim()))
    }

    /// The name S3 uses (`x-amz-checksum-algorithm`, `ChecksumAlgorithm`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The header carrying a value of this algorithm.
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The XML element carrying a value of this algorithm (`ChecksumCRC32`, ...).
    pub fn xml_element(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "ChecksumCRC32",
            Algorithm::Crc32c => "ChecksumCRC32C",
            Algorithm::Crc64Nvme => "ChecksumCRC64NVME",
            Algorithm::Sha1 => "ChecksumSHA1",
            Algorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// Whether multipart values of this algorithm can be full-object (the CRCs).
    pub fn is_crc(self) -> bool {
        matches!(
            self,
            Algorithm::Crc32 | Algorithm::Crc32c | Algorithm::Crc64Nvme
        )
    }

    fn crc(self) -> Option<crc_fast::CrcAlgorithm> {
        match self {
            Algorithm::Crc32 => Some(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            Algorithm::Crc32c => Some(crc_fast::CrcAlgorithm::Crc32Iscsi),
            Algorithm::Crc64Nvme => Some(crc_fast::CrcAlgorithm::Crc64Nvme),
            Algorithm::Sha1 | Algorithm::Sha256 => None,
        }
    }

    /// Bytes in a raw digest.
    pub fn width(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which checksum a run gives the objects it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecksumSpec {
    pub algorithm: Algorithm,
    /// Multipart values are full-object (always so for CRC64NVME).
    pub full_object: bool,
}

impl ChecksumSpec {
    /// The spec for `algorithm`: CRC64NVME is full-object whatever is asked.
    pub fn new(algorithm: Algorithm, full_object: bool) -> ChecksumSpec {
        ChecksumSpec {
            algorithm,
            full_object: full_object || algorithm == Algorithm::Crc64Nvme,
        }
    }

    /// The spec that reproduces a value a store reports: full-object when the store says so
    /// or the value carries no part count. `None` for a malformed value.
    pub fn of_stored(
        algorithm: Algorithm,
        value: &str,
        checksum_type: Option<&str>,
    ) -> Option<ChecksumSpec> {
        if !is_well_formed(algorithm, value) {
            return None;
        }
        let full_object = algorithm.is_crc()
            && (checksum_type == Some("FULL_OBJECT") || composite_parts(value).is_none());
        Some(ChecksumSpec {
            algorithm,
            full_object,
        })
    }

    /// `x-amz-checksum-type` of a multipart upload under this spec.
    pub fn type_name(self) -> &'static str {
        if self.full_object {
            "FULL_OBJECT"
        } else {
            "COMPOSITE"
        }
    }
}

/// One running digest of an additional checksum algorithm.
#[derive(Clone)]
pub enum Hasher {
    Crc(Algorithm, crc_fast::Digest),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm.crc() {
            Some(crc) => Hasher::Crc(algorithm, crc_fast::Digest::new(crc)),
            None if algorithm == Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            None => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc(_, d) => d.update(data),
            Hasher::Sha1(d) => d.update(data),
            Hasher::Sha256(d) => d.update(data),
        }
    }

    /// The raw big-endian digest of everything fed so far; the hasher starts over.
    pub fn finish_reset(&mut self) -> Vec<u8> {
        match self {
            Hasher::Crc(alg, d) => crc_bytes(*alg, d.finalize_reset()),
            Hasher::Sha1(d) => d.finalize_reset().to_vec(),
            Hasher::Sha256(d) => d.finalize_reset().to_vec(),
        }
    }
}

fn crc_bytes(algorithm: Algorithm, value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    bytes[8 - algorithm.width()..].to_vec()
}

fn crc_value(raw: &[u8]) -> u64 {
    raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// The checksum of a single-part object: its raw digest in base64.
pub fn encode(raw: &[u8]) -> String {
    base64(raw)
}

/// The checksum of `data` in one piece (single-part objects, tests).
pub fn of(algorithm: Algorithm, data: &[u8]) -> String {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    encode(&h.finish_reset())
}

/// The composite checksum of a multipart object from its raw part digests, in order.
pub fn composite<'a>(
    algorithm: Algorithm,
    parts: impl ExactSizeIterator<Item = &'a [u8]>,
) -> String {
    let count = parts.len();
    let mut h = Hasher::new(algorithm);
    for p in parts {
        h.update(p);
    }
    format!("{}-{count}", encode(&h.finish_reset()))
}

/// The full-object CRC of a multipart object from its raw part CRCs and part lengths, in
/// order; `None` for the SHA algorithms, which have no full-object form.
pub fn full_object<T: AsRef<[u8]>>(algorithm: Algorithm, parts: &[(T, u64)]) -> Option<String> {
    let crc = algorithm.crc()?;
    let mut iter = parts.iter();
    let mut acc = match iter.next() {
        Some((raw, _)) => crc_value(raw.as_ref()),
        None => crc_fast::checksum(crc, b""),
    };
    for (raw, len) in iter {
        acc = crc_fast::checksum_combine(crc, acc, crc_value(raw.as_ref()), *len);
    }
    Some(encode(&crc_bytes(algorithm, acc)))
}

/// The value of a whole object from its parts under `spec`: the single digest when there is
/// one part and the object is not multipart, else composite or full-object.
pub fn object_value<T: AsRef<[u8]>>(
    spec: ChecksumSpec,
    multipart: bool,
    parts: &[(T, u64)],
) -> String {
    if !multipart && parts.len() == 1 {
        return encode(parts[0].0.as_ref());
    }
    if spec.full_object
        && let Some(v) = full_object(spec.algorithm, parts)
    {
        return v;
    }
    composite(spec.algorithm, parts.iter().map(|(r, _)| r.as_ref()))
}

/// Whether a stored value is composite (`...-N`), and its part count.
pub fn composite_parts(value: &str) -> Option<u32> {
    value.rsplit_once('-').and_then(|(_, n)| n.parse().ok())
}

/// Whether `value` is a well-formed value of `algorithm` (base64 of the right width, with an
/// optional `-N`).
pub fn is_well_formed(algorithm: Algorithm, value: &str) -> bool {
    let body = value.rsplit_once('-').map_or(value, |(b, _)| b);
    base64_decode(body).is_some_and(|raw| raw.len() == algorithm.width())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of(value: &str) -> String {
        crate::util::encoding::hex(&base64_decode(value).unwrap_or_default())
    }

    /// The standard check values of each CRC for "123456789".
    #[test]
    fn crc_check_values() {
        assert_eq!(hex_of(&of(Algorithm::Crc32, b"123456789")), "cbf43926");
        assert_eq!(hex_of(&of(Algorithm::Crc32c, b"123456789")), "e3069283");
        assert_eq!(
            hex_of(&of(Algorithm::Crc64Nvme, b"123456789")),
            "ae8b14860a799888"
        );
    }

    #[test]
    fn sha_values() {
        assert_eq!(
            hex_of(&of(Algorithm::Sha1, b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            of(Algorithm::Sha256, b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn combining_part_crcs_equals_the_crc_of_all_bytes() {
        let data: Vec<u8> = (0..100_003u32).map(|i| (i * 7 % 251) as u8).collect();
        for alg in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let parts: Vec<(Vec<u8>, u64)> = data
                .chunks(30_000)
                .map(|c| {
                    let mut h = Hasher::new(alg);
                    h.update(c);
                    (h.finish_reset(), c.len() as u64)
                })
                .collect();
            assert_eq!(parts.len(), 4);
            assert_eq!(full_object(alg, &parts), Some(of(alg, &data)), "{alg}");
        }
        assert_eq!(full_object::<Vec<u8>>(Algorithm::Sha256, &[]), None);
    }

    #[test]
    fn composite_is_digest_of_part_digests() {
        let parts = [b"hello ".to_vec(), b"world".to_vec()];
        let raws: Vec<Vec<u8>> = parts
            .iter()
            .map(|p| base64_decode(&of(Algorithm::Sha256, p)).unwrap_or_default())
            .collect();
        let mut concat = Vec::new();
        for r in &raws {
            concat.extend_from_slice(r);
        }
        let expected = format!("{}-2", of(Algorithm::Sha256, &concat));
        assert_eq!(
            composite(Algorithm::Sha256, raws.iter().map(Vec::as_slice)),
            expected
        );
        assert_eq!(composite_parts(&expected), Some(2));
        assert_eq!(composite_parts("abc="), None);
        assert!(is_well_formed(Algorithm::Sha256, &expected));
        assert!(!is_well_formed(Algorithm::Crc32, &expected));
    }

    #[test]
    fn names_and_specs() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::parse(&a.name().to_lowercase()), Some(a));
        }
        assert_eq!(Algorithm::parse("MD5"), None);
        assert!(ChecksumSpec::new(Algorithm::Crc64Nvme, false).full_object);
        assert_eq!(
            ChecksumSpec::new(Algorithm::Crc32, false).type_name(),
            "COMPOSITE"
        );
    }
}
