// N-API glue for @luaipc/filelock. Arguments arrive checked by src/index.ts; this file converts
// values, maps OS errors to IpcError and owns the waiting policy.
//
// fcntl's blocking lock (F_OFD_SETLKW / F_SETLKW) has no timeout. A wait sleeps in it and is
// woken by a signal: the waiter's cancellation (Promise form), or an alarm (luaipc/alarm_os.h)
// at the deadline and at the slice ends where it must look at its cancel flag (once a second)
// or at its worker's termination (Sync form in a worker): the slices of luaipc/sliced_wait.h.
// No polling: an idle wait is asleep in the kernel between those wake-ups.
#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <utility>

#include "filelock_os.h"
#include "luaipc/addon.h"
#include "luaipc/alarm_os.h"
#include "luaipc/handle.h"
#include "luaipc/sliced_wait.h"
#include "luaipc/waiter.h"

namespace {

// An alarm that lands just before the wait enters the kernel is lost; at a deadline it is sent
// again this often until the wait notices.
constexpr int64_t kDeadlineRepeatNs = 10 * luaipc::kNsPerMs;

struct Range {
  int exclusive;
  int64_t start;
  int64_t len;
};

// Sleeps in `block()` (one blocking lock call, returning 0 or an errno and filling *failed)
// through luaipc::WaitSliced: until it locks (0), the deadline passes (ETIMEDOUT), `stop()` turns
// true (ECANCELED, looked at before every call) or it fails: *failed then says what failed, the
// lock call or the wait itself (its alarm could not be made, "sigaction": alarm_os.h's ENOSYS,
// the process has no signal left for interrupting waits; or started). deadline < 0: none; slice
// kNoSlice: no slices. fcntl's wait has no timeout: an alarm interrupts it at each slice end and
// at the deadline.
template <typename Stop, typename Block>
int WaitSliced(int64_t deadline, int64_t slice, Stop stop, Block block, luaipc_error* failed) {
  *failed = luaipc_error{};
  luaipc_alarm* alarm = nullptr;
  // Armed once for the slices (the alarm repeats them by itself, so a tick costs this thread no
  // call into the timer), and once more when the deadline comes within a slice.
  bool armed = false;
  bool armedForDeadline = false;
  int err = luaipc::WaitSliced(deadline, slice, stop, [&](int64_t until) {
    if (until < 0) return block();  // the main thread's untimed wait: one call, as C would do
    int64_t now = luaipc_now_ns();
    if (now >= until && until == deadline) return ETIMEDOUT;
    bool deadlineNext = until == deadline;
    if (alarm == nullptr) {
      int e = luaipc_alarm_open(&alarm, failed);
      if (e != 0) return e;
    }
    if (!armed || (deadlineNext && !armedForDeadline)) {
      int e = deadlineNext ? luaipc_alarm_arm(alarm, deadline, kDeadlineRepeatNs, failed)
                           : luaipc_alarm_arm(alarm, now + slice, slice, failed);
      if (e != 0) return e;
      armed = true;
      armedForDeadline = deadlineNext;
    }
    return block();
  });
  if (alarm != nullptr) luaipc_alarm_close(alarm);
  return err;
}

int32_t Int32Arg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
int64_t Int64Arg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }

// (fd, exclusive, start, len) at info[0..3]; throws IpcError EBADF unless fd is a regular file.
int CheckedFd(Napi::Env env, const Napi::CallbackInfo& info, luaipc_flock_file* file) {
  int fd = Int32Arg(info, 0);
  luaipc_error error{};
  if (luaipc_flock_check(fd, file, &error) != 0) throw luaipc::IpcError(env, error);
  return fd;
}

Range RangeArgs(const Napi::CallbackInfo& info) {
  return Range{info[1].As<Napi::Boolean>().Value() ? 1 : 0, Int64Arg(info, 2), Int64Arg(info, 3)};
}

// The descriptor a wait locks through, for the user's descriptor `user`. With OFD locks (and on
// Windows) it is a duplicate, closed when the wait is done: the user may close `user` (and its
// number may be reused for another file) while the wait is pending; the lock must then neither
// land on nor be undone on another file, and what the duplicate took is given back through it.
// Classic locks belong to the process and closing a duplicate would drop them all, so there the
// user's descriptor itself is used, and `file` tells whether it still is the same file.
struct WaitFd {
  int user = -1;
  luaipc_flock_fd fd = luaipc_flock_user(-1);  // what the wait locks through
  bool owned = false;
  luaipc_flock_file file{};
  WaitFd() = default;
  WaitFd(const WaitFd&) = delete;
  WaitFd& operator=(const WaitFd&) = delete;
  ~WaitFd() {
    if (owned) luaipc_flock_close_dup(fd);
  }
  // Whether the user's descriptor is still open on what the wait locks (and, where the OS can
  // tell, on the same open file as the duplicate). Looked at during the wait (WaitThrough) and
  // when it ends: a wait whose descriptor was closed is cancelled (ECANCELED).
  bool UserStillOpen() const { return luaipc_flock_is(user, &file, owned ? &fd : nullptr) != 0; }
  // Whether a lock the wait took can be given back through `fd`: always through a duplicate;
  // through the user's descriptor only while it is still that file.
  bool CanUnlock() const { return owned || UserStillOpen(); }
};

// The WaitFd for the user's `fd`, which luaipc_flock_check found to be `file`.
std::shared_ptr<WaitFd> OpenWaitFd(Napi::Env env, int fd, const luaipc_flock_file& file) {
  auto w = std::make_shared<WaitFd>();
  w->user = fd;
  w->file = file;
  if (luaipc_flock_ofd()) {
    luaipc_error error{};
    if (luaipc_flock_dup(fd, &w->fd, &error) != 0) throw luaipc::IpcError(env, error);
    w->owned = true;
  } else {
    w->fd = luaipc_flock_user(fd);
  }
  return w;
}

// Waits through `w` (see WaitSliced; `tryFirst`: one attempt first) with `interruptible` around
// each blocking call. A user's descriptor found closed is ECANCELED, and what the wait took
// meanwhile is given back. A failure is in *failed, whoever decided it (a code of the wait's own,
// ECANCELED, is fcntl's as far as callers can tell).
template <typename Stop, typename Interruptible>
int WaitThrough(const WaitFd& w, const Range& r, bool tryFirst, int64_t deadline, int64_t slice, Stop stop,
                Interruptible interruptible, luaipc_error* failed) {
  *failed = luaipc_error{};
  int e = tryFirst ? luaipc_flock_try(w.fd, r.exclusive, r.start, r.len, failed) : EAGAIN;
  if (e == EAGAIN) {
    // A duplicate locks the right file whatever happens to the user's descriptor: it is looked at
    // after each interruption (the slices), not before the first call. The user's own descriptor
    // (classic locks) must be the same file before every call.
    bool first = w.owned;
    e = WaitSliced(
        deadline, slice, stop,
        [&] {
          bool look = !first;
          first = false;
          if (look && !w.UserStillOpen()) return ECANCELED;
          return interruptible([&] { return luaipc_flock_wait(w.fd, r.exclusive, r.start, r.len, failed); });
        },
        failed);
  }
  if (e == 0 && !w.UserStillOpen()) {
    // Closed while the lock was being granted (through a duplicate); or, with classic locks,
    // the number swapped to another file between the check and the call: what we locked is
    // then the other file's.
    luaipc_flock_unlock(w.fd, r.start, r.len, nullptr);
    e = ECANCELED;
  }
  // Classic locks: the kernel gives up a lock granted to a descriptor closed meanwhile (EBADF);
  // the first attempt through the same descriptor had passed its checks.
  if (e == EBADF && !w.owned) e = ECANCELED;
  // Codes the wait decided (ECANCELED, ETIMEDOUT) replace what the last call left in *failed.
  if (e != 0 && failed->code != e) luaipc_fail(failed, e, "fcntl");
  return e;
}

// trylock(fd, exclusive, start, len): whether it locked.
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  luaipc_flock_file file;
  int fd = CheckedFd(env, info, &file);
  Range r = RangeArgs(info);
  luaipc_error error{};
  int err = luaipc_flock_try(luaipc_flock_user(fd), r.exclusive, r.start, r.len, &error);
  if (err != 0 && err != EAGAIN) throw luaipc::IpcError(env, error);
  return Napi::Boolean::New(env, err == 0);
}

// lockSync(fd, exclusive, start, len, timeout, inWorker): timeout < 0 waits forever. Blocks the
// JS thread by design. undefined, without holding the lock, when the worker is being torn down
// meanwhile (terminate(), or process.exit() ending the workers): JavaScript cannot run there.
Napi::Value LockSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  luaipc_flock_file file;
  int fd = CheckedFd(env, info, &file);
  Range r = RangeArgs(info);
  double timeout = info[4].As<Napi::Number>().DoubleValue();
  bool inWorker = info[5].As<Napi::Boolean>().Value();
  int64_t deadline = luaipc::DeadlineAfter(timeout);
  luaipc_error failed{};
  int err = luaipc_flock_try(luaipc_flock_user(fd), r.exclusive, r.start, r.len, &failed);
  if (err == EAGAIN && timeout != 0) {
    std::shared_ptr<WaitFd> w = OpenWaitFd(env, fd, file);
    std::unique_ptr<luaipc::JsProbe> probe;
    if (inWorker) probe = std::make_unique<luaipc::JsProbe>(env);
    // The main thread's untimed wait needs no alarm (slice and deadline -1): one blocking call
    // at a time, as C would do it.
    // The attempt above was just made: no second one.
    err = WaitThrough(
        *w, r, false, deadline, inWorker ? luaipc::kSyncSliceNs : luaipc::kNoSlice, [&] { return probe && !probe->CanRunJs(); },
        [](auto call) { return call(); }, &failed);
    if (probe && !probe->CanRunJs()) {
      if (err == 0) luaipc_flock_unlock(w->fd, r.start, r.len, nullptr);
      return env.Undefined();
    }
  }
  if (err == EAGAIN || err == ETIMEDOUT) return Napi::Boolean::New(env, false);
  if (err != 0) throw luaipc::IpcError(env, failed);
  return Napi::Boolean::New(env, true);
}

// unlock(fd, start, len). No file-type check: the lock calls refuse anything but regular files,
// so there is nothing to unlock elsewhere, and an unlock is half of every lock/unlock pair (the
// check is a system call of its own). A closed fd is still EBADF, from fcntl.
Napi::Value Unlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int32Arg(info, 0);
  luaipc_error error{};
  if (luaipc_flock_unlock(luaipc_flock_user(fd), Int64Arg(info, 1), Int64Arg(info, 2), &error) != 0) {
    throw luaipc::IpcError(env, error);
  }
  return env.Undefined();
}

const char* KindName(int kind) {
  switch (kind) {
    case LUAIPC_FLOCK_REGULAR: return "file";
    case LUAIPC_FLOCK_DIRECTORY: return "directory";
    case LUAIPC_FLOCK_FIFO: return "pipe";
    case LUAIPC_FLOCK_SOCKET: return "socket";
    case LUAIPC_FLOCK_PIPE_OR_SOCKET: return "pipe or socket";
    case LUAIPC_FLOCK_CHAR_DEVICE: return "character device";
    case LUAIPC_FLOCK_BLOCK_DEVICE: return "block device";
    default: return "other";
  }
}

// describe(fd): { kind, readable?, writable?, path? } for the message of an EBADF (index.ts),
// undefined when fd is not open. Only on that error path.
Napi::Value Describe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  luaipc_flock_about about;
  if (luaipc_flock_describe(Int32Arg(info, 0), &about) != 0) return env.Undefined();
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", KindName(about.file.kind));
  if (about.access >= 0) {
    out.Set("readable", (about.access & LUAIPC_FLOCK_READ) != 0);
    out.Set("writable", (about.access & LUAIPC_FLOCK_WRITE) != 0);
  }
  if (about.path[0] != '\0') out.Set("path", about.path);
  return out;
}

// Owns the thread-backed waits of lock() for one JS environment (binding.ts makes one).
class Locker : public luaipc::Handle<Locker> {
 public:
  static constexpr const char* kWhat = "lock waiter";

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Locker",
                       {
                           InstanceMethod<&Locker::Lock>("lock"),
                           InstanceMethod<&Locker::Cancel>("cancel"),
                           InstanceMethod("close", &Locker::Close),
                           InstanceAccessor("closed", &Locker::IsClosed, nullptr),
                       });
  }

  explicit Locker(const Napi::CallbackInfo& info) : luaipc::Handle<Locker>(info) {
    waiter_.KeepAliveWhileBusy(this);
  }

  void Finalize(Napi::Env env) override { CloseOnFinalize(env); }

  void OnClose(Napi::Env env, luaipc::CloseKind kind) {
    if (kind == luaipc::CloseKind::Explicit) {
      waiter_.CancelAll(env, [](Napi::Env e) { return luaipc::IpcError(e, ECANCELED, "fcntl").Value(); });
    } else {
      waiter_.Shutdown();
    }
  }

 private:
  // lock(fd, exclusive, start, len, timeout, id): a boolean when settled on the JS thread (the
  // lock was free, or timeout 0), else a Promise<boolean>.
  Napi::Value Lock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    luaipc_flock_file file;
    int fd = CheckedFd(env, info, &file);
    Range r = RangeArgs(info);
    double timeout = info[4].As<Napi::Number>().DoubleValue();
    uint32_t id = info[5].As<Napi::Number>().Uint32Value();
    luaipc_error error{};
    int err = luaipc_flock_try(luaipc_flock_user(fd), r.exclusive, r.start, r.len, &error);
    if (err != 0 && err != EAGAIN) throw luaipc::IpcError(env, error);
    if (err == 0 || timeout == 0) return Napi::Boolean::New(env, err == 0);

    std::shared_ptr<WaitFd> w = OpenWaitFd(env, fd, file);
    int64_t deadline = luaipc::DeadlineAfter(timeout);
    luaipc::WaitOp op;
    op.wait = [w, r, deadline](const luaipc::CancelToken& token) {
      luaipc_error failed{};
      // Another attempt first: the range may have come free since the one on the JS thread.
      int e = WaitThrough(
          *w, r, true, deadline, luaipc::kAsyncSliceNs, [&] { return token.cancelled(); },
          [&](auto call) { return token.Interruptible(call); }, &failed);
      if (e == 0) return luaipc::WaitOutcome{0, 1};
      if (e == ETIMEDOUT) return luaipc::WaitOutcome{0, 0};
      return luaipc::WaitOutcome::Failed(failed);
    };
    // Cancelled (abort, FileHandle closed) just as it was granted: give the range back.
    op.undo = [w, r](const luaipc::WaitOutcome& outcome) {
      if (outcome.err == 0 && outcome.value == 1 && w->CanUnlock()) {
        luaipc_flock_unlock(w->fd, r.start, r.len, nullptr);
      }
    };
    op.settle = [](Napi::Env e, const luaipc::WaitOutcome& outcome) -> Napi::Value {
      if (outcome.err != 0) throw luaipc::IpcError(e, outcome.error);
      return Napi::Boolean::New(e, outcome.value == 1);
    };
    return waiter_.Submit(env, std::move(op), id, nullptr);
  }

  // cancel(id, reason): rejects the pending lock `id` with `reason`; false if it is not pending.
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    return Napi::Boolean::New(env, waiter_.Cancel(env, id, info[1]));
  }

  luaipc::Waiter waiter_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Locker", Locker::Define(env));
  exports.Set("trylock", Napi::Function::New(env, TryLock, "trylock"));
  exports.Set("lockSync", Napi::Function::New(env, LockSync, "lockSync"));
  exports.Set("unlock", Napi::Function::New(env, Unlock, "unlock"));
  exports.Set("describe", Napi::Function::New(env, Describe, "describe"));
  exports.Set("OFD", Napi::Boolean::New(env, luaipc_flock_ofd() != 0));
  return exports;
}

}  // namespace

LUAIPC_ADDON(filelock, Init)
