//! What the binary offers users when it is not PID 1.

#[allow(unused_imports)]
use crate::prelude::*;

mod livenet_status;
pub mod status;
