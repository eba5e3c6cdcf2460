// N-API glue for @luaipc/sem. Argument checking and messages live in src/index.ts; this file
// only converts values, maps errno to IpcError and moves waits off the JS thread.
#include <napi.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>

#include "luaipc/errors.h"
#include "luaipc/handle.h"
#include "luaipc/waiter.h"
#include "sem_posix.h"

namespace {

namespace os = luaipc::sem;

// Shared by the handle and any wait in flight, so the OS object is closed only after the
// waiter thread has finished with it.
struct Core {
  os::OsSem* sem = nullptr;
  ~Core() {
    if (sem != nullptr) os::Close(sem);
  }
};

bool TokenCancelled(const void* ctx) { return static_cast<const luaipc::CancelToken*>(ctx)->cancelled(); }

class Semaphore : public luaipc::Handle<Semaphore> {
 public:
  static const char* ClosedMessage() { return "Semaphore is closed"; }

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

  // new Semaphore(osName, name, n): n > 0 creates, n == 0 opens.
  explicit Semaphore(const Napi::CallbackInfo& info) : luaipc::Handle<Semaphore>(info) {
    Napi::Env env = info.Env();
    osName_ = info[0].As<Napi::String>().Utf8Value();
    name_ = info[1].As<Napi::String>().Utf8Value();
    uint32_t n = info[2].As<Napi::Number>().Uint32Value();
    creator_ = n > 0;
    core_ = std::make_shared<Core>();
    int err = os::Open(osName_.c_str(), n, creator_, &core_->sem);
    if (err != 0) throw luaipc::IpcError(env, err, "sem_open", name_.c_str());
    waiter_.SetBusyCallback([this](bool busy) {
      // A pending dec() keeps the handle (and so its promise's settlement) alive.
      if (busy) {
        Ref();
      } else {
        Unref();
      }
    });
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
    // LuaIPC: the creator's handle owns the name.
    UnlinkIfCreator();
    core_.reset();
  }

  void AtProcessExit() noexcept override { UnlinkIfCreator(); }

  void UnlinkIfCreator() noexcept {
    if (!creator_) return;
    creator_ = false;
    os::Unlink(osName_.c_str());
  }

 private:
  Napi::Value Inc(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    int err = os::Post(core_->sem);
    if (err != 0) throw luaipc::IpcError(env, err, "sem_post", name_.c_str());
    return env.Undefined();
  }

  Napi::Value TryDec(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    bool acquired = false;
    int err = os::TryWait(core_->sem, &acquired);
    if (err != 0) throw luaipc::IpcError(env, err, "sem_trywait", name_.c_str());
    return Napi::Boolean::New(env, acquired);
  }

  // decSync(timeout): timeout < 0 waits forever. Blocks the JS thread by design.
  Napi::Value DecSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    double timeout = info[0].As<Napi::Number>().DoubleValue();
    bool acquired = false;
    int err;
    if (timeout == 0) {
      err = os::TryWait(core_->sem, &acquired);
    } else {
      err = os::Wait(core_->sem, os::DeadlineAfter(timeout), nullptr, nullptr, true, &acquired);
    }
    if (err != 0) throw luaipc::IpcError(env, err, timeout == 0 ? "sem_trywait" : "sem_wait", name_.c_str());
    return Napi::Boolean::New(env, acquired);
  }

  // dec(timeout, id): a boolean when settled without waiting (the JS thread tries first, which
  // saves two thread hops whenever the count is already there), else a Promise<boolean>.
  Napi::Value Dec(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    double timeout = info[0].As<Napi::Number>().DoubleValue();
    uint32_t id = info[1].As<Napi::Number>().Uint32Value();
    bool acquired = false;
    int err = os::TryWait(core_->sem, &acquired);
    if (err != 0) throw luaipc::IpcError(env, err, "sem_trywait", name_.c_str());
    if (acquired || timeout == 0) return Napi::Boolean::New(env, acquired);

    std::shared_ptr<Core> core = core_;
    std::string name = name_;
    int64_t deadline = os::DeadlineAfter(timeout);
    luaipc::WaitOp op;
    op.wait = [core, deadline](const luaipc::CancelToken& token) {
      bool got = false;
      int e = os::Wait(core->sem, deadline, TokenCancelled, &token, true, &got);
      return luaipc::WaitOutcome{e, got ? 1 : 0};
    };
    op.undo = [core](const luaipc::WaitOutcome& outcome) {
      if (outcome.err == 0 && outcome.value == 1) os::Post(core->sem);
    };
    op.settle = [name](Napi::Env e, const luaipc::WaitOutcome& outcome) -> Napi::Value {
      if (outcome.err != 0) throw luaipc::IpcError(e, outcome.err, "sem_wait", name.c_str());
      return Napi::Boolean::New(e, outcome.value == 1);
    };
    return waiter_.Submit(env, std::move(op), id);
  }

  // cancel(id, reason): rejects the pending dec `id` with `reason`; false if it is not pending.
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    return Napi::Boolean::New(env, waiter_.Cancel(env, id, info[1]));
  }

  std::shared_ptr<Core> core_;
  std::string osName_;
  std::string name_;
  bool creator_ = false;
  luaipc::Waiter waiter_;
};

Napi::Value Unlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string osName = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  int err = os::Unlink(osName.c_str());
  if (err != 0) throw luaipc::IpcError(env, err, "sem_unlink", name.c_str());
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  luaipc::InitErrors(env, exports);
  exports.Set("Semaphore", Semaphore::Define(env));
  exports.Set("unlink", Napi::Function::New(env, Unlink, "unlink"));
  luaipc::ExportAtProcessExit(env, exports);
  exports.Set("SEM_VALUE_MAX", Napi::Number::New(env, static_cast<double>(os::ValueMax())));
  exports.Set("NAME_MAX", Napi::Number::New(env, os::NameMax()));
  return exports;
}

}  // namespace

NODE_API_MODULE(sem, Init)
