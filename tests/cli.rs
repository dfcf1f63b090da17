//! Argument handling: exit codes and messages, without a server.

mod common;

use common::run;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn malformed_values_exit_2_naming_the_option() {
    let dir = std::env::temp_dir();
    let d = dir.display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["--worker-size", "abc"], "--worker-size"),
        (&["--worker-size", "0"], "--worker-size"),
        (&["--multipart-chunksize", "1MiB"], "--multipart-chunksize"),
        (&["--multipart-threshold", "8XB"], "--multipart-threshold"),
        (&["--max-keys", "40000"], "--max-keys"),
        (&["--max-delete", "3"], "--max-delete"),
        (&["--check-size", "--check-etag"], "--check-etag"),
        (
            &["--target-endpoint-url", "ftp://x"],
            "--target-endpoint-url",
        ),
        (&["--no-such-option"], "--no-such-option"),
        (&["--dry-run=1"], "--dry-run"),
        (&["--filter-include-regex", "("], "--filter-include-regex"),
        (&["--filter-exclude-regex", "a)"], "--filter-exclude-regex"),
        (&["--filter-larger-size", "5XB"], "--filter-larger-size"),
        (&["--filter-smaller-size", "-1"], "--filter-smaller-size"),
        (
            &["--filter-mtime-before", "yesterday"],
            "--filter-mtime-before",
        ),
        (
            &["--filter-mtime-after", "2024-13-01T00:00:00Z"],
            "--filter-mtime-after",
        ),
        (
            &["--filter-include-metadata-regex", "a=b"],
            "--filter-include-metadata-regex",
        ),
        (
            &["--filter-exclude-tag-regex", "a=b"],
            "--filter-exclude-tag-regex",
        ),
        (&["--delete-excluded"], "--delete-excluded"),
        (&["--copy-source-if-match"], "--copy-source-if-match"),
        (&["--if-match", "--if-none-match"], "--if-none-match"),
    ];
    for (extra, name) in cases {
        let mut a = args(extra);
        a.push(d.clone());
        a.push("s3://bucket/p".into());
        let r = run(
            &a,
            &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")],
        );
        assert_eq!(r.code, 2, "{extra:?}: {}", r.stderr);
        assert_eq!(
            r.stderr.trim().lines().count(),
            1,
            "{extra:?}: one line expected: {}",
            r.stderr
        );
        assert!(
            r.stderr.starts_with("s3sync: error: "),
            "{extra:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(name), "{extra:?}: {}", r.stderr);
    }
}

/// The four directions, as SOURCE and TARGET with the side options each S3 side needs to
/// get as far as connecting (to a port where nothing listens).
fn direction(name: &str, dir: &std::path::Path) -> Vec<String> {
    let local_src = dir.join("src");
    let local_dst = dir.join("dst");
    let _ = std::fs::create_dir_all(&local_src);
    let _ = std::fs::write(local_src.join("f.txt"), b"f");
    let side = |s: &str| {
        vec![
            format!("--{s}-endpoint-url=http://127.0.0.1:9"),
            format!("--{s}-access-key=a"),
            format!("--{s}-secret-access-key=b"),
        ]
    };
    let (mut a, src, dst) = match name {
        "local to local" => (vec![], common::s(&local_src), common::s(&local_dst)),
        "local to S3" => (side("target"), common::s(&local_src), "s3://b/p/".into()),
        "S3 to local" => (side("source"), "s3://b/p/".into(), common::s(&local_dst)),
        _ => {
            let mut a = side("source");
            a.extend(side("target"));
            (a, "s3://b/p/".into(), "s3://c/p/".into())
        }
    };
    a.extend(
        [
            "--aws-max-attempts=1",
            "--force-retry-count=0",
            "--connect-timeout-milliseconds=300",
        ]
        .map(String::from),
    );
    a.push(src);
    a.push(dst);
    a
}

/// Options that cannot take effect in a direction are refused there (exit 2, one line
/// naming the option and the direction) and accepted where they can.
#[test]
fn options_that_cannot_apply_to_the_direction_exit_2() {
    let dir = std::env::temp_dir().join(format!("s3sync-directions-{}", std::process::id()));
    let all = ["local to local", "local to S3", "S3 to local", "S3 to S3"];
    let s3_target = ["local to S3", "S3 to S3"];
    let s3_source = ["S3 to local", "S3 to S3"];
    let local_source = ["local to local", "local to S3"];
    let cases: &[(&[&str], &[&str])] = &[
        (&["--additional-checksum-algorithm", "SHA256"], &s3_target),
        (
            &[
                "--additional-checksum-algorithm",
                "CRC32",
                "--full-object-checksum",
            ],
            &s3_target,
        ),
        (&["--enable-additional-checksum"], &s3_source),
        (&["--auto-chunksize"], &s3_source),
        (&["--ignore-glacier-warnings"], &s3_source),
        (&["--client-side-copy"], &["S3 to S3"]),
        (&["--disable-tagging"], &s3_target),
        (&["--content-type", "text/plain"], &s3_target),
        (&["--storage-class", "STANDARD_IA"], &s3_target),
        (&["--disable-payload-signing"], &s3_target),
        (&["--disable-content-md5-header"], &s3_target),
        (
            &["--disable-express-one-zone-additional-checksum"],
            &s3_target,
        ),
        (&["--ignore-symlinks"], &local_source),
        (&["--no-guess-mime-type"], &local_source),
        (
            &["--disable-etag-verify"],
            &["local to S3", "S3 to local", "S3 to S3"],
        ),
    ];
    for (option, allowed) in cases {
        for dir_name in all {
            let mut a = args(option);
            a.push("--dry-run".into());
            a.extend(direction(dir_name, &dir));
            let r = run(&a, &[]);
            if allowed.contains(&dir_name) {
                assert_ne!(r.code, 2, "{option:?} {dir_name}: {}", r.stderr);
            } else {
                assert_eq!(r.code, 2, "{option:?} {dir_name}: {}", r.stderr);
                assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
                let first = option[0];
                assert!(
                    r.stderr.starts_with(&format!("s3sync: error: {first} "))
                        && r.stderr.contains(&format!("from {dir_name}")),
                    "{option:?} {dir_name}: {}",
                    r.stderr
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tagging_and_disable_tagging_contradict() {
    let d = std::env::temp_dir().display().to_string();
    let r = run(
        &args(&["--tagging", "a=b", "--disable-tagging", &d, "s3://b/p/"]),
        &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")],
    );
    r.assert_code(2);
    assert!(
        r.stderr.starts_with("s3sync: error: --tagging ") && r.stderr.contains("--disable-tagging"),
        "{}",
        r.stderr
    );
}

/// A named AWS CLI file must exist; only the default `~/.aws` files may be absent.
#[test]
fn named_aws_files_must_exist() {
    let dir = std::env::temp_dir().join(format!("s3sync-awsfiles-{}", std::process::id()));
    let missing = common::s(&dir.join("no-such-file"));
    for option in ["--aws-config-file", "--aws-shared-credentials-file"] {
        let mut a = args(&[option, &missing]);
        a.extend(direction("local to S3", &dir));
        let r = run(&a, &[]);
        r.assert_code(2);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.starts_with("s3sync: error: ")
                && r.stderr.contains(option)
                && r.stderr.contains(&missing),
            "{}",
            r.stderr
        );
    }
    // The same through the environment variable, which names the file just as well.
    let r = run(
        &direction("local to S3", &dir),
        &[("AWS_CONFIG_FILE", missing.as_str())],
    );
    r.assert_code(2);
    assert!(r.stderr.contains(&missing), "{}", r.stderr);
    // No files at all under HOME: the run goes on (and fails to connect: exit 1).
    let r = run(&direction("local to S3", &dir), &[]);
    r.assert_code(1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_paths_exit_2() {
    let r = run(&args(&["/definitely/not/here", "s3://b/"]), &[]);
    r.assert_code(2);
    assert!(r.stderr.contains("SOURCE"), "{}", r.stderr);
    let r = run(&args(&["."]), &[]);
    r.assert_code(2);
    let r = run(&args(&[".", "gs://bucket/x"]), &[]);
    r.assert_code(2);
    assert!(r.stderr.contains("s3://"), "{}", r.stderr);
    let r = run(&args(&[".", "s3://"]), &[]);
    r.assert_code(2);
}

#[test]
fn help_and_version_exit_0() {
    let r = run(&args(&["--help"]), &[]);
    r.assert_code(0);
    assert!(
        r.stdout.contains("--worker-size") && r.stdout.contains("--delete"),
        "{}",
        r.stdout
    );
    let r = run(&args(&["-V"]), &[]);
    r.assert_code(0);
    assert!(r.stdout.starts_with("s3sync "), "{}", r.stdout);
}

/// The parsing rules the README states, through the binary: a forgotten value, an option
/// given twice, and `--` before a path that starts with `-`.
#[test]
fn option_mistakes_exit_2_in_one_line() {
    let d = std::env::temp_dir().display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--source-profile", "--delete", &d, "s3://b/p"],
            "--source-profile needs a value",
        ),
        (
            &["--worker-size", "2", "--worker-size", "3", &d, "s3://b/p"],
            "--worker-size is given more than once",
        ),
        (&["--", "-no-such-dir", "s3://b/p"], "SOURCE -no-such-dir"),
    ];
    for (given, expected) in cases {
        let r = run(&args(given), &[]);
        r.assert_code(2);
        assert_eq!(
            r.stderr.trim().lines().count(),
            1,
            "{given:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(expected), "{given:?}: {}", r.stderr);
    }
}

#[test]
fn options_for_a_local_side_are_refused() {
    let d = std::env::temp_dir().display().to_string();
    let r = run(
        &args(&["--source-profile", "x", &d, "s3://b/"]),
        &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")],
    );
    r.assert_code(2);
    assert!(r.stderr.contains("--source-profile"), "{}", r.stderr);
}

#[test]
fn environment_supplies_option_values() {
    let d = std::env::temp_dir().display().to_string();
    let r = run(&args(&[&d, "s3://b/"]), &[("WORKER_SIZE", "zero")]);
    r.assert_code(2);
    assert!(r.stderr.contains("--worker-size"), "{}", r.stderr);
}

#[test]
fn accelerate_cannot_use_a_custom_endpoint() {
    let d = std::env::temp_dir().display().to_string();
    let r = run(
        &args(&[
            "--target-accelerate",
            "--target-endpoint-url",
            "http://127.0.0.1:1",
            &d,
            "s3://b/",
        ]),
        &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")],
    );
    r.assert_code(2);
    assert!(r.stderr.contains("--target-accelerate"), "{}", r.stderr);
}

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

/// The long flags `--help` documents, straight from the argument definitions: name, whether
/// it takes a value.
fn long_flags() -> Vec<(String, bool)> {
    flag_descriptions()
        .into_iter()
        .map(|(l, v, _)| (l, v))
        .collect()
}

/// As [`long_flags`], with each description on one line.
fn flag_descriptions() -> Vec<(String, bool, String)> {
    s3sync::cli::args::FLAGS
        .iter()
        .map(|f| (f.long(), f.takes_value(), f.one_line()))
        .collect()
}

fn completion_script(shell: &str) -> String {
    let r = run(&args(&["--auto-complete-shell", shell]), &[]);
    r.assert_code(0);
    assert!(r.stderr.is_empty(), "{shell}: {}", r.stderr);
    assert!(!r.stdout.trim().is_empty(), "{shell}: empty script");
    r.stdout
}

/// Writes a script where a shell can read it.
fn script_file(shell: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(common::unique(&format!("completion-{shell}")));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// Runs a shell (outside s3sync's cleared environment). A missing one fails the test:
/// `.ci/test.sh` installs bash, zsh, fish and elvish.
fn shell_output(program: &str, args: &[&str]) -> std::process::Output {
    match std::process::Command::new(program).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "{program} is not installed, so its completion script cannot be checked: \
             run .ci/test.sh, or apt-get install zsh fish elvish"
        ),
        Err(e) => panic!("cannot run {program}: {e}"),
    }
}

#[test]
fn completion_scripts_name_every_option() {
    let flags = long_flags();
    assert!(flags.len() > 50, "{flags:?}");
    for shell in SHELLS {
        let script = completion_script(shell);
        assert_eq!(script, completion_script(&shell.to_uppercase()));
        for (long, takes_value) in &flags {
            let name = long.trim_start_matches("--");
            // Where each script declares a flag (not where a description mentions it).
            let declared = match shell {
                "bash" => script
                    .split(|c: char| c.is_whitespace() || c == '\'')
                    .any(|w| w == *long),
                "zsh" if *takes_value => script.contains(&format!("{long}=[")),
                "zsh" => script.contains(&format!("{long}[")),
                "fish" if *takes_value => script.contains(&format!("-l '{name}' -r")),
                "fish" => script.contains(&format!("-l '{name}' -d")),
                _ => script.contains(&format!("'{long}'")),
            };
            assert!(declared, "{shell} script lacks {long}:\n{script}");
        }
    }
}

#[test]
fn unknown_completion_shell_exits_2() {
    for bad in [
        &["--auto-complete-shell", "tcsh"][..],
        &["--auto-complete-shell"],
    ] {
        let r = run(&args(bad), &[]);
        r.assert_code(2);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains("--auto-complete-shell"), "{}", r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
    let r = run(&args(&["--auto-complete-shell", "tcsh"]), &[]);
    for shell in SHELLS {
        assert!(r.stderr.contains(shell), "{}", r.stderr);
    }
}

#[test]
fn completion_shell_is_not_read_from_the_environment() {
    let r = run(
        &args(&["/definitely/not/here", "s3://b/"]),
        &[("AUTO_COMPLETE_SHELL", "bash")],
    );
    r.assert_code(2);
    assert!(r.stderr.contains("SOURCE"), "{}", r.stderr);
    assert!(!r.stdout.contains("complete"), "{}", r.stdout);
}

#[test]
fn bash_completion_is_valid_and_completes() {
    let path = script_file("bash", &completion_script("bash"));
    let file = path.display().to_string();
    let check = shell_output("bash", &["--norc", "-n", &file]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // `t WORD...` completes the last word as bash would, one candidate a line.
    let flags = long_flags();
    let value_option = flags
        .iter()
        .find(|(_, v)| *v)
        .map_or("--worker-size", |f| &f.0);
    let switch = flags
        .iter()
        .find(|(_, v)| !*v)
        .map_or("--dry-run", |f| &f.0);
    let program = format!(
        r#"source '{file}'
t() {{ COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _s3sync; echo "== $*"; printf '%s\n' "${{COMPREPLY[@]}}"; }}
t s3sync --worker
t s3sync --
t s3sync --storage-class STANDARD_
t s3sync --sse aws : k
t s3sync {switch} -
t s3sync {value_option} -
"#
    );
    let out = shell_output("bash", &["--norc", "-c", &program]);
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replies: Vec<Vec<&str>> = stdout
        .split("== ")
        .skip(1)
        .map(|block| block.lines().skip(1).collect())
        .collect();
    assert_eq!(replies.len(), 6, "{stdout}");
    assert_eq!(replies[0], ["--worker-size"], "{stdout}");
    let mut longs: Vec<&str> = flags.iter().map(|f| f.0.as_str()).collect();
    longs.sort_unstable();
    let mut offered = replies[1].clone();
    offered.sort_unstable();
    assert_eq!(offered, longs, "every long option, nothing else");
    assert_eq!(replies[2], ["STANDARD_IA"], "{stdout}");
    // Bash keeps `aws:` of the word and replaces only what follows the colon.
    assert_eq!(replies[3], ["kms", "kms:dsse"], "{stdout}");
    assert!(
        replies[4].contains(&"--help"),
        "after a switch, options: {stdout}"
    );
    assert!(
        !replies[5].contains(&"--help"),
        "after {value_option}, a value: {stdout}"
    );
}

#[test]
fn zsh_fish_and_elvish_scripts_are_valid() {
    let script = completion_script("zsh");
    check_zsh_specs(&script);
    let zsh = script_file("zsh", &script);
    let out = shell_output("zsh", &["-f", "-n", &zsh.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&zsh);

    let fish = script_file("fish", &completion_script("fish"));
    let f = fish.display().to_string();
    let out = shell_output("fish", &["--no-config", "-n", &f]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every long flag, with its own description intact.
    let program = format!("source '{f}'; complete -C 's3sync --'");
    let out = shell_output("fish", &["--no-config", "-c", &program]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut offered: Vec<&str> = stdout.lines().collect();
    offered.sort_unstable();
    let mut expected: Vec<String> = flag_descriptions()
        .into_iter()
        .map(|(long, _, description)| format!("{long}\t{description}"))
        .collect();
    expected.sort_unstable();
    assert_eq!(offered, expected);

    let program =
        format!("source '{f}'; complete -C 's3sync --worker'; complete -C 's3sync --acl pub'");
    let out = shell_output("fish", &["--no-config", "-c", &program]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let offered: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(
        offered,
        ["--worker-size", "public-read", "public-read-write"],
        "{stdout}"
    );
    let _ = std::fs::remove_file(&fish);

    // Outside its line editor elvish has no `edit:` module: stand-ins print the candidates.
    let script = completion_script("elvish")
        .replace(
            "set edit:completion:arg-completer[s3sync] =",
            "var completer =",
        )
        .replace("edit:complex-candidate", "candidate")
        .replace("edit:complete-filename", "put file:");
    let program = format!(
        "fn candidate {{|stem &display=''| put $stem }}\n{script}\n\
         $completer s3sync --worker\n$completer s3sync --sse aws:\n"
    );
    let elvish = script_file("elvish", &program);
    let out = shell_output("elvish", &["-norc", &elvish.display().to_string()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offered: Vec<&str> = stdout.lines().map(|l| l.trim_start_matches("▶ ")).collect();
    assert!(offered.contains(&"--worker-size"), "{stdout}");
    assert!(offered.contains(&"aws:kms:dsse"), "{stdout}");
    assert!(!offered.contains(&"file:"), "{stdout}");
    let _ = std::fs::remove_file(&elvish);
}

/// PowerShell is rarely installed where the tests run: check the structure instead. Outside
/// single-quoted strings (`''` is a quote) and comments, brackets must pair up.
#[test]
fn powershell_and_elvish_scripts_are_balanced() {
    for shell in ["powershell", "elvish"] {
        let script = completion_script(shell);
        let mut stack = Vec::new();
        let mut chars = script.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' => loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        Some('\'') => break,
                        Some(_) => {}
                        None => panic!("{shell}: unterminated string"),
                    }
                },
                '#' => while chars.next().is_some_and(|c| c != '\n') {},
                '(' | '[' | '{' => stack.push(c),
                ')' | ']' | '}' => {
                    let open = stack.pop();
                    let want = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    assert_eq!(open, Some(want), "{shell}: unbalanced {c}");
                }
                _ => {}
            }
        }
        assert!(stack.is_empty(), "{shell}: unclosed {stack:?}");
    }
    let ps = completion_script("powershell");
    assert!(
        ps.contains("Register-ArgumentCompleter -Native -CommandName s3sync -ScriptBlock {"),
        "{ps}"
    );
}

/// zsh's `_arguments` reads `:`, `[` and `]` in a spec: a description holding them unescaped
/// would cut the spec short. Each spec is `NAME[DESCRIPTION]` or `NAME[DESCRIPTION]:MESSAGE:ACTION`.
fn check_zsh_specs(script: &str) {
    let flags = flag_descriptions();
    let mut seen = 0;
    for line in script.lines().map(str::trim) {
        let Some(quoted) = line.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) else {
            continue;
        };
        let spec = quoted.replace("'\\''", "'");
        // Split at unescaped `[`, `]` and `:`, dropping the escapes.
        let mut parts = vec![(None, String::new())];
        let mut chars = spec.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => parts.last_mut().map_or((), |p| p.1.extend(chars.next())),
                '[' | ']' | ':' => parts.push((Some(c), String::new())),
                _ => parts.last_mut().map_or((), |p| p.1.push(c)),
            }
        }
        let separators: String = parts.iter().filter_map(|p| p.0).collect();
        if separators.starts_with(':') || separators.starts_with("*:") {
            continue; // a positional: `*:SOURCE TARGET:_files`
        }
        assert!(
            separators == "[]" || separators == "[]::",
            "{line}: separators {separators}"
        );
        let name = parts[0].1.rsplit(')').next().unwrap_or_default();
        let name = name.trim_start_matches('*').trim_end_matches('=');
        if let Some((_, takes_value, description)) = flags.iter().find(|f| f.0 == name) {
            assert_eq!(&parts[1].1, description, "{line}");
            assert_eq!(separators == "[]::", *takes_value, "{line}");
            seen += 1;
        }
    }
    assert!(seen >= flags.len(), "{seen} specs of long flags found");
}

/// `RUST_LOG` replaces the `-v`/`-q` level, read as env_logger reads it. (That the HTTP
/// layers never log below info is a unit test in `logging.rs`.)
#[test]
fn rust_log_sets_the_log_level() {
    let root = std::env::temp_dir().join(common::unique("rustlog"));
    let src = root.join("src");
    common::write_file(&src.join("a.txt"), b"alpha");
    common::write_file(&src.join("b/c.txt"), b"gamma");
    let sync = |dest: &str, env: &[(&str, &str)], extra: &[&str]| {
        let mut a = args(extra);
        a.push(common::s(&src));
        a.push(common::s(&root.join(dest)));
        run(&a, env)
    };
    // Default level (warnings): no per-object record.
    let quiet = sync("t1", &[], &[]);
    quiet.assert_code(0);
    assert!(
        !quiet.stdout.contains("sync completed."),
        "{}",
        quiet.stdout
    );
    // RUST_LOG=s3sync=info: one record per file, on stdout.
    let info = sync("t2", &[("RUST_LOG", "s3sync=info")], &[]);
    info.assert_code(0);
    assert_eq!(
        info.stdout.matches("sync completed.").count(),
        2,
        "{}",
        info.stdout
    );
    assert!(info.stdout.contains("key=\"b/c.txt\""), "{}", info.stdout);
    // It overrides -vv, and a directive for another module leaves ours off.
    let other = sync("t3", &[("RUST_LOG", "quick_xml=trace")], &["-vv"]);
    other.assert_code(0);
    assert!(!other.stdout.contains("INFO"), "{}", other.stdout);
    // The `/text` suffix keeps only matching messages.
    let only = sync("t4", &[("RUST_LOG", "debug/sync completed")], &[]);
    only.assert_code(0);
    assert_eq!(only.stdout.lines().count(), 2, "{}", only.stdout);
    assert!(
        only.stdout
            .lines()
            .all(|l| l.contains(" INFO sync completed. key=")),
        "{}",
        only.stdout
    );
    for dest in ["t1", "t2", "t3", "t4"] {
        assert_eq!(
            std::fs::read(root.join(dest).join("b/c.txt"))
                .ok()
                .as_deref(),
            Some(&b"gamma"[..])
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
