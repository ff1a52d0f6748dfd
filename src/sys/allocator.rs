//! The heap of the `no_std` init: the C library's allocator (musl's, linked
//! statically anyway), behind Rust's `GlobalAlloc`. The binary registers it
//! with `#[global_allocator]`. Running out of memory calls the panic
//! handler, so it ends under the emergency policy like any fatal error.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

/// What `malloc` guarantees on every Linux target the init is built for.
const MALLOC_ALIGN: usize = 16;

pub struct LibcAlloc;

fn malloc_aligns(layout: &Layout) -> bool {
    layout.align() <= MALLOC_ALIGN && layout.align() <= layout.size()
}

// SAFETY: every pointer handed out comes from malloc/posix_memalign with at
// least the layout's size and alignment, and is only ever given back to
// `free`/`realloc` of the same C library.
unsafe impl GlobalAlloc for LibcAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if malloc_aligns(&layout) {
            // SAFETY: plain malloc of a non-zero size (GlobalAlloc's contract).
            return unsafe { libc::malloc(layout.size()) }.cast();
        }
        let mut out: *mut libc::c_void = ptr::null_mut();
        let align = layout.align().max(core::mem::size_of::<usize>());
        // SAFETY: `align` is a power of two and a multiple of the pointer
        // size, as posix_memalign requires; `out` is a valid place to write.
        match unsafe { libc::posix_memalign(&mut out, align, layout.size()) } {
            0 => out.cast(),
            _ => ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from `alloc`/`realloc` above (caller's contract).
        unsafe { libc::free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN && layout.align() <= new_size {
            // SAFETY: `ptr` came from this allocator with a malloc-compatible
            // alignment, which realloc keeps.
            return unsafe { libc::realloc(ptr.cast(), new_size) }.cast();
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        // SAFETY: as `alloc`; then the old block is copied (the smaller of
        // the two sizes) and freed, as GlobalAlloc's default realloc does.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
