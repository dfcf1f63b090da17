//! Shell-style name patterns as azcopy's `--include-pattern` and `--exclude-pattern` take
//! them: `*` (any run of characters), `?` (one character), `[abc]`, `[a-z]` and `[!a-z]`
//! (`[^a-z]` too); every other character stands for itself, case-sensitively. A pattern
//! matches the whole name. An unclosed `[` is refused rather than guessed at.

/// One element of a compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    Any,
    Star,
    /// A bracket class: its ranges (a single character is a range of one) and whether it
    /// is negated.
    Class(Vec<(char, char)>, bool),
}

/// A compiled name pattern, remembering its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `text`; the error says what is wrong with it.
    pub fn new(text: &str) -> Result<Glob, String> {
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                '?' => tokens.push(Token::Any),
                '[' => {
                    let negated = chars.next_if(|c| *c == '!' || *c == '^').is_some();
                    let mut ranges = Vec::new();
                    let mut first = true;
                    loop {
                        let Some(lo) = chars.next() else {
                            return Err(format!("'{text}': '[' is not closed by ']'"));
                        };
                        if lo == ']' && !first {
                            break;
                        }
                        first = false;
                        let hi = match chars.peek() {
                            Some('-') => {
                                chars.next();
                                match chars.next() {
                                    Some(']') => {
                                        ranges.push((lo, lo));
                                        ranges.push(('-', '-'));
                                        break;
                                    }
                                    Some(hi) => hi,
                                    None => {
                                        return Err(format!("'{text}': '[' is not closed by ']'"));
                                    }
                                }
                            }
                            _ => lo,
                        };
                        ranges.push((lo, hi));
                    }
                    tokens.push(Token::Class(ranges, negated));
                }
                c => tokens.push(Token::Char(c)),
            }
        }
        Ok(Glob {
            text: text.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern matches all of `name`.
    pub fn is_match(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // Iterative matching with one backtrack point (the last `*`): linear in practice,
        // never exponential.
        let (mut t, mut n) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while n < name.len() {
            match self.tokens.get(t) {
                Some(Token::Star) => {
                    star = Some((t, n));
                    t += 1;
                    continue;
                }
                Some(token) if one(token, name[n]) => {
                    t += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
            match star {
                Some((st, sn)) => {
                    t = st + 1;
                    n = sn + 1;
                    star = Some((st, sn + 1));
                }
                None => return false,
            }
        }
        self.tokens[t..].iter().all(|token| *token == Token::Star)
    }
}

/// Whether a single-character token matches `c`.
fn one(token: &Token, c: char) -> bool {
    match token {
        Token::Char(x) => *x == c,
        Token::Any => true,
        Token::Class(ranges, negated) => {
            ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
        Token::Star => false,
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    fn m(pattern: &str, name: &str) -> bool {
        Glob::new(pattern)
            .map(|g| g.is_match(name))
            .unwrap_or(false)
    }

    #[test]
    fn stars_questions_and_classes() {
        assert!(m("*.jpg", "a.jpg") && m("*.jpg", ".jpg") && !m("*.jpg", "a.jpg.bak"));
        assert!(m("foo*", "foo") && m("foo*", "foobar") && !m("foo*", "xfoo"));
        assert!(m("*bar", "bar") && m("*bar", "crowbar") && !m("*bar", "bars"));
        assert!(m("exactName", "exactName") && !m("exactName", "exactname"));
        assert!(m("a?c", "abc") && !m("a?c", "ac"));
        assert!(m("[ab]*", "apple") && !m("[ab]*", "cherry"));
        assert!(m("x[0-9]", "x5") && !m("x[0-9]", "xa"));
        assert!(m("x[!0-9]", "xa") && !m("x[!0-9]", "x5"));
        assert!(m("[]]", "]") && m("[a-]", "-"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx") && !m("*a*b*c*", "xxaxxcxxb"));
        assert!(m("é?", "éé"));
        assert!(Glob::new("[abc").is_err());
    }
}
