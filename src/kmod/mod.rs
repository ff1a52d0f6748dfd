//! Kernel modules without `modprobe`: from what the kernel says a device
//! needs to the modules that serve it, and in which order they may load.
//! Pure: text in, decisions out; `boot::modules` does the loading.
//!
//! - [`name`]: module names as the kernel knows them (`-` and `_` alike).
//! - [`fnmatch`]: the shell-style matching `modprobe` applies to aliases.
//! - [`alias`]: `alias <pattern> <module>` lines, asked which modules serve
//!   a `MODALIAS` or a kernel request (`fs-vfat`, `dm-snapshot`).
//! - [`dep`]: the packed modules in load order with their dependencies.
//! - [`queue`]: which module may start loading next.
//!
//! The files these are read from, and what the packer writes into them,
//! are the initramfs contract ([`crate::contract`]).

pub mod alias;
pub mod dep;
pub mod fnmatch;
pub mod name;
pub mod queue;

pub use alias::AliasTable;
pub use dep::{DepTable, ModuleEntry};
pub use name::module_name;
pub use queue::{LoadCounts, LoadQueue, Priority};
