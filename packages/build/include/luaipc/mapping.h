// A memory mapping as JavaScript sees it, shared by the addons that map memory (shm, mmap): the
// lifetime rules of the `mapping.h`, `mapping_os.h` section of @luaipc/build's README, the owner
// of a name, and the truncation state the fault handler of mapping_os.h keeps.
//
//   int err = 0;
//   luaipc::Mapping* m = luaipc::Mapping::Adopt(env, addr, size, LUAIPC_MAP_READ | LUAIPC_MAP_WRITE,
//                                               std::move(owner), &err);   // owner may be null
//   if (m == nullptr) throw luaipc::IpcError(env, err, "mmap", name);
//   m->View(env);          // the handle's own ArrayBuffer: no reference, detached by DetachView
//   m->ArrayBuffer(env);   // the user's: the same one while it lives; each keeps the mapping
//   m->Disown();           // a creator's close(): let go of the name now
//   m->DetachView(env);    // the handle's close(): its own views end here
//   m->Release();          // the handle's close() or collection
//
// A handle that is one mapping (shm's Segment, mmap's MappedFile) derives from MappedHandle<T>,
// which holds it, releases it once and gives JavaScript its addr/view/arrayBuffer/truncated
// methods:
//
//   class Segment : public luaipc::MappedHandle<Segment> {
//     static constexpr const char* kWhat = "file";
//     void Finalize(Napi::Env env) override { CloseOnFinalize(env); }
//     // in the constructor: mapping_ = luaipc::Mapping::Adopt(...);
//   };
//   DefineClass(env, "Segment", Segment::Methods({/* T's own */}));
//
// Two kinds of ArrayBuffer are made over the mapping. The view (View()) is the handle's own, for
// the reads and writes of @luaipc/filelike's MappedStore; user code never sees it, so close()
// detaches it (every view over it then has length 0) and it holds no reference. The user's
// (ArrayBuffer(), the `buffer` and through it every Buffer the user takes) holds a reference
// until V8 frees it and is never detached: work in flight on it (zlib, fs.write, ...) keeps the
// mapping. addr() hands out the address itself; the handle then holds a reference until it is
// collected. So the range is unmapped by close() itself when the user took no Buffer and no
// address (or the Buffer was collected), else when the last of those goes.
//
// V8 counts the size of every ArrayBuffer as external memory, which drives its collections: the
// view, alive as long as the JS handle that reads through it, makes unclosed handles get
// collected before the address space, the kernel's mapping limit or /dev/shm run out, and a
// user's ArrayBuffer counts while it keeps a closed mapping. (A report of our own on top made V8
// count each mapping two or three times and collect far more often than needed.)
//
// The owner (shm: the creator's name) is let go of once: at Disown(), when the mapping goes, at
// env teardown, or on process.exit() (which skips teardown), whichever comes first. Owners are
// tracked with their mapping, not with the handle, so a name still owned through a live Buffer
// after its handle was collected is still removed at exit.
//
// Everything here runs on the JS thread of the env that adopted the mapping, with one exception
// besides the fault handler of mapping_os.h: the finalizer of a user's ArrayBuffer, which some
// runtimes (Deno) run on a thread of V8's own. That one only hands the mapping to its env
// (detail::MappingEnv), whose JS thread drops the reference the next time it enters the code here
// (Adopt, View, ArrayBuffer, Release) or at the env's teardown; no Node-API call is made off the
// JS thread. Once the env is gone, its references went with it: the mapping is then released
// without any.
#pragma once

#include <napi.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "luaipc/env.h"
#include "luaipc/glue_os.h"
#include "luaipc/handle.h"
#include "luaipc/mapping_os.h"
#include "luaipc/name_owner.h"

namespace luaipc {

// How an IpcError ENXIO describes a mapping whose object another process shrank (the wording of
// @luaipc/filelike's MappedStore).
constexpr const char* kTruncatedDescription = "mapped object was truncated";

// The creator of a named object (name_owner.h); the mapping disowns it at most once.
using MappingOwner = NameOwner;

class Mapping;

namespace detail {

// The mappings of one env that have an owner. Registered as a handle of the env, so that env
// teardown and process.exit() reach the owners whose handles were already collected. Deleted
// when the env is gone and no mapping refers to it any more.
class OwnedMappings : public HandleBase {
 public:
  static OwnedMappings* For(Napi::Env env) {
    std::lock_guard<std::mutex> lock(Mutex());
    auto& all = All();
    auto it = all.find(env);
    if (it != all.end()) return it->second;
    auto* owned = new OwnedMappings(env);
    try {
      all.emplace(env, owned);
      GetAddonData(env)->handles.insert(owned);
    } catch (...) {
      all.erase(env);
      delete owned;
      throw;
    }
    return owned;
  }

  void Add(Mapping* m) {
    mappings_.insert(m);
    ++refs_;
  }

  // May delete this.
  void Remove(Mapping* m) noexcept {
    if (mappings_.erase(m) != 0) Unref();
  }

  void CloseForTeardown() noexcept override {
    {
      std::lock_guard<std::mutex> lock(Mutex());
      All().erase(env_);
    }
    DisownAll();
    Unref();
  }

  void AtProcessExit() noexcept override { DisownAll(); }

 private:
  explicit OwnedMappings(napi_env env) : env_(env) {}

  inline void DisownAll() noexcept;

  void Unref() noexcept {
    if (--refs_ == 0) delete this;
  }

  // Per addon copy (hidden visibility), shared by its envs.
  static std::mutex& Mutex() {
    static std::mutex* mutex = new std::mutex();
    return *mutex;
  }
  static std::unordered_map<napi_env, OwnedMappings*>& All() {
    static auto* all = new std::unordered_map<napi_env, OwnedMappings*>();
    return *all;
  }

  napi_env env_;
  std::unordered_set<Mapping*> mappings_;
  int refs_ = 1;  // the env's, dropped at its teardown
};

// The JS thread of an env that adopted mappings, whether the env still lives, and the mappings
// whose user ArrayBuffer was freed on another thread, waiting for that JS thread. Shared by the
// env's mappings, so that one freed after the env's teardown finds the env gone (rather than a
// new env at the same address, or a new thread with the same id). Everything but the JS thread's
// own fields is guarded by one mutex per addon copy.
class MappingEnv {
 public:
  explicit MappingEnv(napi_env env) : env_(env), thread_(luaipc_thread_self()) {}

  // The env's, registered on first use. JS thread.
  static std::shared_ptr<MappingEnv> For(Napi::Env env) {
    std::lock_guard<std::mutex> lock(Mutex());
    auto& live = Live();
    auto it = live.find(env);
    if (it != live.end()) return it->second;
    auto home = std::make_shared<MappingEnv>(env);
    auto& after = GetAddonData(env)->afterHandles;
    after.emplace_back(Teardown, home.get());
    try {
      live.emplace(env, home);
    } catch (...) {
      after.pop_back();
      throw;
    }
    return home;
  }

  // True on the env's JS thread while the env lives: Node-API may be called for it here.
  bool OnItsThread() const noexcept {
    std::lock_guard<std::mutex> lock(Mutex());
    return alive_ && thread_ == luaipc_thread_self();
  }

  // A user's ArrayBuffer over `m` was freed on another thread: its JS thread drops the reference
  // later, or, the env being gone, it is dropped here without Node-API.
  inline void Defer(Mapping* m) noexcept;

  // Drops the references queued for this env. Its JS thread, or a no-op.
  inline void Drain() noexcept;

 private:
  // After the env's handles closed (they may still release mappings): drops what is queued, on
  // the JS thread with the env still there, then marks the env gone.
  static inline void Teardown(void* arg) noexcept;

  static std::mutex& Mutex() {
    static std::mutex* mutex = new std::mutex();
    return *mutex;
  }
  static std::unordered_map<napi_env, std::shared_ptr<MappingEnv>>& Live() {
    static auto* live = new std::unordered_map<napi_env, std::shared_ptr<MappingEnv>>();
    return *live;
  }

  napi_env env_;
  luaipc_thread_id thread_;
  bool alive_ = true;
  std::vector<Mapping*> queued_;
  std::atomic<bool> pending_{false};  // queued_ is not empty (read without the mutex)
};

}  // namespace detail

class Mapping {
 public:
  // Takes over [addr, addr + size), just mapped with `access` (LUAIPC_MAP_*). On failure returns
  // nullptr with *err set, and the range is unmapped. The result holds one reference: the
  // handle's, dropped by Release().
  static Mapping* Adopt(Napi::Env env, void* addr, size_t size, int access,
                        std::unique_ptr<MappingOwner> owner, int* err) {
    luaipc_mapping* os = nullptr;
    *err = luaipc_mapping_adopt(addr, size, access, &os);
    if (*err != 0) return nullptr;
    std::shared_ptr<detail::MappingEnv> home;
    try {
      home = detail::MappingEnv::For(env);
    } catch (...) {
      luaipc_mapping_release(os);
      *err = ENOMEM;
      return nullptr;
    }
    home->Drain();
    auto* m = new (std::nothrow) Mapping(env, std::move(home), os, addr, size);
    if (m == nullptr) {
      luaipc_mapping_release(os);
      *err = ENOMEM;
      return nullptr;
    }
    if (owner != nullptr) {
      try {
        detail::OwnedMappings* owned = detail::OwnedMappings::For(env);
        owned->Add(m);
        m->owned_ = owned;
        m->owner_ = std::move(owner);
      } catch (...) {
        // Could not track the owner (out of memory): fail rather than hold an untracked name.
        // The caller still owns the name and removes it.
        luaipc_mapping_release(os);
        delete m;
        *err = ENOMEM;
        return nullptr;
      }
    }
    return m;
  }

  void* addr() const { return addr_; }
  size_t size() const { return size_; }
  bool truncated() const { return luaipc_mapping_truncated(os_) != 0; }

  // The handle's own ArrayBuffer over the whole mapping: the same object while it is alive, a new
  // one once it was collected. It holds no reference to the mapping, and the reference to it is
  // weak (whoever uses it holds it, so it goes in the same collection as its handle): whoever
  // releases the mapping ends it first (DetachView), or it is unreachable by then (DropView: at
  // collection of the handle, or at teardown).
  Napi::ArrayBuffer View(Napi::Env env) {
    home_->Drain();
    if (view_ != nullptr) {
      napi_value alive = nullptr;
      if (napi_get_reference_value(env, view_, &alive) == napi_ok && alive != nullptr) {
        return Napi::ArrayBuffer(env, alive);
      }
      DropView();
    }
    napi_value ab;
    NAPI_THROW_IF_FAILED(env, napi_create_external_arraybuffer(env, addr_, size_, nullptr, nullptr, &ab),
                         Napi::ArrayBuffer());
    if (napi_create_reference(env, ab, 0, &view_) != napi_ok) {
      // Without the reference close() could not end it: better no view than one that outlives
      // the mapping.
      napi_detach_arraybuffer(env, ab);
      view_ = nullptr;
      NAPI_THROW(Napi::Error::New(env, "napi_create_reference failed"), Napi::ArrayBuffer());
    }
    return Napi::ArrayBuffer(env, ab);
  }

  // Ends the view, if it is still alive: every typed array over it has length 0 from now on.
  // JS thread, JS alive.
  void DetachView(Napi::Env env) noexcept {
    if (view_ == nullptr) return;
    napi_value ab = nullptr;
    if (napi_get_reference_value(env, view_, &ab) == napi_ok && ab != nullptr) napi_detach_arraybuffer(env, ab);
    DropView();
  }

  // Lets go of the view without detaching it (collection, teardown: nothing can use it).
  void DropView() noexcept {
    if (view_ != nullptr) napi_delete_reference(env_, std::exchange(view_, nullptr));
  }

  // The user's ArrayBuffer over the whole mapping: the same object while it is alive, a new one
  // once it was collected. Each one holds a reference until V8 frees it.
  Napi::ArrayBuffer ArrayBuffer(Napi::Env env) {
    home_->Drain();
    if (weak_ != nullptr) {
      napi_value alive = nullptr;
      if (napi_get_reference_value(env, weak_, &alive) == napi_ok && alive != nullptr) {
        return Napi::ArrayBuffer(env, alive);
      }
      napi_delete_reference(env, weak_);
      weak_ = nullptr;
    }
    napi_value ab;
    NAPI_THROW_IF_FAILED(env, napi_create_external_arraybuffer(env, addr_, size_, OnBufferFreed, this, &ab),
                         Napi::ArrayBuffer());
    ++refs_;
    // Without the weak reference the next call makes a second ArrayBuffer: still correct.
    if (napi_create_reference(env, ab, 0, &weak_) != napi_ok) weak_ = nullptr;
    return Napi::ArrayBuffer(env, ab);
  }

  // Lets go of the name now (a creator's close()); the memory stays while referenced.
  void Disown() noexcept {
    if (owner_ == nullptr) return;
    std::unique_ptr<MappingOwner> owner = std::move(owner_);
    owner->Disown();
    if (owned_ != nullptr) std::exchange(owned_, nullptr)->Remove(this);
  }

  // Takes one more reference (the handle's, once it handed out the address), dropped by
  // Release().
  void Ref() noexcept { ++refs_; }

  // Drops one reference. JS thread.
  void Release() noexcept {
    home_->Drain();
    Unref();
  }

 private:
  friend class detail::OwnedMappings;
  friend class detail::MappingEnv;

  Mapping(napi_env env, std::shared_ptr<detail::MappingEnv> home, luaipc_mapping* os, void* addr, size_t size)
      : env_(env), home_(std::move(home)), os_(os), addr_(addr), size_(size) {}

  // Any thread (see the top of this file).
  static void OnBufferFreed(napi_env /*env*/, void* /*data*/, void* hint) {
    auto* m = static_cast<Mapping*>(hint);
    if (m->home_->OnItsThread()) {
      m->Unref();
    } else {
      m->home_->Defer(m);
    }
  }

  // JS thread, env alive.
  void Unref() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) > 1) return;
    Disown();
    DropView();
    if (weak_ != nullptr) napi_delete_reference(env_, weak_);
    Free();
  }

  // The env is gone, and its references with it (any thread, under MappingEnv's mutex). Its
  // teardown disowned every owner already.
  void UnrefWithoutJs() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) > 1) return;
    Disown();
    Free();
  }

  void Free() noexcept {
    luaipc_mapping_release(os_);
    delete this;
  }

  napi_env env_;
  // Outlives the env while a mapping refers to it.
  std::shared_ptr<detail::MappingEnv> home_;
  luaipc_mapping* os_;
  void* addr_;
  size_t size_;
  // Atomic for a finalizer on another thread after the env's teardown; while the env lives only
  // its JS thread changes it.
  std::atomic<int> refs_{1};
  napi_ref weak_ = nullptr;
  napi_ref view_ = nullptr;
  std::unique_ptr<MappingOwner> owner_;
  detail::OwnedMappings* owned_ = nullptr;
};

inline void detail::MappingEnv::Defer(Mapping* m) noexcept {
  std::lock_guard<std::mutex> lock(Mutex());
  if (!alive_) {
    m->UnrefWithoutJs();
    return;
  }
  try {
    queued_.push_back(m);
    pending_.store(true, std::memory_order_release);
  } catch (...) {
    // Out of memory on a thread where nothing else may be done: the mapping stays until exit.
  }
}

inline void detail::MappingEnv::Drain() noexcept {
  if (!pending_.load(std::memory_order_acquire)) return;
  std::vector<Mapping*> ready;
  {
    std::lock_guard<std::mutex> lock(Mutex());
    if (!alive_ || thread_ != luaipc_thread_self()) return;
    ready.swap(queued_);
    pending_.store(false, std::memory_order_relaxed);
  }
  // The env's entry in Live() keeps this object while these go.
  for (Mapping* m : ready) m->Unref();
}

inline void detail::MappingEnv::Teardown(void* arg) noexcept {
  auto* self = static_cast<MappingEnv*>(arg);
  std::shared_ptr<MappingEnv> keep;
  for (;;) {
    std::vector<Mapping*> ready;
    {
      std::lock_guard<std::mutex> lock(Mutex());
      if (self->queued_.empty()) {
        self->alive_ = false;
        auto it = Live().find(self->env_);
        if (it != Live().end() && it->second.get() == self) {
          keep = std::move(it->second);
          Live().erase(it);
        }
        break;
      }
      ready.swap(self->queued_);
      self->pending_.store(false, std::memory_order_relaxed);
    }
    for (Mapping* m : ready) m->Unref();
  }
  // `keep` lets go of the env's share here; mappings still alive hold theirs.
}

inline void detail::OwnedMappings::DisownAll() noexcept {
  // Copy: Disown() removes the mapping from the set (this object outlives the loop, the env's
  // reference is still held).
  std::vector<Mapping*> owned(mappings_.begin(), mappings_.end());
  for (Mapping* m : owned) m->Disown();
}

// The JS handle over one Mapping (see the top of this file). close() ends the handle's view and
// lets go of its owner's name at once; the memory stays while a user's ArrayBuffer over it lives,
// or, once addr() was called, until the handle is collected. A collected handle lets go of the
// name when the last of those goes.
template <typename T>
class MappedHandle : public Handle<T> {
 public:
  using Handle<T>::Handle;

  ~MappedHandle() override { ReleasePin(); }

  // addr(), view(), arrayBuffer(), truncated(), close() and `closed`, then T's own.
  static std::vector<Napi::ClassPropertyDescriptor<T>> Methods(
      std::initializer_list<Napi::ClassPropertyDescriptor<T>> own) {
    std::vector<Napi::ClassPropertyDescriptor<T>> all{
        T::InstanceMethod("addr", &T::Addr),
        T::InstanceMethod("view", &T::GetView),
        T::InstanceMethod("arrayBuffer", &T::GetArrayBuffer),
        T::InstanceMethod("truncated", &T::Truncated),
        T::InstanceMethod("close", &T::Close),
        T::InstanceAccessor("closed", &T::IsClosed, nullptr),
    };
    all.insert(all.end(), own.begin(), own.end());
    return all;
  }

  // Runs once (luaipc::Handle): close(), collection of the handle, or env teardown.
  void OnClose(Napi::Env env, CloseKind kind) {
    Mapping* m = std::exchange(mapping_, nullptr);
    if (m == nullptr) return;
    if (kind == CloseKind::Explicit) {
      m->DetachView(env);
    } else {
      // Collected with the handle, or JavaScript is gone: nothing can reach the view.
      m->DropView();
      ReleasePin();
    }
    if (kind != CloseKind::Finalize) m->Disown();
    m->Release();
  }

  // Hands out the address: the mapping then stays until the handle is collected, as native code
  // may hold the address without any JavaScript object that keeps it.
  Napi::Value Addr(const Napi::CallbackInfo& info) {
    this->EnsureOpen(info.Env());
    if (pinned_ == nullptr) {
      pinned_ = mapping_;
      pinned_->Ref();
    }
    return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(mapping_->addr())));
  }

  Napi::Value GetView(const Napi::CallbackInfo& info) {
    this->EnsureOpen(info.Env());
    return mapping_->View(info.Env());
  }

  Napi::Value GetArrayBuffer(const Napi::CallbackInfo& info) {
    this->EnsureOpen(info.Env());
    return mapping_->ArrayBuffer(info.Env());
  }

  Napi::Value Truncated(const Napi::CallbackInfo& info) {
    this->EnsureOpen(info.Env());
    return Napi::Boolean::New(info.Env(), mapping_->truncated());
  }

 protected:
  // Set by T's constructor; null once closed.
  Mapping* mapping_ = nullptr;

 private:
  void ReleasePin() noexcept {
    if (pinned_ != nullptr) std::exchange(pinned_, nullptr)->Release();
  }

  // The mapping whose address was handed out (a reference of its own), until collection.
  Mapping* pinned_ = nullptr;
};

// exports.mappings(): how many mappings the addon holds in this process and the most it allows
// itself; exports.faultEpoch: see FaultEpoch below.
inline Napi::Value MappingCount(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("count", Napi::Number::New(info.Env(), static_cast<double>(luaipc_mapping_count())));
  out.Set("limit", Napi::Number::New(info.Env(), static_cast<double>(luaipc_mapping_limit())));
  return out;
}

// The fault epoch of mapping_os.h as a Uint32Array of length 1, for the JavaScript side: a store
// compares it with the value it last saw (one load) before asking whether its mapping was
// truncated.
inline Napi::Uint32Array FaultEpoch(Napi::Env env) {
  auto* word = const_cast<uint32_t*>(luaipc_mapping_epoch());
  napi_value ab;
  NAPI_THROW_IF_FAILED(env, napi_create_external_arraybuffer(env, word, sizeof *word, nullptr, nullptr, &ab),
                       Napi::Uint32Array());
  return Napi::Uint32Array::New(env, 1, Napi::ArrayBuffer(env, ab), 0);
}

// exports.armFaultGuard(): installs the fault handler again if something replaced it. The loader
// (@luaipc/native/load) calls it whenever a process.on('SIGBUS') listener comes or goes, as Node
// replaces the handler then. Every addon whose memory the handler protects exports it.
inline void ExportFaultGuard(Napi::Env env, Napi::Object exports) {
  auto arm = [](const Napi::CallbackInfo& info) -> Napi::Value {
    luaipc_mapping_arm();
    return info.Env().Undefined();
  };
  exports.Set("armFaultGuard", Napi::Function::New(env, arm, "armFaultGuard"));
}

// What every mapping addon exports besides its handle class: `mappings`, `faultEpoch` and
// `armFaultGuard`.
inline void ExportMappingState(Napi::Env env, Napi::Object exports) {
  exports.Set("mappings", Napi::Function::New(env, MappingCount, "mappings"));
  exports.Set("faultEpoch", FaultEpoch(env));
  ExportFaultGuard(env, exports);
}

}  // namespace luaipc
