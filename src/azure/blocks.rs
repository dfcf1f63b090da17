//! Block blobs as data: block ids and how a file is cut into blocks.
//!
//! The service wants every block id of one blob to have the same length, as base64 of at
//! most 64 bytes. Ours are base64 of the block's index written as 8 decimal digits
//! (`00000042`), so they are 12 characters long, sort in upload order and tell a resumed
//! upload which part of the file an uncommitted block holds.
//!
//! The size rule is azcopy's: blocks of 8 MiB unless told otherwise, grown (in whole MiB)
//! when a file would need more than 50,000 of them; at most 4,000 MiB each. A file no larger
//! than one block goes up in a single Put Blob.

use crate::util::encoding::{base64, base64_decode};

const MIB: u64 = 1 << 20;
/// azcopy's default block size.
pub const DEFAULT_BLOCK_SIZE: u64 = 8 * MIB;
/// The service's largest block (version 2019-12-12 and later).
pub const MAX_BLOCK_SIZE: u64 = 4000 * MIB;
/// The service's limit of committed blocks per blob.
pub const MAX_BLOCKS: u64 = 50_000;
/// The service's largest single Put Blob (version 2019-12-12 and later).
pub const MAX_PUT_BLOB_SIZE: u64 = 5000 * MIB;
/// Digits of the index inside a block id.
const ID_DIGITS: usize = 8;

/// A block id: base64 of a fixed-width block number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockId(String);

impl BlockId {
    /// The id of block `index` (0-based; below 100,000,000 every id has the same width, and
    /// a blob holds at most [`MAX_BLOCKS`]).
    pub fn new(index: u32) -> BlockId {
        BlockId(base64(format!("{index:0ID_DIGITS$}").as_bytes()))
    }

    /// An id as the service lists it (ours or anyone's).
    pub fn from_base64(text: &str) -> BlockId {
        BlockId(text.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The block number of one of our ids; `None` for ids another tool made.
    pub fn index(&self) -> Option<u32> {
        let raw = base64_decode(&self.0)?;
        if raw.len() != ID_DIGITS || !raw.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(&raw).ok()?.parse().ok()
    }
}

/// How one blob is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadPlan {
    /// One Put Blob.
    Single,
    /// `count` blocks of `block_size` (the last one shorter), then Put Block List.
    Blocks { block_size: u64, count: u64 },
}

/// The block size for a blob of `len` bytes: `requested` (or [`DEFAULT_BLOCK_SIZE`]) when
/// [`MAX_BLOCKS`] of it cover the blob; otherwise a default grows to the smallest whole number
/// of MiB that does, while a block size the user asked for is an error naming the smallest
/// one that works. Errors also for a blob larger than 50,000 blocks of [`MAX_BLOCK_SIZE`].
pub fn block_size_for(len: u64, requested: Option<u64>) -> Result<u64, String> {
    let wanted = requested.unwrap_or(DEFAULT_BLOCK_SIZE);
    if wanted == 0 || wanted > MAX_BLOCK_SIZE {
        return Err(format!(
            "a block size must be between 1 byte and 4000 MiB, not {wanted} bytes"
        ));
    }
    let needed = len.div_ceil(MAX_BLOCKS).div_ceil(MIB) * MIB;
    if needed > MAX_BLOCK_SIZE {
        return Err(format!(
            "{len} bytes do not fit in a block blob (at most 50,000 blocks of 4000 MiB)"
        ));
    }
    if len.div_ceil(wanted) <= MAX_BLOCKS {
        return Ok(wanted);
    }
    match requested {
        Some(_) => Err(format!(
            "a {len}-byte blob needs blocks of at least {} MiB (50,000 blocks at most)",
            needed / MIB
        )),
        None => Ok(needed),
    }
}

/// Single Put Blob up to one block, blocks beyond.
pub fn plan(len: u64, requested: Option<u64>) -> Result<UploadPlan, String> {
    let block_size = block_size_for(len, requested)?;
    if len <= block_size && len <= MAX_PUT_BLOB_SIZE {
        return Ok(UploadPlan::Single);
    }
    Ok(UploadPlan::Blocks {
        block_size,
        count: len.div_ceil(block_size),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ids_have_one_width_and_decode_back() {
        let ids: Vec<BlockId> = [0, 1, 9, 10, 49_999, 99_999_999].map(BlockId::new).into();
        assert!(ids.iter().all(|id| id.as_str().len() == 12), "{ids:?}");
        assert_eq!(BlockId::new(0).as_str(), "MDAwMDAwMDA=");
        assert_eq!(BlockId::new(42).index(), Some(42));
        // Ids sort as their blocks do, up to 99,999,999 blocks.
        assert!(BlockId::new(9) < BlockId::new(10));
        assert_eq!(BlockId::from_base64("YmxvY2stYQ==").index(), None);
        assert_eq!(BlockId::from_base64("%%").index(), None);
    }

    #[test]
    fn block_size_follows_azcopys_rule() {
        // 20 MiB: 8 + 8 + 4 MiB, as azcopy does.
        assert_eq!(
            plan(20 * MIB, None),
            Ok(UploadPlan::Blocks {
                block_size: 8 * MIB,
                count: 3
            })
        );
        assert_eq!(plan(8 * MIB, None), Ok(UploadPlan::Single));
        assert_eq!(plan(0, None), Ok(UploadPlan::Single));
        // 50,000 blocks of 8 MiB = 390.6 GiB; one byte more grows the block to 9 MiB.
        let edge = 50_000 * 8 * MIB;
        assert_eq!(block_size_for(edge, None), Ok(8 * MIB));
        assert_eq!(block_size_for(edge + 1, None), Ok(9 * MIB));
        assert_eq!(block_size_for(1 << 40, None), Ok(21 * MIB));
        // The largest block blob there is, and one byte more.
        let largest = 50_000 * MAX_BLOCK_SIZE;
        assert_eq!(block_size_for(largest, None), Ok(MAX_BLOCK_SIZE));
        assert!(block_size_for(largest + 1, None).is_err());
        // A size the user chose is kept when it works, refused with the minimum otherwise.
        assert_eq!(block_size_for(10 * MIB, Some(MIB)), Ok(MIB));
        let err = block_size_for(edge + 1, Some(8 * MIB))
            .err()
            .unwrap_or_default();
        assert!(err.contains("at least 9 MiB"), "{err}");
        assert!(block_size_for(1, Some(0)).is_err());
        assert!(block_size_for(1, Some(MAX_BLOCK_SIZE + 1)).is_err());
    }
}
