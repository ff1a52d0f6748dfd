//! casper's `uuid=` at boot (distro-live-spec §2.2, §2.3): a medium the
//! search finds must carry the UUID asked for, in its filesystem's UUID or
//! in one of its `.disk/casper-uuid*` files; otherwise it is let go and
//! the search goes on. `live-media=` and an ISO file are taken unchecked,
//! as casper takes them.

#[allow(unused_imports)]
use crate::prelude::*;

use log::info;

use super::discover::Seen;
use crate::grammar::casper::{is_uuid_file, uuid_matches};
use crate::sys::Sys;

/// Whether the medium mounted at `medium` (the device `seen`) is the one
/// asked for; `Err` says what it carries instead, for the final message.
pub fn check(sys: &impl Sys, medium: &str, asked: &str, seen: &Seen) -> Result<(), String> {
    let dir = format!("{medium}/.disk");
    let mut names = sys.read_dir(&dir).unwrap_or_default();
    names.retain(|n| is_uuid_file(n));
    names.sort();
    let ids: Vec<(String, String)> = names
        .into_iter()
        .filter_map(|name| {
            let text = sys.read_file(&format!("{dir}/{name}")).ok()?;
            Some((name, String::from_utf8_lossy(&text).into_owned()))
        })
        .collect();
    let fs_uuid = seen.fs.as_ref().and_then(|fs| fs.uuid.as_deref());
    let device = format!("/dev/{}", seen.name);
    if uuid_matches(asked, fs_uuid, &ids) {
        info!("{device} carries uuid={asked}");
        return Ok(());
    }
    let mut carried: Vec<String> = ids
        .iter()
        .map(|(name, text)| format!(".disk/{name} {}", text.trim_end()))
        .collect();
    carried.push(format!("filesystem UUID {}", fs_uuid.unwrap_or("none")));
    let carried = format!("{device} ({})", carried.join(", "));
    info!("{carried} holds images but not uuid={asked}; not taken");
    Err(carried)
}
