//! The three peers and the order they boot in.

/// Who boots the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Peer {
    Liveinit,
    /// The busybox shell-script floor (`floor.rs`).
    Floor,
    Dracut,
}

impl Peer {
    pub const ALL: [Peer; 3] = [Peer::Liveinit, Peer::Floor, Peer::Dracut];

    /// For file names.
    pub fn slug(self) -> &'static str {
        match self {
            Peer::Liveinit => "liveinit",
            Peer::Floor => "floor",
            Peer::Dracut => "dracut",
        }
    }

    /// For the report.
    pub fn label(self) -> &'static str {
        match self {
            Peer::Liveinit => "liveinit",
            Peer::Floor => "busybox floor",
            Peer::Dracut => "dracut",
        }
    }
}

/// The order of round `round` (0-based): A B C, then B C A, then C A B…
/// Each peer boots once per round, so slow drift of the host (other jobs
/// starting or ending) is spread over all of them, and no peer is always
/// the one that boots right after another's cache-warming boot.
pub fn round_order<T: Copy>(items: &[T], round: usize) -> Vec<T> {
    let n = items.len();
    (0..n).map(|i| items[(i + round) % n.max(1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_rotate() {
        assert_eq!(round_order(&Peer::ALL, 0), Peer::ALL);
        assert_eq!(
            round_order(&Peer::ALL, 1),
            [Peer::Floor, Peer::Dracut, Peer::Liveinit]
        );
        assert_eq!(round_order(&Peer::ALL, 3), Peer::ALL);
        assert_eq!(round_order(&['a', 'b'], 1), ['b', 'a']);
        assert!(round_order::<u8>(&[], 4).is_empty());
    }
}
