//! Asking the CPU for memory before it is read.
//!
//! A sweep or a flush of a large shard visits users spread all over gigabytes of slots, and
//! each visit starts with a cache and TLB miss. The misses are independent of one another, so
//! the callers ask for the next ones a few users ahead and the memory system overlaps them,
//! instead of waiting for each in turn (pipelines/src/deadlines.rs, "Cache misses").

use std::mem::size_of_val;

/// A cache line on the machines this runs on.
const CACHE_LINE: usize = 64;

/// Starts loading `value`'s first cache line, so that a later read of it finds it there
/// instead of waiting for memory. Only a hint: nothing else happens.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    prefetch_address(std::ptr::from_ref(value).cast());
}

/// [`prefetch`] for every cache line `value` spans.
#[inline(always)]
pub(crate) fn prefetch_all<T>(value: &T) {
    let start: *const u8 = std::ptr::from_ref(value).cast();
    for offset in (0..size_of_val(value)).step_by(CACHE_LINE) {
        prefetch_address(start.wrapping_add(offset));
    }
}

#[inline(always)]
fn prefetch_address(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing the program sees and cannot fault, whatever the
    // address; SSE, which it needs, is part of every x86-64 CPU.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
