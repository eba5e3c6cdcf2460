// The OS side of the shared glue: a tiny C API, one backend file per OS family
// (src/glue_posix.cc, src/glue_win.cc), returning 0 or an OS error code. No N-API here.
#ifndef LUAIPC_GLUE_OS_H
#define LUAIPC_GLUE_OS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Stack size of the glue's threads: they block in one system call at a time and need
// kilobytes, not the 8 MiB default.
#define LUAIPC_THREAD_STACK (256 * 1024)

// macOS: the longest name of a POSIX shm object or named semaphore without its leading '/'
// (PSHMNAMLEN and PSEMNAMLEN are 31 with it). Each backend that makes such names applies it.
#define LUAIPC_DARWIN_IPC_NAME_MAX 30

// What failed, as every _os.h seam reports it: a seam call returns 0 or the errno-style `code`,
// and fills the record it was given (it may be NULL: the caller wants the code only). Built
// into an IpcError in one place (errors.h: luaipc::IpcError(env, const luaipc_error&)), on the
// JS thread or from a wait's outcome, so no error travels beside it in thread-local state.
typedef struct luaipc_error {
  int code;             // errno value (EEXIST, ...); 0: no error
  const char* syscall;  // the failed call ("sem_open", "CreateFileMappingW"), a string literal
  const char* subject;  // what it was about when the seam knows better than its caller (a
                        // program's path), or NULL; borrowed: valid as long as the call's input
  unsigned long os_code;  // the OS's own code where it has one beside errno (Win32), else 0
} luaipc_error;

// Fills *e (when not NULL) and returns `code`: `return luaipc_fail(e, errno, "sem_open");`.
static inline int luaipc_fail(luaipc_error* e, int code, const char* syscall) {
  if (e != NULL) {
    e->code = code;
    e->syscall = syscall;
    e->subject = NULL;
    e->os_code = 0;
  }
  return code;
}

// A thread, as luaipc_thread_self returns it (pthread_t or a Windows thread id).
typedef uintptr_t luaipc_thread_id;

// Starts a detached thread named `name` (at most 15 bytes; shown by ps, top and debuggers)
// running fn(arg) on a small stack, with the process's asynchronous signals blocked in it (they
// are for the JS thread). EAGAIN (or the OS's code) when the OS refuses, in *err as
// "pthread_create" on every OS (the READMEs' error tables): then no thread was started and fn
// never runs.
int luaipc_thread_start(void (*fn)(void* arg), void* arg, const char* name, luaipc_error* err);

luaipc_thread_id luaipc_thread_self(void);

// Makes a blocking call that thread `t` is in return early with EINTR (POSIX: a signal with an
// empty handler, claimed on first use; Windows: an APC, so waits there must be alertable, plus
// CancelSynchronousIo). `t` may be a thread of ours or a Node JS thread (main or worker): none
// of them blocks the signal. The caller must know `t` is still running. Best effort: a thread between its last
// check of its cancel flag and the call misses it, so such waits still look at the flag at
// least once a second.
int luaipc_thread_interrupt(luaipc_thread_id t);

// Nanoseconds on the monotonic clock (the clock every deadline of ours is on).
int64_t luaipc_now_ns(void);

#ifdef _WIN32
// The errno value for a Win32 error code (ERROR_ALREADY_EXISTS -> EEXIST, ...), one table for
// every Windows backend; EIO for codes it doesn't know.
int luaipc_errno_from_win32(unsigned long code);
// luaipc_fail for a Win32 code: fills *e with its errno and the code itself (os_code, which
// JavaScript sees as err.winerror) and returns the errno. With `os_code` GetLastError() this is
// every Windows backend's one way to fail (luaipc/win_error.h: luaipc::Win32Fail).
int luaipc_fail_win32(luaipc_error* e, unsigned long os_code, const char* syscall);
// The Windows handle behind a Node file descriptor (fs.openSync, FileHandle.fd), through the
// uv_get_osfhandle node.exe exports (its C runtime's descriptor table is inside node.exe). EBADF
// when the descriptor is not open.
int luaipc_os_handle_from_fd(int fd, void** handle);
#endif

// Keeps the shared object that contains `address` loaded until the process ends, so a thread of
// ours that is still inside it when Node unloads the addon (a worker's teardown) never runs
// unmapped code.
int luaipc_pin_module(const void* address);

#ifdef __cplusplus
}
#endif

#endif
