// Named shared memory, POSIX backend: a tiny C API that returns 0 or an errno value and never
// touches Node-API, so other OS backends (shm_darwin.cc, shm_win.cc) can slot in beside it.
#ifndef LUAIPC_SHM_POSIX_H
#define LUAIPC_SHM_POSIX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct luaipc_shm_map {
  void* addr;
  size_t size;
} luaipc_shm_map;

// The longest name (in bytes, without the leading '/' the OS name gets) the OS accepts.
size_t luaipc_shm_name_max(void);

// Creates '/' + name (exclusive, mode 0600), sizes it to `size` bytes and maps it read-write.
// On failure *syscall names the call that failed and no name is left behind.
int luaipc_shm_create(const char* name, size_t size, luaipc_shm_map* out, const char** syscall);

// Opens the existing '/' + name and maps all of it (its current size, from fstat). A size of 0
// fails EINVAL (nothing to map), one above max_size EFBIG (more than the caller can view).
int luaipc_shm_attach(const char* name, size_t max_size, luaipc_shm_map* out,
                      const char** syscall);

// Releases the mapping and its address range.
int luaipc_shm_unmap(const luaipc_shm_map* map);

// Drops the shared pages but keeps the address range reserved by private zero pages, for when
// something may still hold a raw pointer into the range (a Buffer's backing store whose release
// is pending, an fs request in flight): stray accesses then hit scratch memory instead of
// faulting. luaipc_shm_unmap releases the range later.
int luaipc_shm_retire(const luaipc_shm_map* map);

// Removes the name '/' + name; mappings stay valid until unmapped.
int luaipc_shm_unlink(const char* name);

#ifdef __cplusplus
}
#endif

#endif
