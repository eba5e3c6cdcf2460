// N-API glue for @luaipc/proc. Arguments are checked in src/index.ts; this file converts them,
// maps errno to IpcError and moves events between the child's thread and JavaScript.
//
// Events reach JavaScript through one function, dispatch(kind, ...), that index.ts supplies;
// EventKind (proc_core.h) says what each kind carries.
#include <napi.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "luaipc/addon.h"
#include "luaipc/env.h"
#include "luaipc/errors.h"
#include "luaipc/glue_os.h"
#include "luaipc/handle.h"
#include "luaipc/js_call.h"
#include "luaipc/sliced_wait.h"
#include "proc_core.h"

namespace {

using luaipc::proc::Core;
using luaipc::proc::Event;
using luaipc::proc::EventKind;

// A Sync wait polls in slices this long, so a worker's terminate() ends it promptly.
constexpr int kSyncSliceMs = static_cast<int>(luaipc::kSyncSliceNs / luaipc::kNsPerMs);
// Largest Buffer made by joining queued output of one stream. Small enough to come from the
// heap: a larger allocation is a fresh mapping whose every page faults on the copy.
constexpr size_t kMergeMax = 64 * 1024;
// One dispatch on the async path stops calling back once it has handed over this much output or
// run this long, and returns to the event loop (the rest follows from drain()): timers and I/O
// keep their turn however slow the callback, and the thread stops reading while the queue is
// full.
constexpr size_t kDispatchBytes = 1024 * 1024;
constexpr auto kDispatchTime = std::chrono::milliseconds(2);

class Process;

// Shared by the handle and the JsCall's finalizer, which may run before or after the handle is
// closed (env teardown), so neither owns it alone.
struct Link {
  std::shared_ptr<Core> core;
  Process* owner = nullptr;  // JS thread; null once the handle is closed
};

// The Core's notifier: the JsCall stays alive (the handle holds it) until DisableNotify, after
// which the Core never calls this.
void Notify(void* arg) { static_cast<luaipc::JsCall*>(arg)->Wake(); }

std::vector<std::string> StringArray(Napi::Value value) {
  std::vector<std::string> out;
  if (!value.IsArray()) return out;
  Napi::Array array = value.As<Napi::Array>();
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) out.push_back(array.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(&s[0]);
  out.push_back(nullptr);
  return out;
}

// The options of one spawn, read by name from the object index.ts makes (NativeSpawnOptions in
// src/binding.ts, already checked), and the luaipc_proc_options that point into them.
class SpawnOptions {
 public:
  explicit SpawnOptions(Napi::Object from) {
    file_ = from.Get("file").As<Napi::String>().Utf8Value();
    hasSearch_ = ReadString(from, "searchPath", &search_);
    argv_ = StringArray(from.Get("argv"));
    hasEnv_ = from.Get("env").IsArray();
    env_ = StringArray(from.Get("env"));
    hasCwd_ = ReadString(from, "cwd", &cwd_);
    Napi::Array stdio = from.Get("stdio").As<Napi::Array>();
    for (uint32_t i = 0; i < 3; ++i) stdio_[i] = stdio.Get(i).As<Napi::Number>().Int32Value();
    if (from.Get("shell").ToBoolean()) flags_ |= LUAIPC_PROC_SHELL;
    if (from.Get("group").ToBoolean()) flags_ |= LUAIPC_PROC_NEW_GROUP;
  }

  // Valid while this object lives, unmoved.
  luaipc_proc_options View() {
    argvPtrs_ = Pointers(argv_);
    envPtrs_ = Pointers(env_);
    luaipc_proc_options out{};
    out.file = file_.c_str();
    out.search_path = hasSearch_ ? search_.c_str() : nullptr;
    out.argv = argvPtrs_.data();
    out.envp = hasEnv_ ? envPtrs_.data() : nullptr;
    out.cwd = hasCwd_ ? cwd_.c_str() : nullptr;
    for (int i = 0; i < 3; ++i) out.stdio[i] = stdio_[i];
    out.flags = flags_;
    return out;
  }

 private:
  // A string, or null for "not given".
  static bool ReadString(Napi::Object from, const char* key, std::string* out) {
    Napi::Value value = from.Get(key);
    if (!value.IsString()) return false;
    *out = value.As<Napi::String>().Utf8Value();
    return true;
  }

  std::string file_;
  std::string search_;
  bool hasSearch_ = false;
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  bool hasEnv_ = false;
  std::string cwd_;
  bool hasCwd_ = false;
  int stdio_[3] = {LUAIPC_PROC_INHERIT, LUAIPC_PROC_INHERIT, LUAIPC_PROC_INHERIT};
  unsigned flags_ = 0;
  std::vector<char*> argvPtrs_;
  std::vector<char*> envPtrs_;
};

class Process : public luaipc::Handle<Process> {
 public:
  static constexpr const char* kWhat = "process";

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Process",
                       {
                           InstanceAccessor<&Process::Pid>("pid"),
                           InstanceMethod<&Process::Write>("write"),
                           InstanceMethod<&Process::End>("end"),
                           InstanceMethod<&Process::Kill>("kill"),
                           InstanceMethod<&Process::WaitSync>("waitSync"),
                           InstanceMethod<&Process::SetKeepAlive>("setKeepAlive"),
                           InstanceMethod<&Process::DrainMore>("drain"),
                           InstanceMethod("close", &Process::Close),
                           InstanceAccessor("closed", &Process::IsClosed, nullptr),
                       });
  }

  // new Process(options, dispatch, maxChunk)
  explicit Process(const Napi::CallbackInfo& info) : luaipc::Handle<Process>(info) {
    Napi::Env env = info.Env();
    SpawnOptions options(info[0].As<Napi::Object>());
    dispatch_ = Napi::Weak(info[1].As<Napi::Function>());
    maxChunk_ = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());

    // The way into JavaScript first: failing to make it must not leave a child behind.
    link_ = std::make_shared<Link>();
    link_->owner = this;
    std::shared_ptr<Link> link = link_;
    call_ = luaipc::JsCall::Create(env, "luaipc.proc", CallJs, link_.get(), [link] {
      // After this the thread never calls the JsCall again.
      if (link->core) link->core->DisableNotify();
    });

    luaipc_error error{};
    int err = Core::Spawn(options.View(), &core_, &error);
    if (err != 0) {
      CloseCall();
      throw luaipc::IpcError(env, error);
    }
    link_->core = core_;
    pid_ = static_cast<double>(core_->pid());
    core_->SetNotifier(Notify, call_.get());
    luaipc_error started{};
    err = Core::StartThread(core_, &started);
    if (err != 0) {
      // No thread, no one to deliver or reap: undo the spawn rather than leave a child that
      // nothing watches.
      core_->Abandon();
      CloseCall();
      // The half-made JS object lingers until GC; it holds no descriptor meanwhile.
      link_->core.reset();
      core_.reset();
      throw luaipc::IpcError(env, started);
    }
  }

  void Finalize(Napi::Env env) override { CloseOnFinalize(env); }

  // process.exit() skips env teardown: the thread must not call into a function Node is about
  // to stop serving.
  void AtProcessExit() noexcept override {
    if (core_) core_->DisableNotify();
  }

  // The child is left running (close() is not kill()); its thread stays to reap it.
  void OnClose(Napi::Env, luaipc::CloseKind kind) {
    if (link_) link_->owner = nullptr;
    if (core_) core_->Detach();
    CloseCall();
    if (keep_ && kind == luaipc::CloseKind::Explicit) {
      Unref();
      dispatch_.Unref();
    }
    keep_ = false;
  }

  // On the JS thread, from the JsCall or from drain(): hands a bounded batch of queued events to
  // JavaScript. Until a dispatch finds nothing more to do, the Core does not call the notifier
  // again: Node would run that call in the same turn of the event loop.
  void Drain(Napi::Env env) {
    auto until = std::chrono::steady_clock::now() + kDispatchTime;
    size_t bytes = 0;
    bool delivered = false;
    Event ev;
    while (!closed() && Next(&ev)) {
      delivered = true;
      try {
        bytes += DeliverScoped(env, ev);
      } catch (const Napi::Error& error) {
        // A callback threw: the same as a throwing 'data' listener, an uncaught exception.
        Napi::Value value = error.Value();
        if (!value.IsEmpty()) napi_fatal_exception(env, value);
      }
      if (bytes >= kDispatchBytes || std::chrono::steady_clock::now() >= until) break;
    }
    if (closed() || exitDelivered_ || !core_) return;
    // Something was delivered: look again from setImmediate, after timers and I/O had their
    // turn, before letting the thread notify again.
    if (!core_->EndDispatch(delivered || !ready_.empty())) return;
    Napi::HandleScope scope(env);
    Napi::Function fn = dispatch_.Value();
    if (!fn.IsEmpty()) fn.Call({Kind(env, EventKind::kMore)});
  }

 private:
  static void CallJs(napi_env env, void* context, void*) {
    // env is null when the function is torn down with calls still queued.
    auto* link = static_cast<Link*>(context);
    if (env == nullptr || link->owner == nullptr) return;
    try {
      link->owner->Drain(Napi::Env(env));
    } catch (...) {
      // Nothing may unwind into Node's C callback.
    }
  }

  void CloseCall() {
    // After this the thread never calls the JsCall again.
    if (core_) core_->DisableNotify();
    if (call_) call_->Close();
  }

  void DeliverQueued(Napi::Env env) {
    Event ev;
    while (!closed() && !exitDelivered_ && Next(&ev)) DeliverScoped(env, ev);
  }

  // Every call in a scope of its own: the values made for it are garbage once it returns, however
  // long the loop around it runs (waitSync() runs one for the child's whole life).
  size_t DeliverScoped(Napi::Env env, Event& ev) {
    Napi::HandleScope scope(env);
    return Deliver(env, ev);
  }

  // The next event the thread queued. They are taken from the Core all at once (one lock per
  // batch), and kept here rather than in a local so a wait nested in a callback sees them.
  bool Next(Event* ev) {
    if (ready_.empty() && core_) core_->PopAll(&ready_);
    if (ready_.empty()) return false;
    *ev = std::move(ready_.front());
    ready_.pop_front();
    return true;
  }

  // Output bytes as one Buffer, together with the same stream's output queued right behind
  // them: when JavaScript falls behind, it gets fewer, larger calls.
  Napi::Buffer<char> TakeBytes(Napi::Env env, Event& ev) {
    if (maxChunk_ > 0 && ev.size > maxChunk_) {
      // Too much for one call: the rest stays first in line (a callback that throws loses
      // nothing).
      Napi::Buffer<char> head = Napi::Buffer<char>::Copy(env, ev.data.get() + ev.offset, maxChunk_);
      Event rest;
      rest.kind = EventKind::kData;
      rest.stream = ev.stream;
      rest.data = std::move(ev.data);
      rest.offset = ev.offset + maxChunk_;
      rest.size = ev.size - maxChunk_;
      rest.capacity = ev.capacity;
      rest.pooled = ev.pooled;
      ready_.push_front(std::move(rest));
      return head;
    }
    size_t limit = maxChunk_ > 0 ? std::min(kMergeMax, maxChunk_) : kMergeMax;
    size_t total = ev.size;
    size_t more = 0;
    while (more < ready_.size() && ready_[more].kind == EventKind::kData && ready_[more].stream == ev.stream &&
           total + ready_[more].size <= limit) {
      total += ready_[more].size;
      ++more;
    }
    Napi::Buffer<char> bytes = more == 0 ? Napi::Buffer<char>::Copy(env, ev.data.get() + ev.offset, ev.size)
                                         : Napi::Buffer<char>::New(env, total);
    size_t offset = 0;
    for (size_t i = 0; i <= more; ++i) {
      Event& piece = i == 0 ? ev : ready_.front();
      if (more > 0) std::memcpy(bytes.Data() + offset, piece.data.get() + piece.offset, piece.size);
      offset += piece.size;
      if (piece.pooled && core_) core_->Recycle(std::move(piece.data));
      if (i > 0) ready_.pop_front();
    }
    return bytes;
  }

  // Returns the number of output bytes handed over.
  size_t Deliver(Napi::Env env, Event& ev) {
    if (ev.kind == EventKind::kExit) {
      exitDelivered_ = true;
      CloseCall();
    }
    Napi::Function fn = dispatch_.Value();
    if (fn.IsEmpty()) return 0;
    switch (ev.kind) {
      case EventKind::kData: {
        Napi::Buffer<char> bytes = TakeBytes(env, ev);
        size_t size = bytes.Length();  // before the callback, which may transfer the buffer
        fn.Call({Kind(env, ev.kind), Napi::Number::New(env, ev.stream), bytes});
        return size;
      }
      case EventKind::kEnd:
        fn.Call({Kind(env, ev.kind), Napi::Number::New(env, ev.stream)});
        break;
      case EventKind::kError:
        fn.Call({Kind(env, ev.kind), Napi::Number::New(env, ev.stream), Napi::Number::New(env, ev.err)});
        break;
      case EventKind::kExit:
        fn.Call({Kind(env, ev.kind), Napi::Number::New(env, ev.err), Napi::Boolean::New(env, ev.signaled),
                 Napi::Number::New(env, ev.code)});
        break;
      case EventKind::kMore:
        break;
    }
    return 0;
  }

  static Napi::Number Kind(Napi::Env env, EventKind kind) { return Napi::Number::New(env, static_cast<int>(kind)); }

  // drain(): the rest of what one dispatch left queued (index.ts calls it from setImmediate).
  Napi::Value DrainMore(const Napi::CallbackInfo& info) {
    Drain(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value Pid(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pid_); }

  // write(string | Uint8Array)
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    if (info[0].IsString()) {
      std::string text = info[0].As<Napi::String>().Utf8Value();
      core_->Write(text.data(), text.size());
    } else {
      // Copied at once: the caller may change or transfer its buffer before the child reads it.
      Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
      core_->Write(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
    }
    return env.Undefined();
  }

  Napi::Value End(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    core_->End();
    return env.Undefined();
  }

  Napi::Value Kill(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    luaipc_error error{};
    int err = core_->Kill(info[0].As<Napi::Number>().Int32Value(), &error);
    if (err != 0) throw luaipc::IpcError(env, error);
    return env.Undefined();
  }

  Napi::Value SetKeepAlive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool on = info[0].ToBoolean();
    if (closed() || on == keep_) return env.Undefined();
    keep_ = on;
    if (call_) call_->SetKeepAlive(env, on);
    if (on) {
      Ref();
      dispatch_.Ref();
    } else {
      Unref();
      dispatch_.Unref();
    }
    return env.Undefined();
  }

  // Runs the loop on this thread until the exit has been delivered. Blocks by design.
  Napi::Value WaitSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    if (exitDelivered_) return env.Undefined();
    luaipc::JsProbe probe(env);
    // Local: a callback may close the handle, which lets go of core_.
    std::shared_ptr<Core> core = core_;
    core->AcquireSync();
    struct Release {
      Process* self;
      Core* core;
      ~Release() {
        core->ReleaseSync();
        // Stopped early (a callback threw, the handle closed, the env is ending) with events
        // still to deliver: the async path takes them over.
        if (!self->exitDelivered_) core->NotifyNow();
      }
    } release{this, core.get()};
    // What the thread queued before it parked comes first, in order.
    DeliverQueued(env);
    while (!exitDelivered_) {
      if (closed()) throw luaipc::IpcError(env, ECANCELED, "wait");
      if (!probe.CanRunJs()) {
        // The worker is being terminated (or the process is exiting): JavaScript cannot run
        // here any more, so stop; the thread takes the loop back and reaps the child.
        throw Napi::Error::New(env, "waitSync stopped: the environment is shutting down");
      }
      core->StepSync(kSyncSliceMs);
      if (core->TakeDue()) DeliverQueued(env);
    }
    return env.Undefined();
  }

  std::shared_ptr<Link> link_;
  std::shared_ptr<luaipc::JsCall> call_;
  std::shared_ptr<Core> core_;
  Napi::FunctionReference dispatch_;
  std::deque<Event> ready_;  // taken from the Core, not yet delivered
  size_t maxChunk_ = 0;      // largest Buffer per call (0: no limit)
  double pid_ = 0;
  bool keep_ = false;
  bool exitDelivered_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Process", Process::Define(env));
  return exports;
}

}  // namespace

LUAIPC_ADDON(proc, Init)
