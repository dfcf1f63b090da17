//! The machinery of the flag table that `args.rs` writes: what a flag is ([`Flag`], [`Kind`]),
//! how a value is stored into its field, and the `command_line!` macro building [`super::args::Args`]
//! and [`super::args::FLAGS`] from one list.

/// What a flag does with the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Turned on by its presence (`--dry-run`).
    Switch,
    /// Counted, may repeat (`-vvv`).
    Count,
    /// Takes the next argument, or what follows `=`, as its value (`--worker-size 8`).
    Value,
    /// A boolean as azcopy writes them: `--recursive` is true, `--recursive=false` and
    /// `--recursive=true` (any case) say so; it never takes the next argument. Its field is
    /// an `Option<bool>`, `None` when not given.
    Bool,
    /// `-h`/`--help`.
    Help,
}

/// One flag of the command line, storing into the arguments record `A` (`args::Args`).
pub struct Flag<A: 'static> {
    /// The field of `Args` it sets: `worker_size` for `--worker-size`.
    pub field: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
    /// The name `--help` gives its value, where not the upper snake field name.
    pub(crate) value_name: Option<&'static str>,
    /// The `--help` heading it is listed under.
    pub section: &'static str,
    /// Its description, as written in the table (lines joined by '\n').
    pub description: &'static str,
    /// Stores a value (for [`Kind::Value`]; the others ignore it) into `Args`.
    pub(crate) set: fn(&mut A, &str) -> Result<(), String>,
}

impl<A> Flag<A> {
    /// With its dashes: `--worker-size`.
    pub fn long(&self) -> String {
        format!("--{}", self.field.replace('_', "-"))
    }

    /// Whether `name` (without the dashes) is this flag's long name. Underscores are not
    /// accepted for dashes: `--worker_size` is not an option.
    pub fn is_named(&self, name: &str) -> bool {
        name.len() == self.field.len()
            && name
                .bytes()
                .zip(self.field.bytes())
                .all(|(n, f)| n == f && n != b'_' || n == b'-' && f == b'_')
    }

    /// The environment variable it falls back to: `WORKER_SIZE`.
    pub fn env_name(&self) -> String {
        self.field.to_ascii_uppercase()
    }

    pub fn takes_value(&self) -> bool {
        self.kind == Kind::Value
    }

    /// The name of its value in `--help` and the completion scripts (`N`, `FILE`,
    /// `WORKER_SIZE`); `None` for a flag that takes none.
    pub fn value_name(&self) -> Option<String> {
        self.takes_value().then(|| {
            self.value_name
                .map_or_else(|| self.env_name(), str::to_string)
        })
    }

    /// The description on one line.
    pub fn one_line(&self) -> String {
        self.description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Applies this flag to `args`, once per occurrence. A value is parsed by the flag's
    /// own rule; an error is the reason, without the flag's name.
    pub fn apply(&self, args: &mut A, value: &str) -> Result<(), String> {
        (self.set)(args, value)
    }
}

/// How an option's text becomes its field.
pub(crate) trait SetFromArg {
    fn set_from_arg(&mut self, text: &str) -> Result<(), String>;
}

impl SetFromArg for Option<String> {
    fn set_from_arg(&mut self, text: &str) -> Result<(), String> {
        *self = Some(text.to_string());
        Ok(())
    }
}

/// What a number option accepts, for its error message.
fn whole_number(max: u64) -> String {
    format!("expected a whole number from 0 to {max}")
}

macro_rules! numeric_args {
    ($($t:ty),*) => {$(
        impl SetFromArg for $t {
            fn set_from_arg(&mut self, text: &str) -> Result<(), String> {
                *self = text.trim().parse().map_err(|_| whole_number(<$t>::MAX.into()))?;
                Ok(())
            }
        }
        impl SetFromArg for Option<$t> {
            fn set_from_arg(&mut self, text: &str) -> Result<(), String> {
                *self = Some(text.trim().parse().map_err(|_| whole_number(<$t>::MAX.into()))?);
                Ok(())
            }
        }
    )*};
}
numeric_args!(u16, u32, u64);

/// The type of a field.
macro_rules! field_type {
    (switch) => {
        bool
    };
    (boolean) => {
        Option<bool>
    };
    (help) => {
        bool
    };
    (count) => {
        u8
    };
    (option : $t:ty) => {
        $t
    };
}

/// The value of a field before the command line is read.
macro_rules! field_default {
    (switch) => {
        false
    };
    (boolean) => {
        None
    };
    (help) => {
        false
    };
    (count) => {
        0
    };
    (option) => {
        None
    };
    (option = $default:expr) => {
        $default
    };
}

/// `Some` of what is given, or `None`.
macro_rules! some {
    () => {
        None
    };
    ($given:literal) => {
        Some($given)
    };
}

macro_rules! flag_kind {
    (switch) => {
        Kind::Switch
    };
    (boolean) => {
        Kind::Bool
    };
    (help) => {
        Kind::Help
    };
    (count) => {
        Kind::Count
    };
    (option) => {
        Kind::Value
    };
}

/// Stores one occurrence of a flag in its field.
macro_rules! store {
    (switch, $field:expr, $text:ident) => {{
        let _ = $text;
        *$field = true;
        Ok(())
    }};
    (boolean, $field:expr, $text:ident) => {{
        *$field = Some($crate::cli::flag_table::parse_bool($text)?);
        Ok(())
    }};
    (help, $field:expr, $text:ident) => {
        store!(switch, $field, $text)
    };
    (count, $field:expr, $text:ident) => {{
        let _ = $text;
        *$field = $field.saturating_add(1);
        Ok(())
    }};
    (option, $field:expr, $text:ident) => {
        SetFromArg::set_from_arg($field, $text)
    };
    (option, $field:expr, $text:ident, $parse:path) => {{
        *$field = $parse($text)?;
        Ok(())
    }};
}

/// Defines `Args`, its [`Default`] (what an absent flag means) and [`FLAGS`] from one
/// list of sections. Each entry is its description (doc comment) and one of
///
/// - `switch NAME` (a `bool`), `count NAME` (a `u8`), `help NAME`, `boolean NAME` (an
///   `Option<bool>`, see [`Kind::Bool`]);
/// - `option NAME: TYPE [= DEFAULT]`: `Option<String>`, or a number (`u16`, `u32`, `u64`,
///   optional or with a default) parsed with `FromStr`;
///
/// followed by any of `, short 'c'`, `, value "NAME"` (the value's name in `--help`) and
/// `, parse FUNCTION` (`fn(&str) -> Result<TYPE, String>` instead of `FromStr`).
macro_rules! command_line {
    ($(
        $section:literal {$(
            $(#[doc = $doc:literal])*
            $kind:ident $field:ident $(: $ty:ty)? $(= $default:expr)?
                $(, short $short:literal)? $(, value $value:literal)? $(, parse $parse:path)?;
        )*}
    )*) => {
        /// The parsed command line. Built by [`super::argv::parse`]; read by validation.
        // No Debug: the arguments hold secrets.
        pub struct Args {
            /// SOURCE then TARGET (more or fewer are refused by validation).
            pub paths: Vec<String>,
            /// The fields of the flags given, on the command line or in the environment.
            pub given: std::collections::HashSet<&'static str>,
            $($(
                $(#[doc = $doc])*
                pub $field: field_type!($kind $(: $ty)?),
            )*)*
        }

        impl Default for Args {
            fn default() -> Args {
                Args {
                    paths: Vec::new(),
                    given: std::collections::HashSet::new(),
                    $($( $field: field_default!($kind $(= $default)?), )*)*
                }
            }
        }

        /// Every flag, in the order `--help` lists them.
        pub static FLAGS: &[Flag] = &[$($(
            Flag {
                field: stringify!($field),
                short: some!($($short)?),
                kind: flag_kind!($kind),
                value_name: some!($($value)?),
                section: $section,
                description: concat!($($doc, "\n"),*),
                set: |args, text| store!($kind, &mut args.$field, text $(, $parse)?),
            },
        )*)*];
    };
}

/// The value of a [`Kind::Bool`] flag: empty (the flag alone) or `true` is true, `false` is
/// false, in any case.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim() {
        "" => Ok(true),
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err("expected true or false".to_string()),
    }
}
