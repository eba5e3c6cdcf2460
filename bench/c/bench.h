/*
 * What every C floor program here needs: die on an unexpected error, the monotonic clock in
 * seconds, reaping the forked child, and (with _GNU_SOURCE) pinning to CPUs as `taskset -c` pins the Node peers.
 * Include after the feature-test macro.
 */
#ifndef LUAIPC_BENCH_H
#define LUAIPC_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline void die(const char *what) {
  perror(what);
  exit(1);
}

static inline double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for the forked child `pid`; the program fails ("child failed") unless it exited 0. */
#include <sys/types.h>
#include <sys/wait.h>

static inline void reap(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "child failed\n");
    exit(1);
  }
}

#ifdef _GNU_SOURCE
#include <sched.h>
#include <string.h>

/* cpus: a comma-separated list of CPU numbers. */
static inline void pin(const char *cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  char copy[256];
  snprintf(copy, sizeof copy, "%s", cpus);
  for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) CPU_SET(atoi(tok), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}
#endif

#endif
