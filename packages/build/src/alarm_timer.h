// The timer thread behind alarm_os.h, shared by its backends (alarm_posix.cc, alarm_win.cc):
// one thread per addon (started on first use, gone after 30 s without alarms) sleeps until the
// earliest deadline and interrupts the due threads with luaipc_thread_interrupt. Arming an alarm
// due no earlier than the thread's next wake-up does not wake it. Without alarms the thread wakes
// once a second until it leaves, so the common alarm (a wait's one-second check, disarmed long
// before it is due) costs it nothing: a stream of short waits neither wakes the thread once per
// wait nor keeps it busier than once a second. Included by exactly one backend of an addon.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <new>
#include <set>

#include "luaipc/alarm_os.h"
#include "luaipc/glue_os.h"

struct luaipc_alarm {
  luaipc_thread_id thread;
  // Guarded by Timer::mu_.
  int64_t due;  // -1: disarmed
  int64_t repeat;
  bool sent;
};

namespace luaipc_alarm_detail {

struct EarliestFirst {
  bool operator()(const luaipc_alarm* a, const luaipc_alarm* b) const {
    return a->due != b->due ? a->due < b->due : a < b;
  }
};

class Timer {
 public:
  static Timer& Get() {
    static Timer* timer = new Timer();
    return *timer;
  }

  int EnsureRunning(luaipc_error* err) {
    std::lock_guard<std::mutex> lock(mu_);
    return StartLocked(err);
  }

  int Arm(luaipc_alarm* a, int64_t due, int64_t repeat, luaipc_error* error) {
    std::lock_guard<std::mutex> lock(mu_);
    if (a->due >= 0) armed_.erase(a);
    a->due = due < 0 ? 0 : due;
    a->repeat = repeat;
    armed_.insert(a);
    int err = StartLocked(error);
    if (err != 0) {
      armed_.erase(a);
      a->due = -1;
      return err;
    }
    if (a->due < wakeAt_) cv_.notify_one();
    return 0;
  }

  // True when an interruption was ever sent to `a`'s thread.
  bool Disarm(luaipc_alarm* a) {
    std::lock_guard<std::mutex> lock(mu_);
    if (a->due >= 0) armed_.erase(a);
    a->due = -1;
    return a->sent;
  }

 private:
  static constexpr int64_t kIdleTickNs = 1000000000;
  static constexpr int kIdleTicks = 30;

  int StartLocked(luaipc_error* error) {
    if (running_) return 0;
    int err = luaipc_thread_start(Main, this, "luaipc-timer", error);
    if (err == 0) {
      running_ = true;
      wakeAt_ = INT64_MIN;  // it looks at armed_ as soon as it runs
      idleTicks_ = 0;
    }
    return err;
  }

  static void Main(void* arg) { static_cast<Timer*>(arg)->Run(); }

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      int64_t now = luaipc_now_ns();
      while (!armed_.empty() && (*armed_.begin())->due <= now) {
        luaipc_alarm* a = *armed_.begin();
        armed_.erase(armed_.begin());
        // Under mu_: the thread cannot leave luaipc_alarm_close (and exit) meanwhile.
        luaipc_thread_interrupt(a->thread);
        a->sent = true;
        if (a->repeat > 0) {
          a->due = now + a->repeat;
          armed_.insert(a);
        } else {
          a->due = -1;
        }
      }
      if (armed_.empty()) {
        if (++idleTicks_ > kIdleTicks) {
          running_ = false;  // idle too long: give the thread back
          return;
        }
        wakeAt_ = now + kIdleTickNs;
      } else {
        idleTicks_ = 0;
        wakeAt_ = (*armed_.begin())->due;
      }
      cv_.wait_for(lock, std::chrono::nanoseconds(wakeAt_ - now));
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<luaipc_alarm*, EarliestFirst> armed_;
  bool running_ = false;
  int64_t wakeAt_ = INT64_MIN;  // when the thread wakes next on its own (guarded by mu_)
  int idleTicks_ = 0;
};

}  // namespace luaipc_alarm_detail
