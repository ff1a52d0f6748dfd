//! Number formatting for the report.

use super::stats::Summary;

/// `1.234 s`, or `n/a`.
pub fn secs(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{x:.3} s"),
        _ => "n/a".into(),
    }
}

/// `0.87`, or `n/a`.
pub fn ratio(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "n/a".into()
    }
}

/// Bytes as `781 KiB` / `4.06 MiB`.
pub fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let n = n as f64;
    if n < KIB * KIB {
        format!("{:.0} KiB", n / KIB)
    } else {
        format!("{:.2} MiB", n / KIB / KIB)
    }
}

/// KiB as MiB with one decimal.
pub fn kib_as_mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `min – max` of a summary, in seconds.
pub fn min_max(s: &Summary) -> String {
    format!("{:.3} – {:.3} s", s.min, s.max)
}

/// The spread, flagged when it is too wide.
pub fn spread(s: &Summary) -> String {
    if s.is_noisy() {
        format!("{:.2} ⚠ too noisy to trust", s.spread())
    } else {
        format!("{:.2}", s.spread())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(secs(Some(1.23456)), "1.235 s");
        assert_eq!(secs(None), "n/a");
        assert_eq!(ratio(f64::NAN), "n/a");
        assert_eq!(bytes(800_000), "781 KiB");
        assert_eq!(bytes(4_256_824), "4.06 MiB");
        assert_eq!(kib_as_mib(2048), "2.0 MiB");
        let noisy = Summary::of(&[1.0, 2.0]).unwrap();
        assert_eq!(spread(&noisy), "2.00 ⚠ too noisy to trust");
        assert_eq!(min_max(&noisy), "1.000 – 2.000 s");
    }
}
