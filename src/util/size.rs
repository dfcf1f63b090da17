//! Byte sizes: parsing the `8MiB` / `5MB` / `30` syntax of the options, and printing them.

/// Parses a byte size with an optional unit: `B`, `KB`, `KiB`, `MB`, `MiB`, `GB`, `GiB`, `TB`, `TiB`
/// (decimal units are powers of 1000, binary ones of 1024; case-insensitive, spaces allowed).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    if num.is_empty() {
        return Err(format!(
            "'{text}' is not a size (expected a number with an optional unit such as 8MiB)"
        ));
    }
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1000,
        "kib" | "ki" => 1 << 10,
        "mb" | "m" => 1000 * 1000,
        "mib" | "mi" => 1 << 20,
        "gb" | "g" => 1000 * 1000 * 1000,
        "gib" | "gi" => 1 << 30,
        "tb" | "t" => 1000u64.pow(4),
        "tib" | "ti" => 1 << 40,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{text}' (use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB)"
            ));
        }
    };
    let value = if num.contains('.') {
        let f: f64 = num.parse().map_err(|_| format!("'{text}' is not a size"))?;
        let v = f * mult as f64;
        if !v.is_finite() || v < 0.0 || v > u64::MAX as f64 {
            return Err(format!("'{text}' is out of range"));
        }
        v.round() as u64
    } else {
        let n: u64 = num
            .parse()
            .map_err(|_| format!("'{text}' is out of range"))?;
        n.checked_mul(mult)
            .ok_or_else(|| format!("'{text}' is out of range"))?
    };
    Ok(value)
}

/// Binary-unit rendering as the summary line shows it: `976.56 MiB`, `0 B`, `12 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// Thousands separators: `100,000`.
pub fn human_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("30"), Ok(30));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("5MB"), Ok(5_000_000));
        assert_eq!(parse_size("10 kib"), Ok(10_240));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert!(parse_size("abc").is_err());
        assert!(parse_size("5XB").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }

    #[test]
    fn prints_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(31_457_280), "30.00 MiB");
        assert_eq!(human_count(100_000), "100,000");
        assert_eq!(human_count(7), "7");
    }
}
