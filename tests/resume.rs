//! Resumable multipart uploads: a run killed with SIGKILL mid-upload leaves its uploads in
//! the journal under the state directory, and the next run resumes them, sending only the
//! parts that are missing; uploads it cannot resume (changed source, key no longer
//! uploaded) are aborted. A journal that is damaged or cannot be written never fails a run.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use common::{
    Kind, PARTS_5MIB, World, data, multipart_etag, s, server, spawn, wait_until, write_file,
};

const MIB: usize = 1 << 20;

fn kill(child: &mut Child) {
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    // SAFETY: sending a signal to our own child process.
    let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill({pid}, SIGKILL)");
    // Reaped, so the journal no longer sees a live writer.
    let _ = child.wait();
}

/// The journal's entries under `state`: full key → upload id.
fn journal(state: &Path) -> BTreeMap<String, String> {
    let Ok(dir) = std::fs::read_dir(state.join("uploads")) else {
        return BTreeMap::new();
    };
    let mut entries = BTreeMap::new();
    for item in dir.flatten() {
        if !item.file_name().to_string_lossy().ends_with(".upload") {
            continue;
        }
        let text = std::fs::read_to_string(item.path()).unwrap_or_default();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_default()
                .to_string()
        };
        entries.insert(field("key="), field("upload_id="));
    }
    entries
}

/// The files s3s-fs keeps for the open upload `id`: its `.upload-<id>.json` and its parts.
fn s3s_upload_files(id: &str) -> (bool, usize) {
    let data = server(Kind::S3sFs)
        .data_dir()
        .unwrap_or_else(|| panic!("s3s-fs has a data directory"));
    let json = data.join(format!(".upload-{id}.json")).exists();
    let prefix = format!(".upload_id-{id}.part-");
    let parts = std::fs::read_dir(data)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .count()
        })
        .unwrap_or(0);
    (json, parts)
}

fn upload_args(w: &World, src: &Path, state: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = w.target_args();
    args.extend(["--state-dir".to_string(), s(state)]);
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend([s(src), w.url("k/")]);
    args
}

/// Everything that ran, for assertion messages.
fn output(run: &common::Run) -> String {
    format!("{}{}", run.stdout, run.stderr)
}

#[test]
fn a_killed_upload_is_resumed_sending_only_the_missing_parts() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    let state = w.path("state");
    let files: Vec<(String, Vec<u8>)> = (0..4u64)
        .map(|i| (format!("big{i}"), data(64 * MIB, 100 + i)))
        .collect();
    for (name, bytes) in &files {
        write_file(&src.join(name), bytes);
    }
    let total = (files.len() * 64 * MIB) as u64;
    let parts = [
        "--multipart-threshold",
        "8MiB",
        "--multipart-chunksize",
        "8MiB",
        "--max-parallel-uploads",
        "2",
    ];
    let slow = [&parts[..], &["--rate-limit-bandwidth", "32MiB"]].concat();
    let mut child = spawn(&upload_args(&w, &src, &state, &slow));
    wait_until(
        "four journaled uploads with three parts landed",
        Duration::from_secs(120),
        || {
            let open = journal(&state);
            open.len() == 4
                && open
                    .values()
                    .map(|id| s3s_upload_files(id).1)
                    .sum::<usize>()
                    >= 3
        },
    );
    kill(&mut child);
    let left = journal(&state);
    assert_eq!(left.len(), 4, "the journal lost entries: {left:?}");
    for id in left.values() {
        assert!(s3s_upload_files(id).0, "upload {id} is not open on s3s-fs");
    }

    let run = common::run(
        &upload_args(
            &w,
            &src,
            &state,
            &[&parts[..], &["--json-tracing", "-v"]].concat(),
        ),
        &[],
    );
    run.assert_code(0);
    let sent = run.summary("transferred_byte");
    let kept = run.summary("resumed_byte");
    assert!(run.summary("resumed_object") >= 1, "{}", output(&run));
    assert!(kept >= 3 * 8 * MIB as u64, "kept only {kept} bytes");
    assert_eq!(sent + kept, total, "sent {sent} + kept {kept}");
    assert!(
        output(&run).contains("resuming the multipart upload"),
        "{}",
        output(&run)
    );
    for (name, bytes) in &files {
        assert_eq!(
            w.etag(&format!("k/{name}")),
            multipart_etag(bytes, 8 * MIB),
            "{name}"
        );
    }
    for id in left.values() {
        assert_eq!(
            s3s_upload_files(id),
            (false, 0),
            "upload {id} left on s3s-fs"
        );
    }
    assert!(journal(&state).is_empty(), "{:?}", journal(&state));
}

#[test]
fn on_moto_changed_and_vanished_sources_abort_their_uploads() {
    let w = World::new(Kind::Moto);
    let src = w.path("src");
    let state = w.path("state");
    for (name, seed) in [("a", 1), ("b", 2), ("c", 3)] {
        write_file(&src.join(name), &data(20 * MIB, seed));
    }
    let slow = [
        &PARTS_5MIB[..],
        &[
            "--max-parallel-uploads",
            "2",
            "--rate-limit-bandwidth",
            "8MiB",
        ],
    ]
    .concat();
    let mut child = spawn(&upload_args(&w, &src, &state, &slow));
    // Full key -> parts landed, for the uploads journaled.
    let landed = || -> Vec<(usize, String)> {
        journal(&state)
            .into_iter()
            .map(|(key, id)| {
                let n = w
                    .client
                    .list_parts(&w.bucket, &key, &id)
                    .map_or(0, |p| p.len());
                (n, key)
            })
            .collect()
    };
    wait_until(
        "three journaled uploads, one with a part landed",
        Duration::from_secs(60),
        || {
            let now = landed();
            now.len() == 3 && now.iter().any(|(n, _)| *n > 0)
        },
    );
    kill(&mut child);
    let open = |w: &World| {
        w.client
            .list_multipart_uploads(&w.bucket, "k/")
            .unwrap_or_else(|e| panic!("ListMultipartUploads: {e}"))
            .len()
    };
    assert_eq!(open(&w), 3, "the kill came too late to test anything");
    // Which upload plays which part is known only now: the one with the most parts is
    // resumed, the next one's source changes and the last one's disappears.
    let mut roles = landed();
    roles.sort_by_key(|x| std::cmp::Reverse(x.0));
    let name = |i: usize| roles[i].1.trim_start_matches("k/").to_string();
    let (same, changed_name, gone) = (name(0), name(1), name(2));
    let seed_of = |n: &str| u64::from(n.as_bytes()[0] - b'a' + 1);
    let changed = data(20 * MIB, 40);
    write_file(&src.join(&changed_name), &changed);
    common::touch(&src.join(&changed_name), 10);
    std::fs::remove_file(src.join(&gone)).unwrap_or_else(|e| panic!("rm {gone}: {e}"));

    let extra = [&PARTS_5MIB[..], &["--json-tracing", "-v"]].concat();
    let run = common::run(&upload_args(&w, &src, &state, &extra), &[]);
    run.assert_code(0);
    let out = output(&run);
    assert_eq!(run.summary("resumed_object"), 1, "{out}");
    assert!(run.summary("transferred_byte") < 40 * MIB as u64, "{out}");
    assert!(out.contains("the source or the part size changed"), "{out}");
    assert!(
        out.contains("this run did not upload the key again"),
        "{out}"
    );
    assert_eq!(open(&w), 0, "uploads left open: {out}");
    assert!(journal(&state).is_empty(), "{:?}", journal(&state));
    assert_eq!(
        w.etag(&format!("k/{same}")),
        multipart_etag(&data(20 * MIB, seed_of(&same)), 5 * MIB)
    );
    assert_eq!(
        w.etag(&format!("k/{changed_name}")),
        multipart_etag(&changed, 5 * MIB)
    );
    assert!(!w.list("k/").contains_key(&format!("k/{gone}")));
}

/// The journal file name of `key` in `w`'s bucket (as `engine::journal` names it).
fn entry_path(w: &World, state: &Path, key: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let identity = format!("{} us-east-1 {}", w.endpoint(), w.bucket);
    let mut hash = Sha256::new();
    hash.update(identity.as_bytes());
    hash.update([0u8]);
    hash.update(key.as_bytes());
    let name: String = hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    state.join("uploads").join(format!("{name}.upload"))
}

#[test]
fn corrupt_and_foreign_journal_entries_are_ignored_with_a_warning() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    let state = w.path("state");
    let bytes = data(12 * MIB, 7);
    write_file(&src.join("f"), &bytes);
    let corrupt = write_file(
        &entry_path(&w, &state, "k/f"),
        b"s3sync upload journal 1\nkey=k/f\n\xff",
    );
    let foreign = write_file(
        &state.join("uploads").join("0123.upload"),
        b"s3sync upload journal 9\nkey=x\n",
    );
    // The state directory from the environment this time.
    let mut args = w.target_args();
    args.extend(PARTS_5MIB.map(String::from));
    args.extend([s(&src), w.url("k/")]);
    let run = common::run(&args, &[("STATE_DIR", &s(&state))]);
    run.assert_code(0);
    let out = output(&run);
    assert!(
        out.contains(&format!(
            "ignoring the journal entry {}: corrupt",
            corrupt.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("written by another version of s3sync"),
        "{out}"
    );
    assert!(!corrupt.exists(), "the corrupt entry stayed");
    assert!(foreign.exists(), "the foreign entry was removed");
    assert_eq!(w.etag("k/f"), multipart_etag(&bytes, 5 * MIB));
}

#[test]
fn an_unwritable_state_dir_warns_once_and_the_sync_succeeds() {
    let w = World::new(Kind::S3sFs);
    let src = w.path("src");
    let files: Vec<Vec<u8>> = (0..2u64).map(|i| data(11 * MIB, 20 + i)).collect();
    for (i, bytes) in files.iter().enumerate() {
        write_file(&src.join(format!("f{i}")), bytes);
    }
    // A regular file where a directory would have to be.
    let blocker = write_file(&w.path("blocker"), b"");
    let state = blocker.join("state");
    let extra = [&PARTS_5MIB[..], &["--json-tracing"]].concat();
    let run = common::run(&upload_args(&w, &src, &state, &extra), &[]);
    run.assert_code(0);
    let out = output(&run);
    assert_eq!(
        out.matches("cannot use the state directory").count(),
        1,
        "{out}"
    );
    assert_eq!(run.summary("transferred_object"), 2);
    assert_eq!(run.summary("warning"), 0);
    for (i, bytes) in files.iter().enumerate() {
        assert_eq!(w.etag(&format!("k/f{i}")), multipart_etag(bytes, 5 * MIB));
    }
}
