// Windows backend of proc_os.h: CreateProcessW, named pipes read and written with overlapped
// I/O, and a Job object for `group`.
//
// What Windows gives, and what callers see of it (README, "Windows"):
// - Only the child's ends of its pipes (and its redirections) are inherited, and only by that
//   child: they are made inheritable just for the CreateProcessW call and named in its
//   PROC_THREAD_ATTRIBUTE_HANDLE_LIST, so concurrent spawns never hold each other's pipes.
// - The string form (LUAIPC_PROC_SHELL) runs as `cmd.exe /d /s /c "<cmd>"` (the system's
//   cmd.exe, AutoRun skipped, <cmd> verbatim); an argv that names /bin/sh looks for /bin/sh.
// - An argv array becomes one command line quoted by the MSVCRT rules, which the C runtimes and
//   CommandLineToArgvW parse back into the same array.
// - Anonymous pipes can't do overlapped I/O, so every pipe is a named pipe: our end overlapped
//   (a read or write is started, and finished when its event fires), the child's end an ordinary
//   synchronous handle, as programs expect.
// - Windows has no signals. kill() with SIGTERM, SIGKILL, SIGINT or SIGQUIT (libuv's set, so
//   Node's process.kill agrees) ends the child with TerminateProcess (with `group`,
//   TerminateJobObject ends the whole tree); the exit then reads as that signal. Other known
//   signal numbers are ENOSYS, unknown ones EINVAL.
// - Exit codes are 32-bit: NTSTATUS codes like 0xC0000005 come out negative, as cmd.exe's
//   %ERRORLEVEL% shows them.
#include "proc_os.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include <algorithm>
#include <atomic>
#include <new>
#include <string>
#include <vector>

#include "luaipc/glue_os.h"
#include "luaipc/win_error.h"
#include "luaipc/win_text.h"

namespace {

// Our read and write buffers, and the pipes' own.
constexpr DWORD kIoBuf = 64 * 1024;
// TerminateProcess/TerminateJobObject's exit code (libuv's too): with a kill recorded, it reads
// as the signal.
constexpr UINT kKilledCode = 1;

// A stdout/stderr pipe: one overlapped read at a time into `buf`; `buf[off, len)` not yet taken.
struct Out {
  HANDLE h = nullptr;
  OVERLAPPED ov{};
  char* buf = nullptr;
  DWORD off = 0;
  DWORD len = 0;
  bool pending = false;
  bool eof = false;
  int err = 0;
};

// The stdin pipe: one overlapped write at a time of `size` bytes copied from the caller's queue.
// Those bytes are reported as written only once the write completes, so they stay in the
// caller's queue meanwhile: the next offer starts with them (proc_os.h), and closing stdin
// after the queue ran dry never drops bytes still in flight.
struct In {
  enum State { kIdle, kPending, kDone };
  HANDLE h = nullptr;
  OVERLAPPED ov{};
  char* buf = nullptr;
  DWORD size = 0;
  State state = kIdle;
  int err = 0;
};

}  // namespace

struct luaipc_proc {
  HANDLE process;
  HANDLE job;   // group only
  HANDLE wake;  // auto-reset event
  DWORD pid;
  In in;
  Out out[2];  // stdout, stderr
  int reaped;
  int signaled;
  int code;
  int killedBy;  // the signal a successful kill() ended the running child with
};

namespace {

// A failure that may reach JavaScript as an IpcError: the Win32 code rides along in the record
// (winerror). The call is named by whoever reports it (spawn's `fail`).
int Fail(luaipc_error* error, DWORD code) { return luaipc::Win32Fail(error, "posix_spawn", code); }

// A failure that ends a stream or the loop's work, never thrown from here: its errno only.
int Quiet(DWORD code) { return luaipc_fail_win32(nullptr, code, nullptr); }

bool PipeGone(DWORD code) {
  return code == ERROR_BROKEN_PIPE || code == ERROR_NO_DATA || code == ERROR_PIPE_NOT_CONNECTED;
}

void CloseH(HANDLE* h) {
  if (*h != nullptr && *h != INVALID_HANDLE_VALUE) CloseHandle(*h);
  *h = nullptr;
}

std::wstring SystemDir() {
  wchar_t buf[MAX_PATH];
  UINT n = GetSystemDirectoryW(buf, MAX_PATH);
  return n > 0 && n < MAX_PATH ? std::wstring(buf, n) : std::wstring(L"C:\\Windows\\System32");
}

std::wstring WindowsDir() {
  wchar_t buf[MAX_PATH];
  UINT n = GetSystemWindowsDirectoryW(buf, MAX_PATH);
  return n > 0 && n < MAX_PATH ? std::wstring(buf, n) : std::wstring(L"C:\\Windows");
}

std::wstring GetEnv(const wchar_t* name, bool* found) {
  DWORD n = GetEnvironmentVariableW(name, nullptr, 0);
  *found = n > 0;
  if (n == 0) return std::wstring();
  std::wstring value(n, L'\0');
  DWORD got = GetEnvironmentVariableW(name, &value[0], n);
  value.resize(got < n ? got : 0);
  return value;
}

// The name part of "NAME=value" (a leading '=' belongs to the name: "=C:=C:\dir").
std::wstring KeyOf(const std::wstring& entry) {
  size_t eq = entry.find(L'=', 1);
  return eq == std::wstring::npos ? entry : entry.substr(0, eq);
}

bool SameKey(const std::wstring& a, const wchar_t* b) {
  return CompareStringOrdinal(a.c_str(), static_cast<int>(a.size()), b, -1, TRUE) == CSTR_EQUAL;
}

// One argument as the MSVCRT parses it back: quoted when it has blanks or quotes (or is
// empty), backslashes doubled only where they precede a quote (a literal one or the closing one).
void AppendQuoted(std::wstring* line, const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    *line += arg;
    return;
  }
  *line += L'"';
  size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"') {
      line->append(backslashes * 2 + 1, L'\\');
    } else {
      line->append(backslashes, L'\\');
    }
    *line += c;
    backslashes = 0;
  }
  line->append(backslashes * 2, L'\\');
  *line += L'"';
}

bool IsSeparator(wchar_t c) { return c == L'\\' || c == L'/'; }

bool HasExtension(const std::wstring& path) {
  size_t slash = path.find_last_of(L"\\/:");
  size_t dot = path.rfind(L'.');
  return dot != std::wstring::npos && (slash == std::wstring::npos || dot > slash + 1);
}

bool EndsWithNoCase(const std::wstring& s, const wchar_t* tail) {
  size_t n = wcslen(tail);
  return s.size() >= n &&
         CompareStringOrdinal(s.c_str() + s.size() - n, static_cast<int>(n), tail, -1, TRUE) == CSTR_EQUAL;
}

// A program file at `base`, as libuv looks for one: the name as given when it has an extension,
// then with .com and .exe appended. 0, or ENOENT / EACCES (a directory) with *code the Win32 code.
int FindAt(const std::wstring& base, std::wstring* found, DWORD* code) {
  std::wstring candidates[3];
  int n = 0;
  if (HasExtension(base)) candidates[n++] = base;
  candidates[n++] = base + L".com";
  candidates[n++] = base + L".exe";
  int result = ENOENT;
  for (int i = 0; i < n; ++i) {
    DWORD attrs = GetFileAttributesW(candidates[i].c_str());
    if (attrs == INVALID_FILE_ATTRIBUTES) continue;
    if ((attrs & FILE_ATTRIBUTE_DIRECTORY) != 0) {
      result = EACCES;
      *code = ERROR_ACCESS_DENIED;
      continue;
    }
    *found = candidates[i];
    return 0;
  }
  if (result == ENOENT) *code = ERROR_FILE_NOT_FOUND;
  return result;
}

// PATH for a bare program name: the caller's search path, else the child's environment's PATH
// (any case), else ours; with none at all, the system directories.
std::wstring SearchDirs(const luaipc_proc_options* opts) {
  if (opts->search_path != nullptr) return luaipc::Wide(opts->search_path);
  if (opts->envp != nullptr) {
    for (char* const* e = opts->envp; *e != nullptr; ++e) {
      std::wstring entry = luaipc::Wide(*e);
      std::wstring key = KeyOf(entry);
      if (SameKey(key, L"PATH")) return entry.size() > key.size() ? entry.substr(key.size() + 1) : std::wstring();
    }
  } else {
    bool found = false;
    std::wstring path = GetEnv(L"PATH", &found);
    if (found) return path;
  }
  return SystemDir() + L";" + WindowsDir();
}

// execvp's search, for Windows: a name with a separator or drive is a path (a relative one
// resolves in the child's directory, as on POSIX), a bare name is looked up in PATH.
int FindProgram(const luaipc_proc_options* opts, const std::wstring& cwd, std::wstring* found,
                luaipc_error* error) {
  std::wstring name = luaipc::Wide(opts->file);
  DWORD code = ERROR_FILE_NOT_FOUND;
  int err = ENOENT;
  if (name.empty()) return Fail(error, code);
  if (name.find_first_of(L"\\/:") != std::wstring::npos) {
    bool relative = !IsSeparator(name[0]) && !(name.size() > 1 && name[1] == L':');
    std::wstring path = relative && !cwd.empty() ? cwd + L"\\" + name : name;
    err = FindAt(path, found, &code);
  } else {
    std::wstring dirs = SearchDirs(opts);
    size_t start = 0;
    for (;;) {
      size_t end = dirs.find(L';', start);
      std::wstring dir = dirs.substr(start, end == std::wstring::npos ? std::wstring::npos : end - start);
      if (dir.size() >= 2 && dir.front() == L'"' && dir.back() == L'"') dir = dir.substr(1, dir.size() - 2);
      if (!dir.empty()) {
        if (!IsSeparator(dir.back())) dir += L'\\';
        DWORD c = 0;
        int e = FindAt(dir + name, found, &c);
        if (e == 0) return 0;
        // As execvp: EACCES if something was found but could not run, unless a later one can.
        if (e == EACCES) {
          err = EACCES;
          code = c;
        }
      }
      if (end == std::wstring::npos) break;
      start = end + 1;
    }
  }
  if (err != 0) {
    Fail(error, code);
    if (error != nullptr) error->code = err;
    return err;
  }
  return 0;
}

// Sorted as CreateProcessW wants it (by name, case-insensitively), double-NUL-terminated.
// SystemRoot is added from our environment when the given one lacks it: without it Windows
// programs can't load their networking or crypto DLLs (child_process adds it too).
std::wstring EnvironmentBlock(char* const* envp) {
  std::vector<std::wstring> vars;
  bool hasRoot = false;
  for (char* const* e = envp; *e != nullptr; ++e) {
    vars.push_back(luaipc::Wide(*e));
    if (SameKey(KeyOf(vars.back()), L"SYSTEMROOT")) hasRoot = true;
  }
  if (!hasRoot) {
    bool found = false;
    std::wstring root = GetEnv(L"SystemRoot", &found);
    if (found) vars.push_back(L"SystemRoot=" + root);
  }
  std::stable_sort(vars.begin(), vars.end(), [](const std::wstring& a, const std::wstring& b) {
    std::wstring ka = KeyOf(a), kb = KeyOf(b);
    return CompareStringOrdinal(ka.c_str(), static_cast<int>(ka.size()), kb.c_str(), static_cast<int>(kb.size()),
                                TRUE) == CSTR_LESS_THAN;
  });
  std::wstring block;
  for (const std::wstring& v : vars) {
    block += v;
    block += L'\0';
  }
  if (vars.empty()) block += L'\0';
  block += L'\0';
  return block;
}

// A pipe for stream `i`: our end overlapped, the child's end synchronous. Neither is inheritable
// yet (see Spawn). The name is unique to this call; FILE_FLAG_FIRST_PIPE_INSTANCE with one
// instance means nobody else can have opened it, or open it after us.
int MakePipe(int i, HANDLE* ours, HANDLE* theirs, luaipc_error* error) {
  static std::atomic<unsigned> counter{0};
  bool childReads = i == LUAIPC_PROC_STDIN;
  DWORD openMode = (childReads ? PIPE_ACCESS_OUTBOUND : PIPE_ACCESS_INBOUND) | FILE_FLAG_OVERLAPPED |
                   FILE_FLAG_FIRST_PIPE_INSTANCE;
  DWORD pipeMode = PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
  HANDLE server = INVALID_HANDLE_VALUE;
  wchar_t name[96];
  for (int attempt = 0; attempt < 16; ++attempt) {
    swprintf(name, 96, L"\\\\.\\pipe\\luaipc-proc-%lu-%u-%llu", GetCurrentProcessId(), counter.fetch_add(1),
             static_cast<unsigned long long>(GetTickCount64()));
    server = CreateNamedPipeW(name, openMode, pipeMode, 1, kIoBuf, kIoBuf, 0, nullptr);
    if (server != INVALID_HANDLE_VALUE) break;
    DWORD e = GetLastError();
    // The name is taken (a pipe of someone else's): try the next one.
    if (e != ERROR_ACCESS_DENIED && e != ERROR_PIPE_BUSY) return Fail(error, e);
  }
  if (server == INVALID_HANDLE_VALUE) return Fail(error, GetLastError());
  // FILE_*_ATTRIBUTES: a child's runtime may set its end's pipe state (libuv does).
  DWORD access = childReads ? GENERIC_READ | FILE_WRITE_ATTRIBUTES : GENERIC_WRITE | FILE_READ_ATTRIBUTES;
  HANDLE client = CreateFileW(name, access, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (client == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    CloseHandle(server);
    return Fail(error, e);
  }
  *ours = server;
  *theirs = client;
  return 0;
}

// An inheritable-to-be copy of `h` for the child (the original stays the caller's).
int Duplicate(HANDLE h, HANDLE* copy, luaipc_error* error) {
  if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), copy, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    *copy = nullptr;
    return Fail(error, GetLastError());
  }
  return 0;
}

// Waits until a started overlapped operation is over, after asking it to stop: its buffer and
// OVERLAPPED may be freed then.
void CancelAndWait(HANDLE h, OVERLAPPED* ov) {
  CancelIoEx(h, ov);
  DWORD n = 0;
  GetOverlappedResult(h, ov, &n, TRUE);
}

void CloseOut(Out* o) {
  if (o->h != nullptr && o->pending) CancelAndWait(o->h, &o->ov);
  o->pending = false;
  CloseH(&o->h);
  CloseH(&o->ov.hEvent);
  free(o->buf);
  o->buf = nullptr;
}

void CloseIn(In* w) {
  if (w->h != nullptr && w->state == In::kPending) CancelAndWait(w->h, &w->ov);
  w->state = In::kIdle;
  CloseH(&w->h);
  CloseH(&w->ov.hEvent);
  free(w->buf);
  w->buf = nullptr;
}

// Picks up a finished read.
void Settle(Out* o) {
  if (!o->pending) return;
  DWORD n = 0;
  if (GetOverlappedResult(o->h, &o->ov, &n, FALSE)) {
    o->pending = false;
    o->off = 0;
    o->len = n;
    return;
  }
  DWORD e = GetLastError();
  if (e == ERROR_IO_INCOMPLETE) return;
  o->pending = false;
  if (PipeGone(e)) {
    o->eof = true;
  } else {
    o->err = Quiet(e);
  }
}

// Starts the next read; it may finish at once.
void StartRead(Out* o) {
  o->off = o->len = 0;
  if (ReadFile(o->h, o->buf, kIoBuf, nullptr, &o->ov)) {
    DWORD n = 0;
    GetOverlappedResult(o->h, &o->ov, &n, FALSE);
    o->len = n;
    return;
  }
  DWORD e = GetLastError();
  if (e == ERROR_IO_PENDING) {
    o->pending = true;
  } else if (PipeGone(e)) {
    o->eof = true;
  } else {
    o->err = Quiet(e);
  }
}

bool OutReady(const Out& o) { return !o.pending && (o.off < o.len || o.eof || o.err != 0); }

// Settles a finished read, or starts one when nothing is buffered: whether there is news.
bool PrimeOut(Out* o) {
  Settle(o);
  // A read that finishes at once with no bytes (a zero-length write) is no news: read again.
  for (int i = 0; i < 4 && !o->pending && !OutReady(*o); ++i) StartRead(o);
  return OutReady(*o);
}

// Picks up a finished write.
void SettleIn(In* w) {
  if (w->state != In::kPending) return;
  DWORD n = 0;
  if (GetOverlappedResult(w->h, &w->ov, &n, FALSE)) {
    w->state = In::kDone;
    return;
  }
  DWORD e = GetLastError();
  if (e == ERROR_IO_INCOMPLETE) return;
  w->state = In::kIdle;
  w->err = PipeGone(e) ? EPIPE : Quiet(e);
}

// Starts writing the offer's bytes from `skip` on (at most kIoBuf of them).
void StartWrite(In* w, const void* const* bufs, const size_t* lens, int n, size_t skip) {
  size_t size = 0;
  for (int i = 0; i < n && size < kIoBuf; ++i) {
    if (skip >= lens[i]) {
      skip -= lens[i];
      continue;
    }
    size_t take = std::min(lens[i] - skip, static_cast<size_t>(kIoBuf) - size);
    memcpy(w->buf + size, static_cast<const char*>(bufs[i]) + skip, take);
    size += take;
    skip = 0;
  }
  w->size = static_cast<DWORD>(size);
  if (WriteFile(w->h, w->buf, w->size, nullptr, &w->ov)) {
    w->state = In::kDone;
    return;
  }
  DWORD e = GetLastError();
  if (e == ERROR_IO_PENDING) {
    w->state = In::kPending;
  } else {
    w->state = In::kIdle;
    w->err = PipeGone(e) ? EPIPE : Quiet(e);
  }
}

int WriteOffer(luaipc_proc* p, const void* const* bufs, const size_t* lens, int n, size_t* done) {
  *done = 0;
  In* w = &p->in;
  if (w->h == nullptr) return EBADF;
  size_t total = 0;
  for (int i = 0; i < n; ++i) total += lens[i];
  SettleIn(w);
  if (w->state == In::kPending) return EAGAIN;
  size_t reported = 0;
  if (w->state == In::kDone) {
    reported = w->size;
    w->state = In::kIdle;
  }
  // Keeps the pipe busy: writes that finish at once are counted now, one that does not is
  // counted by a later call (its bytes start that call's offer).
  while (w->err == 0 && reported < total) {
    StartWrite(w, bufs, lens, n, reported);
    if (w->state != In::kDone) break;
    reported += w->size;
    w->state = In::kIdle;
  }
  if (reported > 0) {
    *done = std::min(reported, total);
    return 0;
  }
  return w->err != 0 ? w->err : EAGAIN;
}

// Our copies of what the child gets, closed on every way out of Spawn.
struct ChildHandles {
  HANDLE h[3] = {nullptr, nullptr, nullptr};
  ~ChildHandles() {
    for (HANDLE& x : h) CloseH(&x);
  }
};

struct AttributeList {
  LPPROC_THREAD_ATTRIBUTE_LIST list = nullptr;
  ~AttributeList() {
    if (list != nullptr) {
      DeleteProcThreadAttributeList(list);
      free(list);
    }
  }
};

}  // namespace

extern "C" int luaipc_proc_spawn(const luaipc_proc_options* opts, luaipc_proc** out, luaipc_error* error) {
  *out = nullptr;
  luaipc_fail(error, 0, nullptr);
  // The failed call on `subject`; a Win32 code a helper put in the record stays with it.
  auto failOn = [error](int e, const char* call, const char* subject) {
    if (error != nullptr) {
      if (error->code != e) error->os_code = 0;
      error->code = e;
      error->syscall = call;
      error->subject = subject;
    }
    return e;
  };

  std::wstring cwd;
  if (opts->cwd != nullptr) {
    std::wstring given = luaipc::Wide(opts->cwd);
    DWORD attrs = GetFileAttributesW(given.c_str());
    int err = 0;
    if (attrs == INVALID_FILE_ATTRIBUTES) {
      err = Fail(error, GetLastError());
    } else if ((attrs & FILE_ATTRIBUTE_DIRECTORY) == 0) {
      // Not an OS failure of its own (no Win32 code): what chdir would say.
      err = luaipc_fail(error, ENOTDIR, "chdir");
    } else {
      DWORD n = GetFullPathNameW(given.c_str(), 0, nullptr, nullptr);
      cwd.assign(n, L'\0');
      DWORD got = n > 0 ? GetFullPathNameW(given.c_str(), n, &cwd[0], nullptr) : 0;
      if (got == 0 || got >= n) {
        err = Fail(error, GetLastError());
      } else {
        cwd.resize(got);
      }
    }
    if (err != 0) return failOn(err, "chdir", opts->cwd);
  }

  std::wstring program;
  std::wstring line;
  const bool shell = (opts->flags & LUAIPC_PROC_SHELL) != 0;
  // What a failed start names: the program, or the shell that runs the command line.
  const char* file = shell ? "cmd.exe" : opts->file;
  if (shell) {
    program = SystemDir() + L"\\cmd.exe";
    // /d: no AutoRun commands; /s with the outer quotes: cmd.exe takes <cmd> verbatim.
    line = L"cmd.exe /d /s /c \"" + luaipc::Wide(opts->file) + L"\"";
  } else {
    int err = FindProgram(opts, cwd, &program, error);
    if (err == 0 && (EndsWithNoCase(program, L".bat") || EndsWithNoCase(program, L".cmd"))) {
      // CreateProcessW would run it through cmd.exe, which parses the arguments again (with
      // its own quoting): no safe argv exists. The string form runs it through cmd.exe openly.
      err = EINVAL;
    }
    if (err != 0) return failOn(err, "posix_spawn", file);
    for (char* const* a = opts->argv; *a != nullptr; ++a) {
      if (a != opts->argv) line += L' ';
      AppendQuoted(&line, luaipc::Wide(*a));
    }
  }

  // The caller's descriptors, checked before anything is made.
  HANDLE given[3] = {nullptr, nullptr, nullptr};
  for (int i = 0; i < 3; ++i) {
    if (opts->stdio[i] < 0) continue;
    void* h = nullptr;
    int err = luaipc_os_handle_from_fd(opts->stdio[i], &h);
    if (err != 0) return failOn(err, "dup2", nullptr);
    given[i] = static_cast<HANDLE>(h);
  }

  std::wstring envBlock;
  if (opts->envp != nullptr) envBlock = EnvironmentBlock(opts->envp);

  auto* p = new (std::nothrow) luaipc_proc();
  if (p == nullptr) return failOn(ENOMEM, "malloc", nullptr);
  ChildHandles child;
  auto fail = [&](int e, const char* call, const char* subject = nullptr) {
    luaipc_proc_free(p);
    return failOn(e, call, subject);
  };

  p->wake = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  if (p->wake == nullptr) return fail(Fail(error, GetLastError()), "CreateEventW");

  for (int i = 0; i < 3; ++i) {
    int how = opts->stdio[i];
    if (how == LUAIPC_PROC_PIPE) {
      HANDLE ours = nullptr;
      int err = MakePipe(i, &ours, &child.h[i], error);
      if (err != 0) return fail(err, "CreateNamedPipeW");
      HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
      char* buf = static_cast<char*>(malloc(kIoBuf));
      if (i == LUAIPC_PROC_STDIN) {
        p->in.h = ours;
        p->in.ov.hEvent = event;
        p->in.buf = buf;
      } else {
        p->out[i - 1].h = ours;
        p->out[i - 1].ov.hEvent = event;
        p->out[i - 1].buf = buf;
      }
      if (event == nullptr) return fail(Fail(error, GetLastError()), "CreateEventW");
      if (buf == nullptr) return fail(ENOMEM, "malloc");
    } else if (how >= 0) {
      int err = Duplicate(given[i], &child.h[i], error);
      if (err != 0) return fail(err, "dup2");
    } else {
      // Inherit: the stream behind our own descriptor i (Node's), else the process's standard
      // handle. A parent without that stream gives a child without it.
      void* h = nullptr;
      HANDLE parent = luaipc_os_handle_from_fd(i, &h) == 0
                       ? static_cast<HANDLE>(h)
                       : GetStdHandle(i == 0 ? STD_INPUT_HANDLE : i == 1 ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
      if (parent != nullptr && parent != INVALID_HANDLE_VALUE && Duplicate(parent, &child.h[i], nullptr) != 0) {
        child.h[i] = nullptr;
      }
    }
  }

  // The child's handles become inheritable only now, and only this child inherits them: the
  // handle list names exactly these. Concurrent spawns of ours never see them, whatever they
  // inherit.
  std::vector<HANDLE> inherit;
  for (HANDLE h : child.h) {
    if (h == nullptr) continue;
    if (!SetHandleInformation(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)) {
      return fail(Fail(error, GetLastError()), "posix_spawn");
    }
    inherit.push_back(h);
  }
  AttributeList attributes;
  STARTUPINFOEXW si{};
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = child.h[0];
  si.StartupInfo.hStdOutput = child.h[1];
  si.StartupInfo.hStdError = child.h[2];
  DWORD flags = CREATE_UNICODE_ENVIRONMENT;
  if (!inherit.empty()) {
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
    attributes.list = static_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(malloc(size));
    if (attributes.list == nullptr) return fail(ENOMEM, "malloc");
    if (!InitializeProcThreadAttributeList(attributes.list, 1, 0, &size)) {
      free(attributes.list);
      attributes.list = nullptr;
      return fail(Fail(error, GetLastError()), "posix_spawn");
    }
    if (!UpdateProcThreadAttribute(attributes.list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit.data(),
                                   inherit.size() * sizeof(HANDLE), nullptr, nullptr)) {
      return fail(Fail(error, GetLastError()), "posix_spawn");
    }
    si.lpAttributeList = attributes.list;
    flags |= EXTENDED_STARTUPINFO_PRESENT;
  }
  if ((opts->flags & LUAIPC_PROC_NEW_GROUP) != 0) {
    // Suspended until it is in the job, so nothing it starts escapes kill(). A new console
    // process group too: as with a POSIX process group, Ctrl-C in the console no longer
    // reaches it (the trade-off README describes).
    flags |= CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP;
    p->job = CreateJobObjectW(nullptr, nullptr);
    if (p->job == nullptr) return fail(Fail(error, GetLastError()), "posix_spawn");
    // A program that asks to leave the job may (as a POSIX one may call setsid()).
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_BREAKAWAY_OK;
    SetInformationJobObject(p->job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
  }
  // No console of ours: don't let every console program we start open a window.
  if (GetConsoleCP() == 0) flags |= CREATE_NO_WINDOW;

  PROCESS_INFORMATION pi{};
  BOOL ok = CreateProcessW(program.c_str(), &line[0], nullptr, nullptr, inherit.empty() ? FALSE : TRUE, flags,
                           opts->envp != nullptr ? &envBlock[0] : nullptr, cwd.empty() ? nullptr : cwd.c_str(),
                           &si.StartupInfo, &pi);
  if (!ok) {
    DWORD e = GetLastError();
    // Not a program Windows can start is ENOEXEC (the glue's table), as on POSIX.
    return fail(Fail(error, e), "posix_spawn", file);
  }
  p->process = pi.hProcess;
  p->pid = pi.dwProcessId;
  if ((opts->flags & LUAIPC_PROC_NEW_GROUP) != 0) {
    if (!AssignProcessToJobObject(p->job, pi.hProcess)) {
      DWORD e = GetLastError();
      TerminateProcess(pi.hProcess, kKilledCode);
      WaitForSingleObject(pi.hProcess, INFINITE);
      CloseHandle(pi.hThread);
      return fail(Fail(error, e), "posix_spawn", file);
    }
    ResumeThread(pi.hThread);
  }
  CloseHandle(pi.hThread);
  *out = p;
  return 0;
}

extern "C" long luaipc_proc_pid(const luaipc_proc* p) { return static_cast<long>(p->pid); }

extern "C" int luaipc_proc_piped(const luaipc_proc* p, int stream) {
  return stream == LUAIPC_PROC_STDIN ? p->in.h != nullptr : p->out[stream - 1].h != nullptr;
}

extern "C" int luaipc_proc_exit_watchable(const luaipc_proc* p) { return p->process != nullptr; }

extern "C" int luaipc_proc_poll(luaipc_proc* p, unsigned want, int timeout_ms, unsigned* ready) {
  HANDLE hs[5];
  unsigned bit[5];
  DWORD n = 0;
  unsigned now = 0;
  *ready = 0;
  hs[n] = p->wake;
  bit[n++] = LUAIPC_PROC_EV_WAKE;
  if ((want & LUAIPC_PROC_EV_STDIN) != 0 && p->in.h != nullptr) {
    SettleIn(&p->in);
    if (p->in.state == In::kPending) {
      hs[n] = p->in.ov.hEvent;
      bit[n++] = LUAIPC_PROC_EV_STDIN;
    } else {
      now |= LUAIPC_PROC_EV_STDIN;
    }
  }
  for (int s = 0; s < 2; ++s) {
    unsigned b = s == 0 ? LUAIPC_PROC_EV_STDOUT : LUAIPC_PROC_EV_STDERR;
    Out* o = &p->out[s];
    if ((want & b) == 0 || o->h == nullptr) continue;
    if (PrimeOut(o)) {
      now |= b;
    } else if (o->pending) {
      hs[n] = o->ov.hEvent;
      bit[n++] = b;
    }
  }
  if ((want & LUAIPC_PROC_EV_EXIT) != 0 && p->process != nullptr && !p->reaped) {
    hs[n] = p->process;
    bit[n++] = LUAIPC_PROC_EV_EXIT;
  }
  DWORD timeout = now != 0 ? 0 : timeout_ms < 0 ? INFINITE : static_cast<DWORD>(timeout_ms);
  // Alertable: the glue's luaipc_thread_interrupt (an APC) ends the wait as EINTR would.
  DWORD rc = WaitForMultipleObjectsEx(n, hs, FALSE, timeout, TRUE);
  if (rc == WAIT_FAILED) return Quiet(GetLastError());
  *ready = now;
  if (rc == WAIT_TIMEOUT || rc == WAIT_IO_COMPLETION) return 0;
  // The wait names the first signalled object only: look at the others too (this also takes
  // a pending wake-up off the auto-reset event, which reports it).
  DWORD first = rc - WAIT_OBJECT_0;
  for (DWORD i = 0; i < n; ++i) {
    if (i == first || WaitForSingleObject(hs[i], 0) == WAIT_OBJECT_0) *ready |= bit[i];
  }
  return 0;
}

extern "C" int luaipc_proc_wake(luaipc_proc* p) {
  if (p->wake == nullptr) return 0;
  return SetEvent(p->wake) ? 0 : Quiet(GetLastError());
}

extern "C" int luaipc_proc_read(luaipc_proc* p, int stream, void* buf, size_t cap, size_t* got) {
  *got = 0;
  Out* o = &p->out[stream - 1];
  if (o->h == nullptr) return EBADF;
  size_t total = 0;
  char* dst = static_cast<char*>(buf);
  for (int empty = 0; total < cap && empty < 4;) {
    Settle(o);
    if (o->off < o->len) {
      size_t n = std::min(static_cast<size_t>(o->len - o->off), cap - total);
      memcpy(dst + total, o->buf + o->off, n);
      o->off += static_cast<DWORD>(n);
      total += n;
      continue;
    }
    if (o->pending || o->eof || o->err != 0) break;
    // The buffer is taken: read on at once, so the pipe keeps draining while the caller works.
    StartRead(o);
    if (!o->pending && o->len == 0 && !o->eof && o->err == 0) ++empty;
  }
  if (total > 0) {
    *got = total;
    return 0;
  }
  if (o->eof) return 0;
  if (o->err != 0) return o->err;
  return EAGAIN;
}

extern "C" int luaipc_proc_write(luaipc_proc* p, const void* buf, size_t len, size_t* done) {
  return WriteOffer(p, &buf, &len, 1, done);
}

extern "C" int luaipc_proc_write_pieces(luaipc_proc* p, const void* const* bufs, const size_t* lens, int n,
                                        size_t* done) {
  if (n > LUAIPC_PROC_MAX_PIECES) n = LUAIPC_PROC_MAX_PIECES;
  return WriteOffer(p, bufs, lens, n, done);
}

extern "C" void luaipc_proc_close_stream(luaipc_proc* p, int stream) {
  if (stream == LUAIPC_PROC_STDIN) {
    CloseIn(&p->in);
  } else {
    CloseOut(&p->out[stream - 1]);
  }
}

// `hold` is not needed here: a Job object, not a reusable id, stands for the group.
extern "C" int luaipc_proc_reap(luaipc_proc* p, int /*hold*/, int* exited, int* signaled, int* code) {
  if (!p->reaped) {
    if (p->process == nullptr) return ECHILD;
    DWORD rc = WaitForSingleObject(p->process, 0);
    if (rc == WAIT_TIMEOUT) {
      *exited = 0;
      return 0;
    }
    if (rc != WAIT_OBJECT_0) return Quiet(GetLastError());
    DWORD status = 0;
    if (!GetExitCodeProcess(p->process, &status)) return Quiet(GetLastError());
    p->reaped = 1;
    if (p->killedBy != 0 && status == kKilledCode) {
      p->signaled = 1;
      p->code = p->killedBy;
    } else {
      p->signaled = 0;
      p->code = static_cast<int>(status);
    }
  }
  *exited = 1;
  *signaled = p->signaled;
  *code = p->code;
  return 0;
}

extern "C" int luaipc_proc_abandon(luaipc_proc* p) {
  CloseIn(&p->in);
  CloseOut(&p->out[0]);
  CloseOut(&p->out[1]);
  int err = 0;
  if (!p->reaped && p->process != nullptr) {
    if (p->job != nullptr) {
      TerminateJobObject(p->job, kKilledCode);
    } else {
      TerminateProcess(p->process, kKilledCode);
    }
    p->killedBy = 9;
    WaitForSingleObject(p->process, INFINITE);
    int exited = 0, signaled = 0, code = 0;
    err = luaipc_proc_reap(p, 0, &exited, &signaled, &code);
  }
  luaipc_proc_release_watch(p);
  return err;
}

extern "C" int luaipc_proc_kill(luaipc_proc* p, int sig, int group, luaipc_error* error) {
  bool terminate = false;
  switch (sig) {
    case 0:
      break;
    case 2:   // SIGINT
    case 3:   // SIGQUIT
    case 9:   // SIGKILL
    case 15:  // SIGTERM
      terminate = true;
      break;
    // The other signals Node knows on Windows (SIGHUP, SIGILL, SIGFPE, SIGSEGV, SIGBREAK,
    // SIGABRT, SIGWINCH): nothing can deliver them to another process.
    case 1:
    case 4:
    case 8:
    case 11:
    case 21:
    case 22:
    case 28:
      return luaipc_fail(error, ENOSYS, "kill");
    default:
      return luaipc_fail(error, EINVAL, "kill");
  }
  bool running = !p->reaped && p->process != nullptr && WaitForSingleObject(p->process, 0) == WAIT_TIMEOUT;
  if (group && p->job != nullptr) {
    // Also after the child itself ended: what it started may live on in the job.
    if (!terminate) return 0;
    if (!TerminateJobObject(p->job, kKilledCode)) return luaipc::Win32Fail(error, "kill");
    if (running && p->killedBy == 0) p->killedBy = sig;
    return 0;
  }
  if (!running || !terminate) return 0;
  if (!TerminateProcess(p->process, kKilledCode)) {
    DWORD e = GetLastError();
    // It was ending on its own meanwhile.
    if (WaitForSingleObject(p->process, 0) == WAIT_OBJECT_0) return 0;
    return luaipc::Win32Fail(error, "kill", e);
  }
  if (p->killedBy == 0) p->killedBy = sig;
  return 0;
}

extern "C" void luaipc_proc_release_watch(luaipc_proc* p) {
  CloseH(&p->wake);
  // Once reaped, the result is kept and the handle no longer needed (kill() does nothing then;
  // the job stays for a group's kill()).
  if (p->reaped) CloseH(&p->process);
}

extern "C" void luaipc_proc_free(luaipc_proc* p) {
  if (p == nullptr) return;
  CloseIn(&p->in);
  CloseOut(&p->out[0]);
  CloseOut(&p->out[1]);
  CloseH(&p->wake);
  CloseH(&p->process);
  // Closing the job does not end what runs in it (no JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE): like
  // close(), letting go of the handle leaves the child alone.
  CloseH(&p->job);
  delete p;
}
