// Named shared memory, the OS side: a tiny C API that returns 0 or an OS error code (the record
// of glue_os.h, when given, filled with it and the failed call) and never touches Node-API, so other OS backends (shm_win.cc, ...)
// slot in beside shm_posix.cc. OS naming (the '/' prefix) is done here; `name` is the name as
// the user gave it. Mappings are handed to luaipc/mapping_os.h, which unmaps them.
#ifndef LUAIPC_SHM_OS_H
#define LUAIPC_SHM_OS_H

#include <stddef.h>
#include <stdint.h>

#include "luaipc/glue_os.h"

#ifdef __cplusplus
extern "C" {
#endif

// Which object a name referred to when we created it (POSIX: device and inode), so that a
// creator removes its name only while it still refers to that object.
typedef struct luaipc_shm_id {
  uint64_t dev;
  uint64_t ino;
} luaipc_shm_id;

// The longest name (in bytes, without the leading '/' the OS name gets) the OS accepts.
size_t luaipc_shm_name_max(void);

// Creates '/' + name (exclusive, mode 0600), gives it `size` bytes (reserved, zero-filled) and
// maps it read-write at *addr. On failure no name is left behind.
int luaipc_shm_create(const char* name, size_t size, void** addr, luaipc_shm_id* id, luaipc_error* err);

// Opens the existing '/' + name and maps all of it (its current size) read-write. A size of 0
// fails EINVAL (nothing to map), one above max_size EFBIG (more than the caller can view).
int luaipc_shm_attach(const char* name, size_t max_size, void** addr, size_t* size, luaipc_error* err);

// Unmaps a range from luaipc_shm_create/attach that was never handed to luaipc/mapping_os.h.
int luaipc_shm_unmap(void* addr, size_t size);

// Removes the name '/' + name; mappings stay valid until unmapped.
int luaipc_shm_unlink(const char* name, luaipc_error* err);

// Whether '/' + name refers to the object `id` now: *same is 1 or 0 (0 also when the name is
// gone). An error (EACCES, ...) when it cannot tell.
int luaipc_shm_same_object(const char* name, const luaipc_shm_id* id, int* same);

// Removes '/' + name if it still refers to the object `id`: the creator-owns-the-name rule. A
// name that now belongs to a newer object is left alone. Between the check and the removal
// another process could still swap the object; POSIX has no way to remove a name by identity.
int luaipc_shm_unlink_if_same(const char* name, const luaipc_shm_id* id);

#ifdef __cplusplus
}
#endif

#endif
