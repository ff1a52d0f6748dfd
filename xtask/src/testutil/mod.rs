//! Helpers shared by xtask's unit tests, in one place so no module's tests
//! reach into another module's tests.

mod cpio_reader;
mod fake_elf;
mod temp_dir;

pub(crate) use cpio_reader::{read_cpio, CpioEntry};
pub(crate) use fake_elf::{fake_module, ElfBuilder, FakeSymbol};
pub(crate) use temp_dir::{put_file, TempDir};
