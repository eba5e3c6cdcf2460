// The creator-owns-the-name rule, written once (LuaIPC's rule; the package READMEs state it for
// users): the handle that created a named object (a semaphore, a shm segment, a channel) removes
// the name when it lets go of the object (close(), collection, env teardown, or process.exit(),
// which skips teardown), and only while the name still refers to the object it created: a newer
// object another process made under the same name meanwhile is left alone.
//
//   // OS seam: int luaipc_shm_unlink_if_same(const char* name, const luaipc_shm_id* id);
//   using ShmName = luaipc::NameOwnerOf<luaipc_shm_id, luaipc_shm_unlink_if_same>;
//   std::unique_ptr<luaipc::NameOwner> owner(new (std::nothrow) ShmName(name, id));
//   owner->Disown();        // let go of the name now: at most once, whoever calls it again
//
// A handle that is a mapping hands its owner to luaipc::Mapping (mapping.h), which disowns it
// when the mapping goes (a name owned through a user's live Buffer is still removed at exit);
// another handle (sem) keeps it and disowns it in OnClose and AtProcessExit (handle.h, env.h).
#pragma once

#include <string>
#include <utility>

namespace luaipc {

class NameOwner {
 public:
  virtual ~NameOwner() = default;
  // Removes the name if it is still the creator's object; runs Unlink at most once. Never
  // calls JavaScript (it may run at env teardown or exit); best effort: nobody is left to
  // report a failure to.
  void Disown() noexcept {
    if (disowned_) return;
    disowned_ = true;
    Unlink();
  }
  bool owns() const noexcept { return !disowned_; }

 protected:
  virtual void Unlink() noexcept = 0;

 private:
  bool disowned_ = false;
};

// The owner of a name whose seam identifies the created object by an id taken at creation
// (device and inode on POSIX) and removes it with unlink_if_same(name, &id).
template <typename Id, int (*UnlinkIfSame)(const char* name, const Id* id)>
class NameOwnerOf : public NameOwner {
 public:
  NameOwnerOf(std::string name, const Id& id) : name_(std::move(name)), id_(id) {}

 protected:
  void Unlink() noexcept override { UnlinkIfSame(name_.c_str(), &id_); }

 private:
  std::string name_;
  Id id_;
};

}  // namespace luaipc
