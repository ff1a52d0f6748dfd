//! What `std`'s prelude would bring into the system seam and the
//! orchestration, which are `no_std` like the core (see `src/main.rs`).

pub use alloc::borrow::ToOwned;
pub use alloc::boxed::Box;
pub use alloc::format;
pub use alloc::string::{String, ToString};
pub use alloc::vec;
pub use alloc::vec::Vec;
