// The OS side of @luaipc/sem: a tiny C API returning 0 or an OS error code (and filling the
// luaipc_error record of glue_os.h, when given, with it and the failed call), no N-API and no
// policy (spinning, slicing and cancellation live in binding.cc). sem_posix.cc implements it
// with POSIX named semaphores; a Windows backend (CreateSemaphoreW) implements the same.
#ifndef LUAIPC_SEM_OS_H
#define LUAIPC_SEM_OS_H

#include <stddef.h>
#include <stdint.h>

#include "luaipc/glue_os.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct luaipc_sem luaipc_sem;

// Largest value, and longest name in bytes, this OS accepts.
int64_t luaipc_sem_value_max(void);
size_t luaipc_sem_name_max(void);

// `name` as the user gave it (the backend makes the OS name: '/' + name on POSIX).
// create != 0: a new semaphore with value `initial`, mode 0600, EEXIST if the name exists;
// else open an existing one (ENOENT if none).
int luaipc_sem_open(const char* name, unsigned initial, int create, luaipc_sem** out, luaipc_error* err);
void luaipc_sem_close(luaipc_sem* sem);

// Removes the name. The _if_created variant removes it only while it still names the object
// `sem` created (a newer object of the same name is left alone; the creator-owns-the-name rule,
// luaipc/name_owner.h); 0 when left alone too, and best effort: nobody hears of its failure.
int luaipc_sem_unlink(const char* name, luaipc_error* err);
int luaipc_sem_unlink_if_created(luaipc_sem* sem);

// Each of these (luaipc_sem_open too) fails with ENXIO when the OS object under the semaphore
// lost its memory (another process truncated the file glibc keeps it in), and EINVAL when its
// bytes cannot be a semaphore (another process overwrote them): see sem_posix.cc.
int luaipc_sem_post(luaipc_sem* sem, luaipc_error* err);
// 0 when decremented, EAGAIN when the value is zero.
int luaipc_sem_trywait(luaipc_sem* sem, luaipc_error* err);
// Blocks until decremented (0), until `deadline_ns` on luaipc_now_ns()'s clock passes
// (ETIMEDOUT; a negative deadline never passes), or until a signal interrupts it (EINTR; a wait
// without a deadline may also return EINTR now and then on its own). Callers loop on EINTR.
int luaipc_sem_wait(luaipc_sem* sem, int64_t deadline_ns, luaipc_error* err);

#ifdef __cplusplus
}
#endif

#endif
