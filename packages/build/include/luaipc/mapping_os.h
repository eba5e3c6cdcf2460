// Memory mappings of shared objects (shm segments, files, semaphores), the OS side: a registry
// of the mappings an addon holds or watches, and a fault handler that keeps the process alive
// when another process shrinks an object we have mapped. A tiny C API, one backend per OS family
// (src/mapping_posix.cc, ...), returning 0 or an OS error code. No N-API here; luaipc/mapping.h
// builds the JavaScript side on it.
//
// On POSIX, touching a page of a shared mapping that lies past the end of its object raises
// SIGBUS, which kills the process. The handler installed here looks the faulting address up in
// the registries: inside one of our mappings, it maps private zero pages over the lost part of the
// mapping (from the faulting page to its end), marks the mapping truncated, bumps the epoch, and
// lets the access go on (it now reads zeros; writes land in the private pages). Any other SIGBUS
// goes to the handler that was installed before ours, or gets the default action (the process
// ends by SIGBUS). The registry is read by the handler without locks or allocation.
//
// Each addon links its own copy of this code (hidden symbols), with its own registry. One
// handler serves them all: the copy loaded first in the process is the hub, and every other copy
// registers its registry's lookup with it instead of installing a handler of its own, so our
// handlers never chain to each other (see src/mapping_posix.cc). The handler is armed again
// whenever a mapping is made or watched and whenever luaipc_mapping_arm is called (the loader
// calls it when a process.on('SIGBUS') listener comes or goes, since Node replaces the handler
// then).
#ifndef LUAIPC_MAPPING_OS_H
#define LUAIPC_MAPPING_OS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Access the replacement pages of a truncated mapping get (the mapping's own protection).
#define LUAIPC_MAP_READ 1
#define LUAIPC_MAP_WRITE 2

// One registered mapping. Valid from luaipc_mapping_adopt until luaipc_mapping_release.
typedef struct luaipc_mapping luaipc_mapping;

// Takes over [addr, addr + size), which the caller has just mapped (shared, page-aligned addr):
// registers it with the fault handler (installing the handler on first use). From then on the
// range is released by luaipc_mapping_release only. On failure the range is unmapped and *out
// is NULL: ENOMEM when this addon already holds as many mappings as it allows itself (on Linux
// half of vm.max_map_count, so that a program that leaks mappings gets an error while the
// JavaScript engine still has room to map its own memory).
int luaipc_mapping_adopt(void* addr, size_t size, int access, luaipc_mapping** out);

// Unregisters the mapping and unmaps its range. `m` is invalid afterwards. Nothing may touch the
// range any more.
int luaipc_mapping_release(luaipc_mapping* m);

// Watches a range someone else mapped shared (glibc's mapping behind a sem_t): the pages that
// hold [addr, addr + size) are repaired like our own mappings when their object shrinks, but
// never unmapped by us. A range that overlaps a watched range already marked truncated starts
// truncated (the same mapping handed out again). Does not count against the limit.
// luaipc_mapping_unwatch must come before the owner unmaps the range.
int luaipc_mapping_watch(void* addr, size_t size, int access, luaipc_mapping** out);
void luaipc_mapping_unwatch(luaipc_mapping* m);

// Installs the fault handler again if something else replaced it (SIG_DFL after the last
// process.on('SIGBUS') listener went, or Node's own handler while one exists, which then gets
// every SIGBUS that is not a fault in our mappings). Cheap when it is in place; nothing while no
// copy in the process has registered a range. No-op on Windows.
void luaipc_mapping_arm(void);

// The size of the registered extent: the mapping rounded up to whole pages.
size_t luaipc_mapping_size(const luaipc_mapping* m);

// Whether the fault handler has replaced lost pages of this mapping (its object shrank, or the
// system could not provide a page of it). Sticky.
int luaipc_mapping_truncated(const luaipc_mapping* m);

// A counter the fault handler increments after each repair, in memory that stays valid for the
// life of the process: a caller that remembers its value can tell by one load whether any
// mapping may have been truncated since.
const volatile uint32_t* luaipc_mapping_epoch(void);

#ifdef _WIN32
// A Windows section's name lives only while a handle to it is open (a view is not enough), so
// the handle stays open for as long as its view at `addr` is mapped: the mapping closes it when
// it unmaps the view (luaipc_mapping_release, or luaipc_mapping_unmap_view before adoption).
void luaipc_mapping_hold_section(void* addr, void* section);
int luaipc_mapping_unmap_view(void* addr);
#endif

// Number of mappings this addon holds now, and the most it allows itself (0: no limit).
size_t luaipc_mapping_count(void);
size_t luaipc_mapping_limit(void);

#ifdef __cplusplus
}
#endif

#endif
