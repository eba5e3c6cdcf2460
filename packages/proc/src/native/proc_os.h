// The OS side of @luaipc/proc: start a child with redirected stdio, move bytes through its pipes,
// wait for I/O or its exit, signal it and reap it. Plain C, 0 or an OS error code, no N-API.
//
// One luaipc_proc is not thread-safe: the caller (proc_core.cc) serializes reap/kill with a
// mutex and lets one thread at a time (the loop owner) poll, read, write and close streams.
// luaipc_proc_wake is the exception: any thread may call it at any time before free.
#ifndef LUAIPC_PROC_OS_H
#define LUAIPC_PROC_OS_H

#include <stddef.h>

#include "luaipc/glue_os.h"

#ifdef __cplusplus
extern "C" {
#endif

// luaipc_proc_options.stdio[i]: keep the parent's stream, make a pipe, or else an fd of
// ours that the child gets as its stream i.
#define LUAIPC_PROC_INHERIT (-1)
#define LUAIPC_PROC_PIPE (-2)

// Streams by index, as in the child.
#define LUAIPC_PROC_STDIN 0
#define LUAIPC_PROC_STDOUT 1
#define LUAIPC_PROC_STDERR 2

// Event bits for luaipc_proc_poll.
#define LUAIPC_PROC_EV_STDIN 1u   // stdin can take bytes (or its reader is gone: write says EPIPE)
#define LUAIPC_PROC_EV_STDOUT 2u  // stdout has bytes or reached EOF
#define LUAIPC_PROC_EV_STDERR 4u  // the same for stderr
#define LUAIPC_PROC_EV_EXIT 8u    // the child has exited: luaipc_proc_reap will say so
#define LUAIPC_PROC_EV_WAKE 16u   // luaipc_proc_wake was called (always watched)

// luaipc_proc_options.flags.
// `file` is a command line for the system's shell: `/bin/sh -c <file>`, on Windows
// `cmd.exe /d /s /c "<file>"` (the system's cmd.exe, AutoRun skipped, <file> verbatim); `argv`
// and `search_path` are not used.
#define LUAIPC_PROC_SHELL 1u
// Start the child in a new process group (its pid is the group id); on Windows, in a Job.
#define LUAIPC_PROC_NEW_GROUP 2u

// How to start a child (modelled on libuv's uv_process_options_t). A new option is a field or
// a flag here, its reader in binding.cc and its handling in each backend.
typedef struct luaipc_proc_options {
  // The program: a path (with a '/'; on Windows also '\\' or a drive), or a bare name looked up
  // in `search_path`. With LUAIPC_PROC_SHELL, the command line.
  const char* file;
  // Directories separated by ':' (';' on Windows) for a bare `file` (NULL: the default path).
  const char* search_path;
  // NULL-terminated, argv[0] included.
  char* const* argv;
  // NULL: the parent's environment.
  char* const* envp;
  // NULL: the parent's working directory.
  const char* cwd;
  int stdio[3];
  unsigned flags;  // LUAIPC_PROC_SHELL | LUAIPC_PROC_NEW_GROUP
} luaipc_proc_options;

typedef struct luaipc_proc luaipc_proc;

// Starts the child. Every descriptor we create is close-on-exec, so concurrent spawns never
// leak each other's pipes. On failure nothing is left behind, and *error (may be NULL) says what
// failed: "pipe2", "chdir" on the cwd, "posix_spawn" on the program, ...
int luaipc_proc_spawn(const luaipc_proc_options* options, luaipc_proc** out, luaipc_error* error);

long luaipc_proc_pid(const luaipc_proc* p);

// Whether our end of `stream` is open.
int luaipc_proc_piped(const luaipc_proc* p, int stream);

// Whether LUAIPC_PROC_EV_EXIT is reported by poll (pidfd); if not, the caller must call
// luaipc_proc_reap from time to time.
int luaipc_proc_exit_watchable(const luaipc_proc* p);

// Blocks until one of `want` (and always a wake-up) is ready or `timeout_ms` passes (-1: no
// limit). *ready gets the ready bits; 0 on timeout or when a signal interrupted the wait.
int luaipc_proc_poll(luaipc_proc* p, unsigned want, int timeout_ms, unsigned* ready);

// Makes a poll in progress (or the next one) return LUAIPC_PROC_EV_WAKE.
int luaipc_proc_wake(luaipc_proc* p);

// Non-blocking read from stdout/stderr: 0 with *got > 0 (bytes), 0 with *got == 0 (EOF), or
// EAGAIN (nothing yet) or another error.
int luaipc_proc_read(luaipc_proc* p, int stream, void* buf, size_t cap, size_t* got);

// Non-blocking write to stdin: 0 with *done bytes taken (maybe fewer than len), EAGAIN (pipe
// full), EPIPE (the child closed its end or exited), or another error. After EAGAIN the next
// call offers the same bytes first (the Windows backend may have them in flight already).
int luaipc_proc_write(luaipc_proc* p, const void* buf, size_t len, size_t* done);

// The same for `n` pieces written in order with one call (at most LUAIPC_PROC_MAX_PIECES).
#define LUAIPC_PROC_MAX_PIECES 64
int luaipc_proc_write_pieces(luaipc_proc* p, const void* const* bufs, const size_t* lens, int n, size_t* done);

void luaipc_proc_close_stream(luaipc_proc* p, int stream);

// Never blocks. *exited = 1 once the child has ended; then *signaled says whether a signal
// ended it and *code is the exit status or the signal number. After the first success the
// result is kept. With `hold`, an ended child is left unreaped (a zombie, its status read with
// WNOWAIT): its pid, and with it the id of the process group it leads, can't pass to another
// process meanwhile; a later call without `hold` reaps it (backends without pid reuse ignore
// `hold`). ECHILD: someone else reaped our child (SIGCHLD ignored, or a waitpid(-1) elsewhere
// in the process).
int luaipc_proc_reap(luaipc_proc* p, int hold, int* exited, int* signaled, int* code);

// Undoes a spawn: kills the child at once, reaps it (blocks until it is gone) and closes every
// descriptor (luaipc_proc_free still frees the rest).
int luaipc_proc_abandon(luaipc_proc* p);

// Sends `sig` to the child or, with `group`, to its process group (also after the child itself
// ended, while it is held unreaped: its descendants may live on). Nothing once the child is
// reaped: its pid, and the group id with it, may belong to someone else by then. A process
// that is already gone is not an error.
int luaipc_proc_kill(luaipc_proc* p, int sig, int group, luaipc_error* error);

// Closes the descriptors poll and wake use (once the loop is over, so a handle that lingers
// until GC holds none); poll must not be called after it, wake then does nothing.
void luaipc_proc_release_watch(luaipc_proc* p);

// Closes every descriptor; leaves the child alone.
void luaipc_proc_free(luaipc_proc* p);

#ifdef __cplusplus
}
#endif

#endif
