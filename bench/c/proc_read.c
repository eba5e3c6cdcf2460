/*
 * The floor for reading a child's stdout: posix_spawn `sh -c <command>` with stdout on a pipe
 * (default capacity), then read() it in 64 KiB pieces until EOF and reap the child.
 *
 *   proc_read <command>
 *
 * Prints {"seconds":..,"bytes":..} for the whole run (spawn to reap).
 */
#define _POSIX_C_SOURCE 200809L
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: proc_read <command>\n");
    return 2;
  }
  static char buf[64 * 1024];
  double t0 = now();
  int fds[2];
  if (pipe(fds) != 0) return 1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  char *args[] = {"/bin/sh", "-c", argv[1], NULL};
  pid_t pid;
  if (posix_spawn(&pid, "/bin/sh", &actions, NULL, args, environ) != 0) return 1;
  close(fds[1]);
  long long total = 0;
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    total += n;
  }
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  printf("{\"seconds\":%.6f,\"bytes\":%lld}\n", now() - t0, total);
  return 0;
}
