//! Which options can take effect in which direction. An option that cannot (an S3 checksum
//! asked of a local target, a local-file setting given an S3 source) is refused with exit 2
//! instead of being accepted and quietly ignored: the user asked for something the run
//! would not do.
//!
//! Tuning options with nothing to tune in a direction (timeouts, retries, listing
//! parallelism, part sizes) are accepted everywhere: they change no result, and several are
//! read from environment variables such as `AWS_MAX_ATTEMPTS` that users set once for all
//! their tools.
//!
//! Options whose direction is checked with other rules of their own (`--point-in-time`,
//! `--enable-versioning`, `--sync-latest-tagging`, the metadata and tag filters, the
//! conditional writes, the Lua preprocess script, `--server-side-copy`) are checked where
//! those rules live.

use super::CliError;
use super::args::Args;
use super::place::Place;

/// What an option needs of SOURCE and TARGET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    S3Source,
    S3Target,
    S3Both,
    LocalSource,
    /// At least one side on S3 (verification of what crosses the network).
    S3Side,
    /// A target that keeps content headers, user metadata and tags: S3 or Azure Blob.
    ObjectTarget,
    /// No Azure Blob side (S3's additional checksums have no Blob meaning).
    NoBlob,
}

/// What kind of place a side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Local,
    S3,
    Blob,
}

impl Kind {
    pub fn of(place: &Place) -> Kind {
        match place {
            Place::Local(_) => Kind::Local,
            Place::S3 { .. } => Kind::S3,
            Place::Blob(_) => Kind::Blob,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Local => "local",
            Kind::S3 => "S3",
            Kind::Blob => "Azure Blob",
        }
    }
}

impl Needs {
    fn met(self, source: Kind, target: Kind) -> bool {
        match self {
            Needs::S3Source => source == Kind::S3,
            Needs::S3Target => target == Kind::S3,
            Needs::S3Both => source == Kind::S3 && target == Kind::S3,
            Needs::LocalSource => source == Kind::Local,
            Needs::S3Side => source == Kind::S3 || target == Kind::S3,
            Needs::ObjectTarget => target != Kind::Local,
            Needs::NoBlob => source != Kind::Blob && target != Kind::Blob,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Needs::S3Source => "needs an s3:// SOURCE",
            Needs::S3Target => "needs an s3:// TARGET",
            Needs::S3Both => "needs s3:// for both SOURCE and TARGET",
            Needs::LocalSource => "applies to a local SOURCE only",
            Needs::S3Side => "needs an s3:// SOURCE or TARGET",
            Needs::ObjectTarget => "needs an s3:// or Azure Blob TARGET",
            Needs::NoBlob => "compares S3 additional checksums, which Azure Blob does not keep,",
        }
    }
}

/// The options given, each with what it needs.
fn given(args: &Args) -> Vec<(bool, &'static str, Needs)> {
    use Needs::*;
    vec![
        (
            args.cache_control.is_some(),
            "--cache-control",
            ObjectTarget,
        ),
        (
            args.content_disposition.is_some(),
            "--content-disposition",
            ObjectTarget,
        ),
        (
            args.content_encoding.is_some(),
            "--content-encoding",
            ObjectTarget,
        ),
        (
            args.content_language.is_some(),
            "--content-language",
            ObjectTarget,
        ),
        (args.content_type.is_some(), "--content-type", ObjectTarget),
        (args.expires.is_some(), "--expires", S3Target),
        (args.metadata.is_some(), "--metadata", ObjectTarget),
        (
            args.website_redirect.is_some(),
            "--website-redirect",
            S3Target,
        ),
        (
            args.put_last_modified_metadata,
            "--put-last-modified-metadata",
            ObjectTarget,
        ),
        (
            args.no_sync_system_metadata,
            "--no-sync-system-metadata",
            ObjectTarget,
        ),
        (
            args.no_sync_user_defined_metadata,
            "--no-sync-user-defined-metadata",
            ObjectTarget,
        ),
        (args.tagging.is_some(), "--tagging", ObjectTarget),
        (args.disable_tagging, "--disable-tagging", ObjectTarget),
        (
            args.storage_class.is_some(),
            "--storage-class",
            ObjectTarget,
        ),
        (args.acl.is_some(), "--acl", S3Target),
        (args.sse.is_some(), "--sse", S3Target),
        (args.sse_kms_key_id.is_some(), "--sse-kms-key-id", S3Target),
        (
            args.additional_checksum_algorithm.is_some(),
            "--additional-checksum-algorithm",
            S3Target,
        ),
        (
            args.full_object_checksum,
            "--full-object-checksum",
            S3Target,
        ),
        (
            args.disable_additional_checksum_verify,
            "--disable-additional-checksum-verify",
            S3Target,
        ),
        (
            args.disable_express_one_zone_additional_checksum,
            "--disable-express-one-zone-additional-checksum",
            S3Target,
        ),
        (
            args.disable_payload_signing,
            "--disable-payload-signing",
            S3Target,
        ),
        (
            args.disable_content_md5_header,
            "--disable-content-md5-header",
            S3Target,
        ),
        (
            args.enable_additional_checksum,
            "--enable-additional-checksum",
            S3Source,
        ),
        (args.auto_chunksize, "--auto-chunksize", S3Source),
        (
            args.ignore_glacier_warnings,
            "--ignore-glacier-warnings",
            S3Source,
        ),
        (args.client_side_copy, "--client-side-copy", S3Both),
        (
            args.check_additional_checksum.is_some(),
            "--check-additional-checksum",
            NoBlob,
        ),
        (
            args.check_mtime_and_additional_checksum.is_some(),
            "--check-mtime-and-additional-checksum",
            NoBlob,
        ),
        (args.ignore_symlinks, "--ignore-symlinks", LocalSource),
        (args.no_guess_mime_type, "--no-guess-mime-type", LocalSource),
        (args.disable_etag_verify, "--disable-etag-verify", S3Side),
        (
            args.disable_multipart_verify,
            "--disable-multipart-verify",
            S3Side,
        ),
        (
            args.allow_parallel_listings_in_express_one_zone,
            "--allow-parallel-listings-in-express-one-zone",
            S3Side,
        ),
    ]
}

/// Refuses the first option given that cannot take effect from SOURCE to TARGET.
pub fn check(args: &Args, source: &Place, target: &Place) -> Result<(), CliError> {
    let (source, target) = (Kind::of(source), Kind::of(target));
    match given(args)
        .into_iter()
        .find(|(set, _, needs)| *set && !needs.met(source, target))
    {
        Some((_, name, needs)) => Err(CliError::usage(format!(
            "{name} {} and has no effect from {} to {}: drop it",
            needs.what(),
            source.name(),
            target.name(),
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry names a real flag, once.
    #[test]
    fn the_table_names_real_flags_once() {
        let args = Args::default();
        let names: Vec<&str> = given(&args).iter().map(|(_, n, _)| *n).collect();
        for name in &names {
            assert!(
                super::super::args::FLAGS.iter().any(|f| f.long() == *name),
                "{name}"
            );
            assert_eq!(names.iter().filter(|n| *n == name).count(), 1, "{name}");
        }
    }

    #[test]
    fn needs_are_met_only_by_their_directions() {
        use Kind::*;
        let kinds = [Local, S3, Blob];
        let met = |n: Needs| -> Vec<(Kind, Kind)> {
            kinds
                .iter()
                .flat_map(|s| kinds.iter().map(move |t| (*s, *t)))
                .filter(|(s, t)| n.met(*s, *t))
                .collect()
        };
        assert_eq!(
            met(Needs::S3Source),
            vec![(S3, Local), (S3, S3), (S3, Blob)]
        );
        assert_eq!(
            met(Needs::S3Target),
            vec![(Local, S3), (S3, S3), (Blob, S3)]
        );
        assert_eq!(met(Needs::S3Both), vec![(S3, S3)]);
        assert_eq!(
            met(Needs::LocalSource),
            vec![(Local, Local), (Local, S3), (Local, Blob)]
        );
        assert_eq!(met(Needs::S3Side).len(), 5);
    }
}
