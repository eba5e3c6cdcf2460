// Node-API glue over mmap_os.h. Arguments arrive checked by src/index.ts; this file only converts
// them (garbage gives an exception or an OS error, never a crash). The mapping's lifetime, its
// report to V8 and the truncation state are luaipc/mapping.h's.
#include <napi.h>

#include <cstdint>
#include <string>

#include "luaipc/addon.h"
#include "luaipc/mapping.h"
#include "mmap_os.h"

namespace {

// Offsets and sizes come checked from TS; anything else becomes a value the OS side refuses.
uint64_t ToU64(const Napi::Value& v) {
  double d = v.As<Napi::Number>().DoubleValue();
  return d >= 0 && d <= 9007199254740991.0 && static_cast<double>(static_cast<uint64_t>(d)) == d
             ? static_cast<uint64_t>(d)
             : UINT64_MAX;
}

class MappedFile : public luaipc::MappedHandle<MappedFile> {
 public:
  // Closed-handle errors read like FileLike's: "attempt to use a closed file".
  static constexpr const char* kWhat = "file";

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MappedFile",
                       Methods({InstanceMethod("flush", &MappedFile::Flush),
                                InstanceMethod("advise", &MappedFile::Advise)}));
  }

  // new MappedFile(pathBytes, shownPath, mode, offset, size, maxSize)
  explicit MappedFile(const Napi::CallbackInfo& info) : MappedHandle(info) {
    Napi::Env env = info.Env();
    auto bytes = info[0].As<Napi::Buffer<char>>();
    std::string path(bytes.Data(), bytes.Length());
    path_ = info[1].As<Napi::String>().Utf8Value();
    int mode = info[2].As<Napi::Number>().Int32Value();
    if (mode != LUAIPC_MMAP_R && mode != LUAIPC_MMAP_W) mode = LUAIPC_MMAP_RW;
    uint64_t offset = ToU64(info[3]);
    uint64_t size = ToU64(info[4]);
    uint64_t max = ToU64(info[5]);

    void* addr = nullptr;
    size_t mapped = 0;
    luaipc_error error{};
    int err = luaipc_mmap_open(path.c_str(), mode, offset, size, max, &addr, &mapped, &error);
    if (err != 0) throw luaipc::IpcError(env, error, path_.c_str());
    // Every mode maps read-write (see mmap_os.h): pages the fault handler puts in place of lost
    // ones are too.
    mapping_ = luaipc::Mapping::Adopt(env, addr, mapped, LUAIPC_MAP_READ | LUAIPC_MAP_WRITE, nullptr, &err);
    if (mapping_ == nullptr) throw luaipc::IpcError(env, err, "mmap", path_.c_str());
  }

  void Finalize(Napi::Env env) override { CloseOnFinalize(env); }

 private:
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    luaipc_error error{};
    if (luaipc_mmap_flush(mapping_->addr(), mapping_->size(), &error) != 0) {
      throw luaipc::IpcError(env, error, path_.c_str());
    }
    return env.Undefined();
  }

  // advise(advice, offset, length): luaipc_mmap_advise over whole pages of the mapping. A hint:
  // a range outside the mapping, or the OS saying no, does nothing.
  Napi::Value Advise(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    int advice = info[0].As<Napi::Number>().Int32Value();
    uint64_t offset = ToU64(info[1]);
    uint64_t length = ToU64(info[2]);
    uint64_t page = luaipc_mmap_pagesize();
    uint64_t size = mapping_->size();
    if ((advice == LUAIPC_MMAP_AHEAD || advice == LUAIPC_MMAP_PASSED) && offset % page == 0 &&
        offset <= size && length <= size - offset && length > 0) {
      luaipc_mmap_advise(static_cast<char*>(mapping_->addr()) + offset, static_cast<size_t>(length), advice,
                         nullptr);
    }
    return env.Undefined();
  }

  std::string path_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("MappedFile", MappedFile::Define(env));
  luaipc::ExportMappingState(env, exports);
  exports.Set("pagesize", Napi::Number::New(env, static_cast<double>(luaipc_mmap_pagesize())));
  return exports;
}

}  // namespace

LUAIPC_ADDON(mmap, Init)
