//! Summaries of repeated measurements: median, min, max, and whether the
//! spread is too wide for the figures to mean much.

/// Above this max/min, a peer's timings in one case are flagged as too
/// noisy to trust: on a quiet machine repeated TCG boots stay within a few
/// per cent; 25 % means something else (host load) took a share.
pub const NOISY_SPREAD: f64 = 1.25;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let (&min, &max) = (v.first()?, v.last()?);
        Some(Summary {
            count: v.len(),
            median: median_of_sorted(&v),
            min,
            max,
        })
    }

    /// max / min.
    pub fn spread(&self) -> f64 {
        ratio(self.max, self.min)
    }

    pub fn is_noisy(&self) -> bool {
        self.spread() > NOISY_SPREAD
    }
}

fn median_of_sorted(v: &[f64]) -> f64 {
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `a / b`, NaN when `b` is not positive.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_max() {
        let s = Summary::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.count, s.median, s.min, s.max), (3, 2.0, 1.0, 3.0));
        assert_eq!(Summary::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[f64::NAN]).is_none());
    }

    #[test]
    fn spread_flags_noise() {
        assert!(!Summary::of(&[1.0, 1.2]).unwrap().is_noisy());
        assert!(Summary::of(&[1.0, 1.3]).unwrap().is_noisy());
        assert!(ratio(1.0, 0.0).is_nan());
    }
}
