//! Where s3sync keeps what must outlive a run (the journal of multipart uploads in flight):
//! `--state-dir` (or `STATE_DIR`), else the user's state directory of the XDG base
//! directory specification, `$XDG_STATE_HOME/s3sync` (an absolute path), else
//! `$HOME/.local/state/s3sync`.

use std::path::PathBuf;

use super::Args;

/// The state directory of the run; `None` when neither an option nor the environment names
/// one (no multipart upload is then resumable).
pub fn dir(args: &Args, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = args.state_dir.as_deref().filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let absolute = |name: &str| env(name).map(PathBuf::from).filter(|p| p.is_absolute());
    absolute("XDG_STATE_HOME")
        .map(|p| p.join("s3sync"))
        .or_else(|| absolute("HOME").map(|h| h.join(".local").join("state").join("s3sync")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_option_wins_then_xdg_then_home() {
        let mut args = Args::default();
        let both = env(&[("XDG_STATE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(dir(&args, &both), Some(PathBuf::from("/x/s3sync")));
        let relative = env(&[("XDG_STATE_HOME", "rel"), ("HOME", "/h")]);
        assert_eq!(
            dir(&args, &relative),
            Some(PathBuf::from("/h/.local/state/s3sync"))
        );
        assert_eq!(dir(&args, &env(&[])), None);
        args.state_dir = Some("/s".into());
        assert_eq!(dir(&args, &both), Some(PathBuf::from("/s")));
    }
}
