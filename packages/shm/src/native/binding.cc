// Node-API glue over shm_os.h. Arguments arrive checked by src/index.ts; this file only converts
// them (garbage gives an exception or an OS error, never a crash). The mapping's lifetime, its
// report to V8, the name's owner and the truncation state are luaipc/mapping.h's.
#include <napi.h>

#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "luaipc/addon.h"
#include "luaipc/mapping.h"
#include "shm_os.h"

namespace {

// The creator's name (luaipc/name_owner.h).
using ShmName = luaipc::NameOwnerOf<luaipc_shm_id, luaipc_shm_unlink_if_same>;

// Sizes come from checkSize in TS; anything else becomes 0, which the OS refuses (EINVAL).
size_t ToSize(const Napi::Value& v) {
  double d = v.As<Napi::Number>().DoubleValue();
  return d >= 1 && d <= 9007199254740991.0 && d <= static_cast<double>(SIZE_MAX) &&
                 static_cast<double>(static_cast<size_t>(d)) == d
             ? static_cast<size_t>(d)
             : 0;
}

class Segment : public luaipc::MappedHandle<Segment> {
 public:
  // Closed-handle errors read like FileLike's: "attempt to use a closed file".
  static constexpr const char* kWhat = "file";

  static Napi::Function Define(Napi::Env env) { return DefineClass(env, "Segment", Methods({})); }

  // new Segment(name, size, create): create ? create `size` bytes : attach, mapping at most `size`.
  explicit Segment(const Napi::CallbackInfo& info) : MappedHandle(info) {
    Napi::Env env = info.Env();
    std::string name = info[0].As<Napi::String>().Utf8Value();
    size_t size = ToSize(info[1]);
    bool create = info[2].ToBoolean().Value();

    void* addr = nullptr;
    size_t mapped = 0;
    luaipc_shm_id id{};
    luaipc_error error{};
    int err = create ? luaipc_shm_create(name.c_str(), size, &addr, &id, &error)
                     : luaipc_shm_attach(name.c_str(), size, &addr, &mapped, &error);
    if (err != 0) throw luaipc::IpcError(env, error, name.c_str());
    if (create) mapped = size;

    // A collected creator keeps its name while a Buffer from it lives (see luaipc/mapping.h).
    std::unique_ptr<luaipc::MappingOwner> owner;
    if (create) owner.reset(new (std::nothrow) ShmName(name, id));
    if (create && owner == nullptr) {
      luaipc_shm_unmap(addr, mapped);
      err = ENOMEM;
    } else {
      mapping_ = luaipc::Mapping::Adopt(env, addr, mapped, LUAIPC_MAP_READ | LUAIPC_MAP_WRITE,
                                        std::move(owner), &err);
    }
    if (mapping_ == nullptr) {
      // The range is unmapped; the name we just made goes too.
      if (create) luaipc_shm_unlink_if_same(name.c_str(), &id);
      throw luaipc::IpcError(env, err, "mmap", name.c_str());
    }
  }

  void Finalize(Napi::Env env) override { CloseOnFinalize(env); }
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Segment", Segment::Define(env));
  luaipc::ExportUnlink<luaipc_shm_unlink>(env, exports);
  luaipc::ExportMappingState(env, exports);
  exports.Set("NAME_MAX", Napi::Number::New(env, static_cast<double>(luaipc_shm_name_max())));
  return exports;
}

}  // namespace

LUAIPC_ADDON(shm, Init)
