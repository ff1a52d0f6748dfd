//! liveinit: a static PID-1 initramfs init for live-booting Linux.
//!
//! Three layers, each calling only downwards:
//! 1. the **pure core** — [`cmdline`], [`config`], [`devspec`], [`probe`],
//!    [`plan`], [`policy`], [`explain`]: bytes and strings in, typed values out; no syscalls, only
//!    `core` + `alloc`, so it builds without the `std` feature;
//! 2. the **system seam** — [`sys`]: the only place with `unsafe`, ioctls and
//!    syscalls, behind the [`sys::Sys`] trait (real and recording fake);
//! 3. **orchestration** — [`boot`]: the boot sequence, one step per function.
#![no_std]
// PID 1 never panics: no unwrap/expect/indexing/panics in the init. These are
// crate attributes, not Cargo.toml lints, because this package takes the
// workspace lints and Cargo cannot add per-crate ones on top of them.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(feature = "os")]
mod prelude;

pub mod cmdline;
pub mod config;
pub mod contract;
pub mod devspec;
pub mod discovery;
pub mod explain;
pub mod fetch;
pub mod grammar;
pub mod isomd5;
pub mod keys;
pub mod kmod;
pub mod manual;
pub mod md5;
pub mod net;
pub mod plan;
pub mod policy;
pub mod printable;
pub mod probe;
pub mod progress;
pub mod sha512;
pub mod uevent;
pub mod usage;

#[cfg(feature = "os")]
pub mod boot;
#[cfg(feature = "os")]
pub mod logger;
#[cfg(feature = "os")]
pub mod sys;
#[cfg(feature = "os")]
pub mod tools;

#[cfg(test)]
mod fuzz_tests;
