//! What the binary offers users when it is not PID 1.

pub mod status;
