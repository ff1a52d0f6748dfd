//! The boot-test harness shared by `tests/boot.rs` and `tests/failures.rs`:
//!
//! - [`inputs`]: the kernel, initramfs variants and probe `cargo xtask test`
//!   prepares;
//! - [`shared_media`]: media built once per run, and the drives that hold them;
//! - [`case`]: one boot ([`Case`]) and how it ended ([`Ended`]), with the
//!   checks every boot gets; fatal boots as [`crate::verdict::Fatal`] defines
//!   them;
//! - [`probed`]: a boot that reached the live root and the probe's report;
//! - [`power_cut`]: a boot whose power is cut at a console line;
//! - [`expect`] and [`live_state`]: the state a live boot must leave for the
//!   real root, and its check.
//!
//! Its helpers panic with the console's tail and the log's path: they are
//! assertions, for test code only.

pub mod case;
pub mod expect;
pub mod inputs;
pub mod live_state;
pub mod power_cut;
pub mod probed;
pub mod shared_media;

pub use case::{Case, Ended};
pub use expect::{Base, Expect, LiveBase, Medium, RootFs, FLAT_ISO, ISO_SQUASHFS_IMG};
pub use inputs::Initramfs;
pub use probed::Probed;
pub use shared_media::{cdrom, probe_root, shared, usb_ro, virtio_ro, Shared};
