//! `--delete-destination=prompt`: one question on the terminal before the deletions, with
//! how many objects would go and the first few of their names. Only a line reading `y` or
//! `yes` (any case) is a yes. Standard input that is not a terminal, at end-of-file or an
//! empty line is no answer: nothing is deleted and the run says so.

use std::io::{BufRead, IsTerminal, Write};

use super::Run;
use crate::storage::Entry;

/// The names shown in the question.
const SHOWN: usize = 5;

/// What came of asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Yes,
    No,
    /// Nobody to ask, or nothing typed: the deletions are skipped with a warning.
    Unanswered(&'static str),
}

/// Whether the deletion of `entries` may go ahead: asks, and says why not.
pub(crate) fn allowed(run: &Run<'_>, entries: &[Entry]) -> bool {
    if entries.is_empty() {
        return true;
    }
    match confirm(entries) {
        Answer::Yes => true,
        Answer::No => {
            log::info!("{} deletions declined at the prompt", entries.len());
            false
        }
        Answer::Unanswered(why) => {
            run.warning(
                None,
                &format!(
                    "--delete-destination=prompt: {why}, so none of the {} objects was deleted",
                    entries.len()
                ),
            );
            false
        }
    }
}

/// Asks on stderr, reads one line of stdin.
fn confirm(entries: &[Entry]) -> Answer {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Answer::Unanswered("standard input is not a terminal");
    }
    ask(entries, &mut stdin.lock(), &mut std::io::stderr())
}

/// The question and the reading of the answer, over any input and output.
pub(crate) fn ask(entries: &[Entry], input: &mut dyn BufRead, out: &mut dyn Write) -> Answer {
    let mut question = format!(
        "--delete-destination=prompt: delete {} object(s) of the target that are not in the source?",
        entries.len()
    );
    for e in entries.iter().take(SHOWN) {
        question.push_str(&format!("\n  {}", e.key));
    }
    if entries.len() > SHOWN {
        question.push_str(&format!("\n  ... and {} more", entries.len() - SHOWN));
    }
    question.push_str("\n[y/N] ");
    // A question that cannot be shown cannot be answered.
    if out
        .write_all(question.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return Answer::Unanswered("the question could not be shown");
    }
    let mut line = String::new();
    match input.read_line(&mut line) {
        Ok(0) | Err(_) => Answer::Unanswered("standard input is at its end"),
        Ok(_) => match line.trim().to_ascii_lowercase().as_str() {
            "" => Answer::Unanswered("the answer was empty"),
            "y" | "yes" => Answer::Yes,
            _ => Answer::No,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::time::Timestamp;

    fn entries(n: usize) -> Vec<Entry> {
        (0..n)
            .map(|i| Entry::new(format!("k{i}"), 1, Timestamp { secs: 0, nanos: 0 }))
            .collect()
    }

    fn answer(typed: &str, n: usize) -> (Answer, String) {
        let mut out = Vec::new();
        let a = ask(&entries(n), &mut typed.as_bytes(), &mut out);
        (a, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn only_yes_deletes_and_silence_is_no_answer() {
        assert_eq!(answer("y\n", 1).0, Answer::Yes);
        assert_eq!(answer(" YES \n", 1).0, Answer::Yes);
        assert_eq!(answer("n\n", 1).0, Answer::No);
        assert_eq!(answer("yep\n", 1).0, Answer::No);
        assert!(matches!(answer("", 1).0, Answer::Unanswered(_)));
        assert!(matches!(answer("\n", 1).0, Answer::Unanswered(_)));
        let (_, shown) = answer("n\n", 7);
        assert!(shown.contains("delete 7 object(s)"), "{shown}");
        assert!(shown.contains("k4") && !shown.contains("k5"), "{shown}");
        assert!(shown.contains("and 2 more"), "{shown}");
    }
}
