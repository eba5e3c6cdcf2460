// Memory-mapped files, the OS side: a tiny C API that returns 0 or an OS error code (the record
// of glue_os.h, when given, filled with it and the failed call) and never touches Node-API, so other OS backends (mmap_win.cc, ...)
// slot in beside mmap_posix.cc. Mappings are handed to luaipc/mapping_os.h, which unmaps them.
#ifndef LUAIPC_MMAP_OS_H
#define LUAIPC_MMAP_OS_H

#include <stddef.h>
#include <stdint.h>

#include "luaipc/glue_os.h"

#ifdef __cplusplus
extern "C" {
#endif

// LuaIPC's modes. 'r' maps the file private copy-on-write: the memory is writable, but what is
// written stays in this process and never reaches the file. 'w' and 'rw' map it shared and
// read-write (a mapping cannot be write-only on every system; the handle refuses reads itself).
#define LUAIPC_MMAP_R 1
#define LUAIPC_MMAP_W 2
#define LUAIPC_MMAP_RW 3

// The granularity offsets must have: the page size on POSIX, the allocation granularity on
// Windows.
size_t luaipc_mmap_pagesize(void);

// Opens `path` (bytes as the OS takes them: UTF-8 on Windows) and maps `size` bytes from
// `offset` (a multiple of luaipc_mmap_pagesize(), checked by the caller); `size` 0 maps from
// `offset` to the end of the file. The file must hold the whole range: a zero-length file, an
// offset at or past its end, or a range past its end is EINVAL (mmap). A range of size 0 that
// is longer than `max_size` is EFBIG (mmap). A directory is EISDIR; what cannot be mapped
// (FIFO, socket) is ENODEV. The descriptor is closed before returning; the mapping is at *addr,
// *size bytes long.
int luaipc_mmap_open(const char* path, int mode, uint64_t offset, uint64_t size,
                     uint64_t max_size, void** addr, size_t* mapped, luaipc_error* err);

// Writes the mapping's changed pages to the file and waits for it (msync MS_SYNC;
// FlushViewOfFile on Windows).
int luaipc_mmap_flush(void* addr, size_t size, luaipc_error* err);

// How a reader will use part of a mapping (luaipc_mmap_advise).
// LUAIPC_MMAP_AHEAD: it reads the range soon (POSIX MADV_WILLNEED: the kernel starts reading the
// file ahead; Windows: nothing, PrefetchVirtualMemory is not in every Windows we run on).
// LUAIPC_MMAP_PASSED: it is done with the range: take the pages out of this process's resident
// set; they stay in the page cache and fault back in when touched. POSIX: MADV_DONTNEED, which
// keeps what was written through a shared mapping but discards what was written into the private
// copy-on-write pages of an 'r' mapping: the caller must only pass ranges nothing wrote into.
// Windows: VirtualUnlock of unlocked pages, which trims them from the working set and never
// discards anything.
#define LUAIPC_MMAP_AHEAD 1
#define LUAIPC_MMAP_PASSED 2

// Advises the OS how [addr, addr + size) will be used (addr page-aligned, inside a mapping of
// ours). A hint: callers may ignore the error.
int luaipc_mmap_advise(void* addr, size_t size, int advice, luaipc_error* err);

#ifdef __cplusplus
}
#endif

#endif
