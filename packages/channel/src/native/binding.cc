// Node-API glue over channel_os.h. Arguments arrive checked by src/*.ts; this file only converts
// them. Nothing here runs per message: the rings are read and written by JavaScript through the
// segment's ArrayBuffer (src/receiver.ts, src/sender.ts). The mapping's lifetime, its report to
// V8, the creator's names and the truncation state are luaipc/mapping.h's.
#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "channel_os.h"
#include "luaipc/addon.h"
#include "luaipc/handle.h"
#include "luaipc/mapping.h"
#include "luaipc/sliced_wait.h"
#include "luaipc/waiter.h"

namespace {

std::string StringArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }
double NumberArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
uint32_t Uint32Arg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Uint32Value(); }
int32_t Int32Arg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// Sizes and offsets come checked from TS; anything else becomes 0 (refused by the OS or harmless).
size_t SizeArg(const Napi::CallbackInfo& info, size_t i) {
  double d = NumberArg(info, i);
  return d >= 0 && d <= 9007199254740991.0 && d <= static_cast<double>(SIZE_MAX) &&
                 static_cast<double>(static_cast<size_t>(d)) == d
             ? static_cast<size_t>(d)
             : 0;
}

// The creator's names: the segment, its lock file and doorbells (luaipc/name_owner.h).
using ChannelName = luaipc::NameOwnerOf<luaipc_chan_id, luaipc_chan_unlink_if_same>;

// The mapped segment. new Segment(name, true, size, reserve) creates it (and its lock file);
// new Segment(name, false, minSize, maxSize) maps an existing one whole.
class Segment : public luaipc::MappedHandle<Segment> {
 public:
  static constexpr const char* kWhat = "channel";

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Segment",
                       Methods({
                           InstanceMethod<&Segment::Reserve>("reserve"),
                           InstanceMethod<&Segment::Discard>("discard"),
                       }));
  }

  explicit Segment(const Napi::CallbackInfo& info) : MappedHandle(info) {
    Napi::Env env = info.Env();
    name_ = StringArg(info, 0);
    bool create = info[1].ToBoolean().Value();
    size_t a = SizeArg(info, 2);
    size_t b = SizeArg(info, 3);
    void* addr = nullptr;
    size_t size = 0;
    luaipc_chan_id id{};
    luaipc_error error{};
    int err = create ? luaipc_chan_create(name_.c_str(), a, b, &file_, &addr, &id, &error)
                     : luaipc_chan_open(name_.c_str(), a, b, &file_, &addr, &size, &error);
    if (err != 0) throw luaipc::IpcError(env, error, name_.c_str());
    if (create) size = a;

    std::unique_ptr<luaipc::MappingOwner> owner;
    if (create) owner.reset(new (std::nothrow) ChannelName(name_, id));
    if (create && owner == nullptr) {
      luaipc_chan_unmap(addr, size);
      err = ENOMEM;
    } else {
      mapping_ = luaipc::Mapping::Adopt(env, addr, size, LUAIPC_MAP_READ | LUAIPC_MAP_WRITE, std::move(owner), &err);
    }
    if (mapping_ == nullptr) {
      luaipc_chan_file_close(std::exchange(file_, nullptr));
      if (create) luaipc_chan_unlink_if_same(name_.c_str(), &id);
      throw luaipc::IpcError(env, err, "mmap", name_.c_str());
    }
  }

  void Finalize(Napi::Env env) override { CloseOnFinalize(env); }

  void OnClose(Napi::Env env, luaipc::CloseKind kind) {
    luaipc_chan_file_close(std::exchange(file_, nullptr));
    // The package reads the segment through the handle's view only (src/receiver.ts,
    // src/sender.ts), which holds no reference: detached here, the mapping goes now rather than
    // when GC comes round, so a closed channel keeps neither memory nor (on Windows) its name.
    MappedHandle::OnClose(env, kind);
  }

 private:
  // reserve(offset, length): the pages of a sender's slot, now (ENOSPC here rather than SIGBUS
  // at the first write).
  Napi::Value Reserve(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    luaipc_error error{};
    if (luaipc_chan_reserve(file_, SizeArg(info, 0), SizeArg(info, 1), &error) != 0) {
      throw luaipc::IpcError(info.Env(), error, name_.c_str());
    }
    return info.Env().Undefined();
  }

  // discard(offset, length): gives a free slot's pages back.
  Napi::Value Discard(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    luaipc_error error{};
    if (luaipc_chan_discard(file_, SizeArg(info, 0), SizeArg(info, 1), &error) != 0) {
      throw luaipc::IpcError(info.Env(), error, name_.c_str());
    }
    return info.Env().Undefined();
  }

  std::string name_;
  luaipc_chan_file* file_ = nullptr;
};

// The byte-range locks of a channel's lock file: new Locks(name, dir).
class Locks : public luaipc::Handle<Locks> {
 public:
  static constexpr const char* kWhat = "channel";

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Locks",
                       {
                           InstanceMethod<&Locks::TryLock>("trylock"),
                           InstanceMethod<&Locks::Unlock>("unlock"),
                           InstanceMethod<&Locks::Held>("held"),
                           InstanceMethod("close", &Locks::Close),
                           InstanceAccessor("closed", &Locks::IsClosed, nullptr),
                       });
  }

  explicit Locks(const Napi::CallbackInfo& info) : luaipc::Handle<Locks>(info) {
    name_ = StringArg(info, 0);
    luaipc_error error{};
    if (luaipc_chan_locks_open(name_.c_str(), Int32Arg(info, 1), &locks_, &error) != 0) {
      throw luaipc::IpcError(info.Env(), error, name_.c_str());
    }
  }

  void Finalize(Napi::Env env) override { CloseOnFinalize(env); }

  void OnClose(Napi::Env, luaipc::CloseKind) { luaipc_chan_locks_close(std::exchange(locks_, nullptr)); }

 private:
  // trylock(at): whether it is ours now.
  Napi::Value TryLock(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    luaipc_error error{};
    int err = luaipc_chan_trylock(locks_, Uint32Arg(info, 0), &error);
    if (err != 0 && err != EAGAIN) throw luaipc::IpcError(info.Env(), error, name_.c_str());
    return Napi::Boolean::New(info.Env(), err == 0);
  }

  Napi::Value Unlock(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    luaipc_error error{};
    if (luaipc_chan_unlock(locks_, Uint32Arg(info, 0), &error) != 0) {
      throw luaipc::IpcError(info.Env(), error, name_.c_str());
    }
    return info.Env().Undefined();
  }

  // held(at): whether someone else holds it.
  Napi::Value Held(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    int held = 0;
    luaipc_error error{};
    if (luaipc_chan_held(locks_, Uint32Arg(info, 0), &held, &error) != 0) {
      throw luaipc::IpcError(info.Env(), error, name_.c_str());
    }
    return Napi::Boolean::New(info.Env(), held != 0);
  }

  std::string name_;
  luaipc_chan_locks* locks_ = nullptr;
};

// Shared by a Bell and its waits in flight, so the doorbell is closed after the last thread is
// done with it.
struct BellCore {
  luaipc_bell* bell = nullptr;
  ~BellCore() { luaipc_bell_close(bell); }
};

// One end of a doorbell: new Bell(name, dir, lane, mode), mode 0: connect (ring it), 1: listen
// (wait on it), 2: listen on a new one (EEXIST when the name exists).
class Bell : public luaipc::Handle<Bell> {
 public:
  static constexpr const char* kWhat = "channel";

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Bell",
                       {
                           InstanceMethod<&Bell::Ring>("ring"),
                           InstanceMethod<&Bell::WaitSync>("waitSync"),
                           InstanceMethod<&Bell::Wait>("wait"),
                           InstanceMethod<&Bell::Cancel>("cancel"),
                           InstanceMethod<&Bell::Drain>("drain"),
                           InstanceMethod<&Bell::Pollable>("pollable"),
                           InstanceMethod("close", &Bell::Close),
                           InstanceAccessor("closed", &Bell::IsClosed, nullptr),
                       });
  }

  explicit Bell(const Napi::CallbackInfo& info) : luaipc::Handle<Bell>(info) {
    Napi::Env env = info.Env();
    name_ = StringArg(info, 0);
    int dir = Int32Arg(info, 1);
    int lane = Int32Arg(info, 2);
    int mode = Int32Arg(info, 3);
    core_ = std::make_shared<BellCore>();
    luaipc_error error{};
    int err = mode == 0 ? luaipc_bell_connect(name_.c_str(), dir, lane, &core_->bell, &error)
                        : luaipc_bell_listen(name_.c_str(), dir, lane, mode == 2, &core_->bell, &error);
    if (err != 0) throw luaipc::IpcError(env, error, name_.c_str());
    waiter_.KeepAliveWhileBusy(this);
  }

  void Finalize(Napi::Env env) override { CloseOnFinalize(env); }

  void OnClose(Napi::Env env, luaipc::CloseKind kind) {
    if (kind == luaipc::CloseKind::Explicit) {
      std::string name = name_;
      waiter_.CancelAll(env, [name](Napi::Env e) { return luaipc::IpcError(e, ECANCELED, "poll", name.c_str()).Value(); });
    } else {
      waiter_.Shutdown();
    }
    core_.reset();
  }

 private:
  // ring(): 0, or the errno of a failed ring (EPIPE: nobody listens any more). Not thrown: the
  // caller words the error for what it was doing (a send's EPIPE), so the record is not kept.
  Napi::Value Ring(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    return Napi::Number::New(info.Env(), luaipc_bell_ring(core_->bell, nullptr));
  }

  // waitSync(timeout, inWorker): true when rung, false at the timeout (seconds; < 0: none),
  // undefined when the worker is being stopped meanwhile (no JavaScript runs after it).
  Napi::Value WaitSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    double timeout = NumberArg(info, 0);
    bool inWorker = info[1].ToBoolean().Value();
    luaipc_bell* bell = core_->bell;
    luaipc_error error{};
    int err = luaipc::SyncWait(env, luaipc::DeadlineAfter(timeout), inWorker,
                               [bell, &error](int64_t until) { return luaipc_bell_wait(bell, until, &error); });
    if (err == ECANCELED) return env.Undefined();
    if (err == ETIMEDOUT) return Napi::Boolean::New(env, false);
    if (err != 0) throw luaipc::IpcError(env, error, name_.c_str());
    return Napi::Boolean::New(env, true);
  }

  // wait(timeout, id): a Promise<boolean> settled from a thread of ours (true: rung, false: the
  // timeout). For doorbells the event loop cannot poll (Windows); POSIX waits on pollable().
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    int64_t deadline = luaipc::DeadlineAfter(NumberArg(info, 0));
    uint32_t id = Uint32Arg(info, 1);
    std::shared_ptr<BellCore> core = core_;
    std::string name = name_;
    luaipc::WaitOp op;
    op.wait = [core, deadline](const luaipc::CancelToken& token) {
      luaipc_error error{};
      int err = token.WaitSliced(deadline, [&](int64_t until) { return luaipc_bell_wait(core->bell, until, &error); });
      if (err == 0) return luaipc::WaitOutcome{0, 1};
      if (err == ETIMEDOUT) return luaipc::WaitOutcome{0, 0};
      if (error.code != err) luaipc_fail(&error, err, "poll");  // cancelled
      return luaipc::WaitOutcome::Failed(error);
    };
    op.settle = [name](Napi::Env e, const luaipc::WaitOutcome& outcome) -> Napi::Value {
      if (outcome.err != 0) throw luaipc::IpcError(e, outcome.error, name.c_str());
      return Napi::Boolean::New(e, outcome.value == 1);
    };
    return waiter_.Submit(env, std::move(op), id, name_.c_str());
  }

  // cancel(id, reason): rejects the pending wait `id` with `reason`; false if it is not pending.
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Napi::Boolean::New(env, waiter_.Cancel(env, Uint32Arg(info, 0), info[1]));
  }

  Napi::Value Drain(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    luaipc_error error{};
    if (luaipc_bell_drain(core_->bell, &error) != 0) throw luaipc::IpcError(info.Env(), error, name_.c_str());
    return info.Env().Undefined();
  }

  // pollable(): a new close-on-exec descriptor of the listening side for the event loop (the
  // caller owns it), or -1 where there is none.
  Napi::Value Pollable(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    int fd = -1;
    luaipc_error error{};
    int err = luaipc_bell_pollable(core_->bell, &fd, &error);
    if (err == ENOTSUP) return Napi::Number::New(info.Env(), -1);
    if (err != 0) throw luaipc::IpcError(info.Env(), error, name_.c_str());
    return Napi::Number::New(info.Env(), fd);
  }

  std::shared_ptr<BellCore> core_;
  std::string name_;
  luaipc::Waiter waiter_;
};

// removeBell(name, dir, lane): a free sender slot's doorbell goes (ENOENT is fine).
Napi::Value RemoveBell(const Napi::CallbackInfo& info) {
  std::string name = StringArg(info, 0);
  luaipc_error error{};
  int err = luaipc_bell_remove(name.c_str(), Int32Arg(info, 1), Int32Arg(info, 2), &error);
  if (err != 0 && err != ENOENT) throw luaipc::IpcError(info.Env(), error, name.c_str());
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Segment", Segment::Define(env));
  exports.Set("Locks", Locks::Define(env));
  exports.Set("Bell", Bell::Define(env));
  exports.Set("removeBell", Napi::Function::New(env, RemoveBell, "removeBell"));
  luaipc::ExportUnlink<luaipc_chan_unlink>(env, exports);
  luaipc::ExportMappingState(env, exports);
  exports.Set("NAME_MAX", Napi::Number::New(env, static_cast<double>(luaipc_chan_name_max())));
  exports.Set("DIR", Napi::Number::New(env, luaipc_chan_dir()));
  return exports;
}

}  // namespace

LUAIPC_ADDON(channel, Init)
