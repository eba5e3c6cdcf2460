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
#include "luaipc/name_owner.h"
#include "luaipc/sliced_wait.h"
#include "luaipc/waiter.h"
#include "sem_os.h"

namespace {

// Before sleeping, retry for this long, yielding the CPU between tries: a peer that answers at
// once (a ping-pong) is caught without a kernel sleep and wake-up. Yielding rather than a pause
// loop hands the CPU to the peer when both share it.
constexpr int64_t kSpinNs = 50 * 1000;
// A Promise-form wait spins longer: its answer has to travel through the other side's event
// loop and back, and catching it before sleeping saves a kernel wake-up of our thread on top of
// the JS thread's. Bench results are in bench/RESULTS.md (pingpong).
constexpr int64_t kAsyncSpinNs = 150 * 1000;
// The IpcError for a failed call. ENXIO and EINVAL come from the checks of sem_posix.cc (the
// semaphore's file lost its page; bytes glibc never writes, as sem_post's own EINVAL means too)
// and say so.
Napi::Error SemError(Napi::Env env, const luaipc_error& e, const std::string& name) {
  const char* description = e.code == ENXIO    ? luaipc::kTruncatedDescription
                            : e.code == EINVAL ? "not a valid semaphore"
                                               : nullptr;
  return luaipc::IpcError(env, e, name.c_str(), description);
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
int Spin(luaipc_sem* sem, luaipc_error* error, int64_t spinNs = kSpinNs) {
  int64_t until = luaipc_now_ns() + spinNs;
  for (;;) {
    int err = luaipc_sem_trywait(sem, error);
    if (err != EAGAIN || luaipc_now_ns() >= until) return err;
    std::this_thread::yield();
  }
}

// The creator's name (luaipc/name_owner.h), removed only while it is still the semaphore this
// handle created.
class SemName : public luaipc::NameOwner {
 public:
  explicit SemName(std::shared_ptr<Core> core) : core_(std::move(core)) {}

 protected:
  void Unlink() noexcept override { luaipc_sem_unlink_if_created(core_->sem); }

 private:
  std::shared_ptr<Core> core_;
};

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
    core_ = std::make_shared<Core>();
    luaipc_error error{};
    if (luaipc_sem_open(name_.c_str(), n, n > 0 ? 1 : 0, &core_->sem, &error) != 0) throw SemError(env, error, name_);
    if (n > 0) owner_ = std::make_unique<SemName>(core_);
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
    // Disowned and dropped: it holds the semaphore open.
    if (owner_) owner_->Disown();
    owner_.reset();
    core_.reset();
  }

  void AtProcessExit() noexcept override {
    if (owner_) owner_->Disown();
  }

 private:
  Napi::Value Inc(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    luaipc_error error{};
    if (luaipc_sem_post(core_->sem, &error) != 0) throw SemError(env, error, name_);
    return env.Undefined();
  }

  Napi::Value TryDec(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    luaipc_error error{};
    int err = luaipc_sem_trywait(core_->sem, &error);
    if (err != 0 && err != EAGAIN) throw SemError(env, error, name_);
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
    luaipc_error error{};
    int err = timeout == 0 ? luaipc_sem_trywait(sem, &error) : Spin(sem, &error);
    if (err == EAGAIN && timeout != 0) {
      err = luaipc::SyncWait(env, luaipc::DeadlineAfter(timeout), inWorker,
                             [&](int64_t until) { return luaipc_sem_wait(sem, until, &error); });
      if (err == ECANCELED) return env.Undefined();
    }
    if (err == EAGAIN || err == ETIMEDOUT) return Napi::Boolean::New(env, false);
    if (err != 0) {
      // A wait reports what went wrong as its wait, whether the spin's trywait or the sleep met it.
      if (timeout != 0) error.syscall = "sem_wait";
      throw SemError(env, error, name_);
    }
    return Napi::Boolean::New(env, true);
  }

  // dec(timeout, id): a boolean when settled without waiting (the JS thread tries first, which
  // saves two thread hops whenever the count is already there), else a Promise<boolean>.
  Napi::Value Dec(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    double timeout = info[0].As<Napi::Number>().DoubleValue();
    uint32_t id = info[1].As<Napi::Number>().Uint32Value();
    luaipc_error error{};
    int err = luaipc_sem_trywait(core_->sem, &error);
    if (err != 0 && err != EAGAIN) throw SemError(env, error, name_);
    if (err == 0 || timeout == 0) return Napi::Boolean::New(env, err == 0);

    std::shared_ptr<Core> core = core_;
    std::string name = name_;
    int64_t deadline = luaipc::DeadlineAfter(timeout);
    luaipc::WaitOp op;
    op.wait = [core, deadline](const luaipc::CancelToken& token) {
      luaipc_sem* sem = core->sem;
      luaipc_error error{};
      int e = Spin(sem, &error, kAsyncSpinNs);
      if (e == EAGAIN) e = token.WaitSliced(deadline, [&](int64_t until) { return luaipc_sem_wait(sem, until, &error); });
      if (e == 0) return luaipc::WaitOutcome{0, 1};
      if (e == ETIMEDOUT || e == EAGAIN) return luaipc::WaitOutcome{0, 0};
      // Reported as the wait, whether the spin's trywait or the sleep met it.
      if (error.code == e) {
        error.syscall = "sem_wait";
      } else {
        luaipc_fail(&error, e, "sem_wait");  // cancelled
      }
      return luaipc::WaitOutcome::Failed(error);
    };
    op.undo = [core](const luaipc::WaitOutcome& outcome) {
      if (outcome.err == 0 && outcome.value == 1) luaipc_sem_post(core->sem, nullptr);
    };
    op.settle = [name](Napi::Env e, const luaipc::WaitOutcome& outcome) -> Napi::Value {
      if (outcome.err != 0) throw SemError(e, outcome.error, name);
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
  std::unique_ptr<luaipc::NameOwner> owner_;  // the creator's
  luaipc::Waiter waiter_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Semaphore", Semaphore::Define(env));
  luaipc::ExportUnlink<luaipc_sem_unlink>(env, exports);
  exports.Set("SEM_VALUE_MAX", Napi::Number::New(env, static_cast<double>(luaipc_sem_value_max())));
  exports.Set("NAME_MAX", Napi::Number::New(env, static_cast<double>(luaipc_sem_name_max())));
  // The semaphore lives in a mapping too (sem_posix.cc).
  luaipc::ExportFaultGuard(env, exports);
  return exports;
}

}  // namespace

LUAIPC_ADDON(sem, Init)
