// N-API glue for @luaipc/sem. Arguments arrive checked by src/index.ts; this file converts
// values, maps OS errors to IpcError and owns the waiting policy: a short spin, then sleeping in
// slices that let cancellation (Promise form) or a worker's termination (Sync form) end a wait.
#include <napi.h>

#include <cerrno>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "luaipc/addon.h"
#include "luaipc/handle.h"
#include "luaipc/mapping.h"
#include "luaipc/waiter.h"
#include "sem_os.h"

namespace {

constexpr int64_t kMs = 1000000;
// Before sleeping, retry for this long, yielding the CPU between tries: a peer that answers at
// once (a ping-pong) is caught without a kernel sleep and wake-up. Yielding rather than a pause
// loop hands the CPU to the peer when both share it.
constexpr int64_t kSpinNs = 50 * 1000;
// A Promise-form wait spins longer: its answer has to travel through the other side's event
// loop and back, and catching it before sleeping saves a kernel wake-up of our thread on top of
// the JS thread's. Bench results are in bench/RESULTS.md (pingpong).
constexpr int64_t kAsyncSpinNs = 150 * 1000;
// A Sync wait looks whether its worker is being terminated this often (the one periodic wake-up
// allowed, so that terminate() and process.exit() end it within 100 ms, as the README promises).
constexpr int64_t kSyncSliceNs = 50 * kMs;
// A Promise-form wait is interrupted by a signal when cancelled; it also re-checks its cancel
// flag this often, in case the interruption landed just before it went to sleep.
constexpr int64_t kAsyncSliceNs = 1000 * kMs;

// The IpcError for a failed call. ENXIO and EINVAL come from the checks of sem_posix.cc (the
// semaphore's file lost its page; bytes glibc never writes, as sem_post's own EINVAL means too)
// and say so.
Napi::Error SemError(Napi::Env env, int err, const char* syscall, const std::string& name) {
  const char* description = err == ENXIO    ? luaipc::kTruncatedDescription
                            : err == EINVAL ? "not a valid semaphore"
                                            : nullptr;
  return luaipc::IpcError(env, err, syscall, name.c_str(), description);
}

// Shared by the handle and any wait in flight, so the OS object is closed only after the last
// thread has finished with it.
struct Core {
  luaipc_sem* sem = nullptr;
  ~Core() {
    if (sem != nullptr) luaipc_sem_close(sem);
  }
};

// 0 (acquired) or EAGAIN (not yet) after up to `spinNs` of tries; other errors as they come.
int Spin(luaipc_sem* sem, int64_t spinNs = kSpinNs) {
  int64_t until = luaipc_now_ns() + spinNs;
  for (;;) {
    int err = luaipc_sem_trywait(sem);
    if (err != EAGAIN || luaipc_now_ns() >= until) return err;
    std::this_thread::yield();
  }
}

// Sleeps in slices of `slice` ns (one sleep when negative) until acquired (0), the deadline
// (ETIMEDOUT) or `stop()` (ECANCELED). `sleep(until)` is one luaipc_sem_wait, possibly interruptible.
template <typename Stop, typename Sleep>
int WaitSliced(int64_t deadline, int64_t slice, Stop stop, Sleep sleep) {
  for (;;) {
    if (stop()) return ECANCELED;
    int64_t until = deadline;
    if (slice >= 0) {
      int64_t sliceEnd = luaipc_now_ns() + slice;
      if (deadline < 0 || sliceEnd < deadline) until = sliceEnd;
    }
    int err = sleep(until);
    if (err == 0) return 0;
    if (err == ETIMEDOUT) {
      if (deadline >= 0 && luaipc_now_ns() >= deadline) return ETIMEDOUT;
      continue;
    }
    if (err != EINTR) return err;
  }
}

class Semaphore : public luaipc::Handle<Semaphore> {
 public:
  static constexpr const char* kWhat = "semaphore";

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Semaphore",
                       {
                           InstanceMethod<&Semaphore::Inc>("inc"),
                           InstanceMethod<&Semaphore::TryDec>("tryDec"),
                           InstanceMethod<&Semaphore::DecSync>("decSync"),
                           InstanceMethod<&Semaphore::Dec>("dec"),
                           InstanceMethod<&Semaphore::Cancel>("cancel"),
                           InstanceMethod("close", &Semaphore::Close),
                           InstanceAccessor("closed", &Semaphore::IsClosed, nullptr),
                       });
  }

  // new Semaphore(name, n): n > 0 creates, n == 0 opens.
  explicit Semaphore(const Napi::CallbackInfo& info) : luaipc::Handle<Semaphore>(info) {
    Napi::Env env = info.Env();
    name_ = info[0].As<Napi::String>().Utf8Value();
    uint32_t n = info[1].As<Napi::Number>().Uint32Value();
    creator_ = n > 0;
    core_ = std::make_shared<Core>();
    int err = luaipc_sem_open(name_.c_str(), n, creator_ ? 1 : 0, &core_->sem);
    if (err != 0) throw SemError(env, err, "sem_open", name_);
    waiter_.KeepAliveWhileBusy(this);
  }

  void Finalize(Napi::Env env) override { CloseOnFinalize(env); }

  void OnClose(Napi::Env env, luaipc::CloseKind kind) {
    if (kind == luaipc::CloseKind::Explicit) {
      std::string name = name_;
      waiter_.CancelAll(env, [name](Napi::Env e) {
        return luaipc::IpcError(e, ECANCELED, "sem_wait", name.c_str()).Value();
      });
    } else {
      waiter_.Shutdown();
    }
    // LuaIPC: the creator's handle owns the name (the object it created, not a newer one).
    UnlinkIfCreator();
    core_.reset();
  }

  void AtProcessExit() noexcept override { UnlinkIfCreator(); }

 private:
  void UnlinkIfCreator() noexcept {
    if (!creator_ || !core_) return;
    creator_ = false;
    luaipc_sem_unlink_if_created(core_->sem);
  }

  Napi::Value Inc(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    int err = luaipc_sem_post(core_->sem);
    if (err != 0) throw SemError(env, err, "sem_post", name_);
    return env.Undefined();
  }

  Napi::Value TryDec(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    int err = luaipc_sem_trywait(core_->sem);
    if (err != 0 && err != EAGAIN) throw SemError(env, err, "sem_trywait", name_);
    return Napi::Boolean::New(env, err == 0);
  }

  // decSync(timeout, inWorker): timeout < 0 waits forever. Blocks the JS thread by design; returns
  // undefined without taking a count when the env is torn down meanwhile (a worker's
  // terminate(), or process.exit() ending the workers): JavaScript cannot run there any more.
  Napi::Value DecSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    double timeout = info[0].As<Napi::Number>().DoubleValue();
    bool inWorker = info[1].ToBoolean().Value();
    luaipc_sem* sem = core_->sem;
    int err = timeout == 0 ? luaipc_sem_trywait(sem) : Spin(sem);
    if (err == EAGAIN && timeout != 0) {
      // Only a worker can be stopped while its thread waits (terminate(), process.exit()): the
      // main thread sleeps in one piece.
      std::unique_ptr<luaipc::JsProbe> probe;
      if (inWorker) probe = std::make_unique<luaipc::JsProbe>(env);
      err = WaitSliced(
          luaipc::DeadlineAfter(timeout), inWorker ? kSyncSliceNs : -1, [&] { return probe && !probe->CanRunJs(); },
          [&](int64_t until) { return luaipc_sem_wait(sem, until); });
      if (err == ECANCELED) return env.Undefined();
    }
    if (err == EAGAIN || err == ETIMEDOUT) return Napi::Boolean::New(env, false);
    if (err != 0) throw SemError(env, err, timeout == 0 ? "sem_trywait" : "sem_wait", name_);
    return Napi::Boolean::New(env, true);
  }

  // dec(timeout, id): a boolean when settled without waiting (the JS thread tries first, which
  // saves two thread hops whenever the count is already there), else a Promise<boolean>.
  Napi::Value Dec(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    double timeout = info[0].As<Napi::Number>().DoubleValue();
    uint32_t id = info[1].As<Napi::Number>().Uint32Value();
    int err = luaipc_sem_trywait(core_->sem);
    if (err != 0 && err != EAGAIN) throw SemError(env, err, "sem_trywait", name_);
    if (err == 0 || timeout == 0) return Napi::Boolean::New(env, err == 0);

    std::shared_ptr<Core> core = core_;
    std::string name = name_;
    int64_t deadline = luaipc::DeadlineAfter(timeout);
    luaipc::WaitOp op;
    op.wait = [core, deadline](const luaipc::CancelToken& token) {
      luaipc_sem* sem = core->sem;
      int e = Spin(sem, kAsyncSpinNs);
      if (e == EAGAIN) {
        e = WaitSliced(
            deadline, kAsyncSliceNs, [&] { return token.cancelled(); },
            [&](int64_t until) { return token.Interruptible([&] { return luaipc_sem_wait(sem, until); }); });
      }
      if (e == 0) return luaipc::WaitOutcome{0, 1};
      if (e == ETIMEDOUT || e == EAGAIN) return luaipc::WaitOutcome{0, 0};
      return luaipc::WaitOutcome{e, 0};
    };
    op.undo = [core](const luaipc::WaitOutcome& outcome) {
      if (outcome.err == 0 && outcome.value == 1) luaipc_sem_post(core->sem);
    };
    op.settle = [name](Napi::Env e, const luaipc::WaitOutcome& outcome) -> Napi::Value {
      if (outcome.err != 0) throw SemError(e, outcome.err, "sem_wait", name);
      return Napi::Boolean::New(e, outcome.value == 1);
    };
    return waiter_.Submit(env, std::move(op), id, name_.c_str());
  }

  // cancel(id, reason): rejects the pending dec `id` with `reason`; false if it is not pending.
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    return Napi::Boolean::New(env, waiter_.Cancel(env, id, info[1]));
  }

  std::shared_ptr<Core> core_;
  std::string name_;
  bool creator_ = false;
  luaipc::Waiter waiter_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Semaphore", Semaphore::Define(env));
  luaipc::ExportUnlink<luaipc_sem_unlink>(env, exports, "sem_unlink");
  exports.Set("SEM_VALUE_MAX", Napi::Number::New(env, static_cast<double>(luaipc_sem_value_max())));
  exports.Set("NAME_MAX", Napi::Number::New(env, static_cast<double>(luaipc_sem_name_max())));
  // The semaphore lives in a mapping too (sem_posix.cc).
  luaipc::ExportFaultGuard(env, exports);
  return exports;
}

}  // namespace

LUAIPC_ADDON(sem, Init)
