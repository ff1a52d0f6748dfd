//! `/run/initramfs/livenet.info` (network-boot-spec §4): what was fetched,
//! as `KEY=value` lines for the booted system and `liveinit status`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What a finished download records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Info {
    pub url: String,
    pub final_url: String,
    pub size: u64,
    pub sha256: String,
    pub sha256_verified: bool,
    pub interface: String,
    pub seconds: u64,
    pub resumes: u32,
}

impl Info {
    pub fn render(&self) -> String {
        format!(
            "URL={}\nFINAL_URL={}\nSIZE={}\nSHA256={}\nSHA256_VERIFIED={}\nINTERFACE={}\nSECONDS={}\nRESUMES={}\n",
            self.url,
            self.final_url,
            self.size,
            self.sha256,
            if self.sha256_verified { "yes" } else { "no" },
            self.interface,
            self.seconds,
            self.resumes
        )
    }
}

/// The `KEY=value` pairs of an info file, in order.
pub fn parse(text: &str) -> Vec<(&str, &str)> {
    text.lines().filter_map(|l| l.split_once('=')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_reads_back() {
        let info = Info {
            url: "http://h/x.img".into(),
            final_url: "http://h/f/x.img".into(),
            size: 42,
            sha256: "ab".into(),
            sha256_verified: true,
            interface: "eth0".into(),
            seconds: 3,
            resumes: 1,
        };
        let text = info.render();
        let pairs = parse(&text);
        assert_eq!(pairs.len(), 8);
        assert!(pairs.contains(&("SHA256_VERIFIED", "yes")));
        assert!(pairs.contains(&("FINAL_URL", "http://h/f/x.img")));
    }
}
