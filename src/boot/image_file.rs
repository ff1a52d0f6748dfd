//! `root=live:/path.img` (an image file inside the initramfs) and, through
//! the same door, a downloaded network image: nothing to discover or mount
//! first, the file is the image.

#[allow(unused_imports)]
use crate::prelude::*;

use log::info;

use super::error::{BootError, Cause, Stage};
use super::execute::Executor;
use super::live;
use crate::config::LiveConfig;
use crate::plan::image_file::{image_file_source, record_image_file};
use crate::plan::Layout;
use crate::probe::{self, PROBE_BYTES};
use crate::sys::Sys;

/// Opens the image file at `path`: what the root will be built on.
pub fn open_image_file<S: Sys>(
    exec: &mut Executor<'_, S>,
    sys: &S,
    cfg: &LiveConfig,
    path: &str,
) -> Result<Layout, BootError> {
    let head = sys
        .read_head(path, PROBE_BYTES)
        .map_err(|e| BootError::sys(Stage::MountImage, path, e))?;
    let fs = probe::probe(&head)
        .ok_or_else(|| BootError::new(Stage::MountImage, path, Cause::NoFilesystem))?;
    if cfg.ram {
        info!("rd.live.ram: {path} is already in RAM; it is not copied again");
    }
    info!("the live image is {path} ({})", fs.fstype.as_str());
    exec.run(Stage::MountImage, &record_image_file(path))?;
    let source = image_file_source(path, fs.fstype);
    live::open_source(exec, sys, &source, fs.fstype)
}
