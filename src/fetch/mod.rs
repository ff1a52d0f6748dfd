//! The network image's pure core (network-boot-spec §2.1, §2.4, §3.1):
//! URLs, the request, the response head, the chunked coding, what each
//! answer means and when to try again, what the downloaded bytes are, and
//! SHA-256. No syscalls: the download loop in `boot::fetch` drives these
//! over the `Sys` seam's sockets.

pub mod chunked;
pub mod content;
pub mod decide;
pub mod info;
pub mod options;
pub mod plan;
pub mod request;
pub mod response;
pub mod room;
pub mod sha256;
pub mod url;

pub use options::NetImage;
pub use url::Url;

/// Where the downloaded image lives: a tmpfs of its own, under `/run`, so
/// it stays valid (and visible to `df`) after the switch.
pub const LIVENET_DIR: &str = "/run/initramfs/livenet";
/// What was fetched, as `key=value` lines (§4).
pub const LIVENET_INFO: &str = "/run/initramfs/livenet.info";
