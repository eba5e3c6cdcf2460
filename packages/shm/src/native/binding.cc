// Node-API glue over shm_posix.h: argument checks, the handle's lifetime, and the ArrayBuffer
// that views the mapping. The OS work lives behind the C API so other backends slot in.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "luaipc/errors.h"
#include "luaipc/handle.h"
#include "shm_posix.h"

namespace {

// The mapping is unmapped when its last owner lets go. The owners: the handle (explicit close,
// GC, env teardown), and for each ArrayBuffer made over it both the ArrayBuffer object and its
// backing store. Work in flight that holds a raw pointer into a Buffer keeps either the JS
// object alive (Node's threadpool jobs reference the Buffer they fill) or the backing store
// (V8's own holders), so neither can see the memory unmapped under it. A Buffer the user kept
// after dropping the handle keeps the mapping the same way.
struct Mapping {
  luaipc_shm_map map{};
  std::string name;
  bool creator = false;
  bool unlinked = false;
  bool retired = false;
  std::atomic<int> owners{1};
};

void UnlinkOnce(Mapping* m) {
  if (!m->creator || m->unlinked) return;
  m->unlinked = true;
  // Best effort: ENOENT means someone already removed it (the goal), and close() has no one
  // to report other failures to.
  luaipc_shm_unlink(m->name.c_str());
}

void Release(Mapping* m) {
  if (m->owners.fetch_sub(1) > 1) return;
  UnlinkOnce(m);
  luaipc_shm_unmap(&m->map);
  delete m;
}

void ReleaseFromBackingStore(Napi::Env /*env*/, void* /*data*/, Mapping* m) { Release(m); }

void ReleaseFromObject(Napi::Env /*env*/, Mapping* m) { Release(m); }

// On close, while an ArrayBuffer's owners remain: swaps the shared pages for private zero pages.
// Work still in flight (a crypto or zlib job in the threadpool writing into the Buffer, say)
// then touches scratch memory instead of the segment or unmapped memory, and the segment's
// pages are released now rather than whenever the garbage collector gets to the buffer. If the
// swap fails the pages simply stay mapped until the last owner goes.
void Retire(Mapping* m) {
  if (!m->retired && luaipc_shm_retire(&m->map) == 0) m->retired = true;
}

class Segment : public luaipc::Handle<Segment> {
 public:
  static const char* ClosedMessage() { return "attempt to use a closed file"; }

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Segment",
                       {
                           InstanceMethod("addr", &Segment::Addr),
                           InstanceMethod("arrayBuffer", &Segment::GetArrayBuffer),
                           InstanceMethod("close", &Segment::Close),
                           InstanceAccessor("closed", &Segment::IsClosed, nullptr),
                       });
  }

  // new Segment(name, size, create): create ? create `size` bytes : attach, mapping at most `size`.
  explicit Segment(const Napi::CallbackInfo& info) : Handle(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsBoolean()) {
      throw Napi::TypeError::New(env, "Segment(name: string, size: number, create: boolean)");
    }
    std::string name = info[0].As<Napi::String>().Utf8Value();
    if (name.empty() || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      throw Napi::TypeError::New(env, "invalid shared memory name");
    }
    double size = info[1].As<Napi::Number>().DoubleValue();
    if (!(size >= 1 && size <= 9007199254740991.0) || std::floor(size) != size ||
        size > static_cast<double>(SIZE_MAX)) {
      throw Napi::RangeError::New(env, "size must be a positive safe integer");
    }
    bool create = info[2].As<Napi::Boolean>().Value();

    luaipc_shm_map map{};
    const char* syscall = "shm_open";
    int err = create ? luaipc_shm_create(name.c_str(), static_cast<size_t>(size), &map, &syscall)
                     : luaipc_shm_attach(name.c_str(), static_cast<size_t>(size), &map, &syscall);
    if (err != 0) throw luaipc::IpcError(env, err, syscall, name.c_str());

    mapping_ = new Mapping();
    mapping_->map = map;
    mapping_->name = std::move(name);
    mapping_->creator = create;
  }

  void Finalize(Napi::Env env) override { CloseOnFinalize(env); }

  // Runs once (luaipc::Handle): explicit close, GC of the handle, or env teardown.
  void OnClose(Napi::Env env, luaipc::CloseKind kind) {
    Mapping* m = std::exchange(mapping_, nullptr);
    if (m == nullptr) return;
    // Can JavaScript still reach the memory through an ArrayBuffer?
    bool reachable;
    switch (kind) {
      case luaipc::CloseKind::Explicit:
        reachable = !DetachArrayBuffer(env);
        break;
      case luaipc::CloseKind::Finalize:
        // Only the handle is garbage; a Buffer taken from it may live on and keeps the
        // mapping (and, for the creator, the name) until it is collected too.
        reachable = true;
        break;
      case luaipc::CloseKind::Teardown:
      default:
        reachable = false;
        break;
    }
    if (kind != luaipc::CloseKind::Finalize) UnlinkOnce(m);
    if (!reachable && m->owners.load() > 1) Retire(m);
    Release(m);
  }

  // process.exit() skips the env cleanup hooks: remove the creator's name at least (the
  // mapping goes with the process).
  void AtProcessExit() noexcept override {
    if (mapping_ != nullptr) UnlinkOnce(mapping_);
  }

 private:
  Napi::Value Addr(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    return Napi::BigInt::New(info.Env(),
                             static_cast<uint64_t>(reinterpret_cast<uintptr_t>(mapping_->map.addr)));
  }

  // The external ArrayBuffer over the mapping: the same one while it is alive.
  Napi::Value GetArrayBuffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    if (!arrayBuffer_.IsEmpty()) {
      Napi::ArrayBuffer alive = arrayBuffer_.Value();
      if (!alive.IsEmpty()) return alive;
    }
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, mapping_->map.addr, mapping_->map.size,
                                                  ReleaseFromBackingStore, mapping_);
    mapping_->owners.fetch_add(1);
    mapping_->owners.fetch_add(1);
    try {
      ab.AddFinalizer(ReleaseFromObject, mapping_);
    } catch (...) {
      mapping_->owners.fetch_sub(1);
      throw;
    }
    arrayBuffer_ = Napi::Weak(ab);
    return ab;
  }

  // Detaching empties every view of the buffer (length 0) before the memory goes away.
  bool DetachArrayBuffer(Napi::Env env) {
    if (arrayBuffer_.IsEmpty()) return true;
    Napi::ArrayBuffer ab = arrayBuffer_.Value();
    arrayBuffer_.Reset();
    if (ab.IsEmpty() || ab.IsDetached()) return true;
    return napi_detach_arraybuffer(env, ab) == napi_ok;
  }

  Mapping* mapping_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> arrayBuffer_;  // weak: the buffer may be collected first
};

Napi::Value Unlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "unlink(name: string)");
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.empty() || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(env, "invalid shared memory name");
  }
  int err = luaipc_shm_unlink(name.c_str());
  if (err != 0) throw luaipc::IpcError(env, err, "shm_unlink", name.c_str());
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  luaipc::InitErrors(env, exports);
  exports.Set("Segment", Segment::Define(env));
  exports.Set("unlink", Napi::Function::New(env, Unlink, "unlink"));
  luaipc::ExportAtProcessExit(env, exports);
  exports.Set("NAME_MAX", Napi::Number::New(env, static_cast<double>(luaipc_shm_name_max())));
  return exports;
}

}  // namespace

NODE_API_MODULE(shm, Init)
