//! Regular expressions as the filter options accept them.
//!
//! A pattern is compiled with the `regex` crate, whose matching time is linear in the text,
//! whenever it can be. Only a pattern that needs what that engine leaves out (lookaround,
//! backreferences, atomic groups) is compiled with `fancy-regex`, the syntax the reference
//! tool documents. Both are unanchored searches: `\.txt$` matches every key ending in `.txt`.

use std::fmt;

#[derive(Clone)]
enum Engine {
    Linear(regex::Regex),
    Backtracking(fancy_regex::Regex),
}

/// A compiled filter pattern, remembering the text it was given.
#[derive(Clone)]
pub struct Pattern {
    text: String,
    engine: Engine,
}

impl Pattern {
    /// Compiles `text`; the error is one line saying what is wrong with it.
    pub fn new(text: &str) -> Result<Pattern, String> {
        let engine = match regex::Regex::new(text) {
            Ok(r) => Engine::Linear(r),
            Err(linear_error) => match fancy_regex::Regex::new(text) {
                Ok(r) => Engine::Backtracking(r),
                // A pattern neither engine takes: the linear engine's message is the more
                // precise one unless the pattern only failed there for a fancy feature.
                Err(fancy_error) => {
                    let message = match linear_error {
                        regex::Error::Syntax(_) => fancy_error.to_string(),
                        other => other.to_string(),
                    };
                    return Err(one_line(&message));
                }
            },
        };
        Ok(Pattern {
            text: text.to_string(),
            engine,
        })
    }

    /// Whether the pattern matches somewhere in `haystack`. A backtracking pattern can give
    /// up on a pathological input; that is an error rather than a guess either way.
    pub fn is_match(&self, haystack: &str) -> Result<bool, String> {
        match &self.engine {
            Engine::Linear(r) => Ok(r.is_match(haystack)),
            Engine::Backtracking(r) => r.is_match(haystack).map_err(|e| {
                format!(
                    "pattern '{}' gave up: {}",
                    self.text,
                    one_line(&e.to_string())
                )
            }),
        }
    }

    /// The pattern as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the linear-time engine runs this pattern.
    pub fn is_linear(&self) -> bool {
        matches!(self.engine, Engine::Linear(_))
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.text)
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_patterns_use_the_linear_engine() {
        let p = Pattern::new(r"\.txt$").unwrap();
        assert!(p.is_linear());
        assert!(p.is_match("dir/a.txt").unwrap());
        assert!(!p.is_match("dir/a.txt.gz").unwrap());
    }

    #[test]
    fn lookaround_and_backreferences_fall_back_to_backtracking() {
        let p = Pattern::new(r"^(?!tmp/).*\.log$").unwrap();
        assert!(!p.is_linear());
        assert!(p.is_match("app/x.log").unwrap());
        assert!(!p.is_match("tmp/x.log").unwrap());
        let p = Pattern::new(r"(?<=dir/)b").unwrap();
        assert!(p.is_match("dir/b").unwrap());
        assert!(!p.is_match("other/b").unwrap());
        let p = Pattern::new(r"^(\w+)-\1$").unwrap();
        assert!(p.is_match("ab-ab").unwrap());
        assert!(!p.is_match("ab-cd").unwrap());
    }

    #[test]
    fn a_backtracking_pattern_that_gives_up_is_an_error_not_a_guess() {
        let p = Pattern::new(r"((a|b|ab)*)\1c").unwrap();
        assert!(!p.is_linear());
        let e = p.is_match(&"ab".repeat(30)).unwrap_err();
        assert!(e.contains("gave up") && !e.contains('\n'), "{e}");
        assert!(p.is_match("abc").unwrap());
    }

    #[test]
    fn bad_patterns_give_one_line_errors() {
        for bad in ["(", "[a-", "(?<=a+)b(?", "a)"] {
            let e = Pattern::new(bad).unwrap_err();
            assert!(!e.is_empty() && !e.contains('\n'), "{bad}: {e}");
        }
    }
}
