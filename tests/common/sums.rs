//! Additional checksums as tests see them: computed here with the digest crates directly,
//! and read back from a server with HeadObject in checksum mode.

use md5::Digest;
use s3sync::util::encoding::base64;

use super::{World, client};

/// Every algorithm s3sync offers.
pub const ALGORITHMS: [&str; 5] = ["SHA256", "SHA1", "CRC32", "CRC32C", "CRC64NVME"];

/// The additional checksum of `bytes` in one piece.
pub fn checksum_of(algorithm: &str, bytes: &[u8]) -> String {
    let crc = |alg, width: usize| {
        let v = crc_fast::checksum(alg, bytes).to_be_bytes();
        base64(&v[8 - width..])
    };
    match algorithm {
        "CRC32" => crc(crc_fast::CrcAlgorithm::Crc32IsoHdlc, 4),
        "CRC32C" => crc(crc_fast::CrcAlgorithm::Crc32Iscsi, 4),
        "CRC64NVME" => crc(crc_fast::CrcAlgorithm::Crc64Nvme, 8),
        "SHA1" => base64(&sha1::Sha1::digest(bytes)),
        "SHA256" => base64(&sha2::Sha256::digest(bytes)),
        other => panic!("unknown algorithm {other}"),
    }
}

/// The checksum `w`'s server keeps for `key`, as (algorithm, value), from HeadObject with
/// `x-amz-checksum-mode: ENABLED`.
pub fn stored(w: &World, key: &str) -> Option<(String, String)> {
    let mut config = client(w.kind).config().clone();
    config.checksum_mode = true;
    s3sync::s3::Client::new(config)
        .head_object(&w.bucket, key)
        .unwrap_or_else(|e| panic!("HEAD {key}: {e}"))
        .unwrap_or_else(|| panic!("HEAD {key}: not found"))
        .checksum
        .map(|(a, v)| (a.name().to_string(), v))
}
