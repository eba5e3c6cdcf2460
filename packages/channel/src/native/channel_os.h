// The OS side of @luaipc/channel: a tiny C API that returns 0 or an OS error code, fills the
// luaipc_error record of glue_os.h it is given (it may be NULL) and never touches Node-API. One
// backend per OS family: channel_posix.cc (Linux; macOS and the BSDs through its
// LUAIPC_PORTABLE paths) and channel_win.cc. What the bytes of the segment mean (the wire layout) is not known here:
// src/layout.ts and the package README own it. This layer makes, maps and locks the objects a
// channel consists of and works its doorbells.
//
// The objects of channel `name` (POSIX; Windows names them "Local\" + the same):
//   '/' + name                the segment (shm_open)
//   <dir>/<name>.lock         an empty file whose byte-range locks say who is alive
//   <dir>/<name>.rx           the receiver's doorbell (a FIFO)
//   <dir>/<name>.tx<k>        sender slot k's doorbell (a FIFO), made by a sender that waits
// where <dir> is one of LUAIPC_CHAN_DIR_* (recorded in the segment's header, so every peer finds
// them).
#ifndef LUAIPC_CHANNEL_OS_H
#define LUAIPC_CHANNEL_OS_H

#include <stddef.h>
#include <stdint.h>

#include "luaipc/glue_os.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LUAIPC_CHAN_DIR_DEV_SHM 0  // /dev/shm (Linux)
#define LUAIPC_CHAN_DIR_TMP 1      // /tmp (systems without /dev/shm, and the portable build)

// The longest channel name (bytes) this build accepts: the segment's name limit, less what the
// longest doorbell name adds. Longer names fail ENAMETOOLONG everywhere below.
size_t luaipc_chan_name_max(void);
// Where this build puts the lock file and doorbells of the channels it creates.
int luaipc_chan_dir(void);

// Which object a name referred to when we created it, for the creator-owns-the-name rule.
typedef struct luaipc_chan_id {
  uint64_t dev;
  uint64_t ino;
} luaipc_chan_id;

// The open segment, kept by a handle for reserve/discard (closing it does not unmap).
typedef struct luaipc_chan_file luaipc_chan_file;

// Creates the segment '/' + name exclusively (mode 0600) with `size` bytes, all of them zero and
// sparse except [0, reserve), whose pages are reserved now (a full /dev/shm is ENOSPC here, not
// SIGBUS later), and maps it read-write at *addr. Also makes the lock file and (where doorbells
// are files) the receiver's doorbell, each exclusively: EEXIST when one is there already, which
// is then not ours and stays. Nothing of ours is left behind on failure.
int luaipc_chan_create(const char* name, size_t size, size_t reserve, luaipc_chan_file** file, void** addr,
                       luaipc_chan_id* id, luaipc_error* err);

// Opens the existing segment '/' + name and maps all of it: EPROTO when it is smaller than
// `min_size` (not a channel), EFBIG when larger than `max_size`.
int luaipc_chan_open(const char* name, size_t min_size, size_t max_size, luaipc_chan_file** file, void** addr,
                     size_t* size, luaipc_error* err);

void luaipc_chan_file_close(luaipc_chan_file* file);

// Unmaps a range from create/open that was never handed to luaipc/mapping_os.h.
int luaipc_chan_unmap(void* addr, size_t size);

// Reserves the pages of [offset, offset + len) of the segment (a sender's slot at connect), or
// gives them back (the slot is free again). Where the OS cannot, both succeed doing nothing.
int luaipc_chan_reserve(luaipc_chan_file* file, uint64_t offset, uint64_t len, luaipc_error* err);
int luaipc_chan_discard(luaipc_chan_file* file, uint64_t offset, uint64_t len, luaipc_error* err);

// Removes every object of channel `name` (segment, lock file, doorbells in both directories).
// ENOENT when there was no segment.
int luaipc_chan_unlink(const char* name, luaipc_error* err);
// The same, only while '/' + name is still the object `id` (the creator's close).
int luaipc_chan_unlink_if_same(const char* name, const luaipc_chan_id* id);

// Byte-range locks on the lock file, one byte each, released when their holder closes or dies.
// Held per handle: two handles of one process (worker threads, or a receiver and a sender) are
// as separate as two processes.
typedef struct luaipc_chan_locks luaipc_chan_locks;
int luaipc_chan_locks_open(const char* name, int dir, luaipc_chan_locks** out, luaipc_error* err);
void luaipc_chan_locks_close(luaipc_chan_locks* locks);
// 0, or EAGAIN when another holder has it.
int luaipc_chan_trylock(luaipc_chan_locks* locks, uint32_t at, luaipc_error* err);
int luaipc_chan_unlock(luaipc_chan_locks* locks, uint32_t at, luaipc_error* err);
// *held: whether a holder other than `locks` has it.
int luaipc_chan_held(luaipc_chan_locks* locks, uint32_t at, int* held, luaipc_error* err);

// A doorbell: one side waits on it, others ring it. lane -1 is the receiver's, lane k >= 0 that
// of sender slot k.
typedef struct luaipc_bell luaipc_bell;
// The waiting side: makes the doorbell and opens it. When `fresh` (the receiver's), it is one
// luaipc_chan_create made, or (where that makes none) one that exists already is EEXIST: the
// name is someone else's. Otherwise a leftover doorbell is reused.
int luaipc_bell_listen(const char* name, int dir, int lane, int fresh, luaipc_bell** out, luaipc_error* err);
// The ringing side. ECONNREFUSED when nobody listens on it.
int luaipc_bell_connect(const char* name, int dir, int lane, luaipc_bell** out, luaipc_error* err);
void luaipc_bell_close(luaipc_bell* bell);
// 0 (also when rings are already pending), or EPIPE when nobody listens any more.
int luaipc_bell_ring(luaipc_bell* bell, luaipc_error* err);
// Waits until rung (0; the pending rings are consumed), `until` on luaipc_now_ns()'s clock
// (ETIMEDOUT; -1: no limit) or an interruption (EINTR). Waiting side only.
int luaipc_bell_wait(luaipc_bell* bell, int64_t until, luaipc_error* err);
// Consumes pending rings without waiting. Waiting side only.
int luaipc_bell_drain(luaipc_bell* bell, luaipc_error* err);
// POSIX: a new close-on-exec descriptor of the waiting side that an event loop can poll for
// readability (rings arrive as bytes; reading them consumes them). ENOTSUP where there is none.
int luaipc_bell_pollable(luaipc_bell* bell, int* fd, luaipc_error* err);
// Removes sender slot `lane`'s doorbell of channel `name` (its slot is free again); only a FIFO
// (EEXIST: something else has the name). unlink and the creator's close spare the same way what
// is not theirs (a lock file that is not empty, a doorbell that is not a FIFO).
int luaipc_bell_remove(const char* name, int dir, int lane, luaipc_error* err);

#ifdef __cplusplus
}
#endif

#endif
