/*
 * The floor for reading a child's stdout: posix_spawn `sh -c <command>` with stdout on a pipe
 * (default capacity, or `pipe-bytes` when given: F_SETPIPE_SZ), then read() it in pieces of
 * 64 KiB (or `pipe-bytes`) until EOF and reap the child.
 *
 *   proc_read <command> [pipe-bytes]
 *
 * Prints {"seconds":..,"bytes":..} for the whole run (spawn to reap).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: proc_read <command> [pipe-bytes]\n");
    return 2;
  }
  static char buf[1024 * 1024];
  size_t piece = 64 * 1024;
  double t0 = now();
  int fds[2];
  if (pipe(fds) != 0) return 1;
  if (argc == 3) {
    int size = atoi(argv[2]);
    if (fcntl(fds[0], F_SETPIPE_SZ, size) < 0) return 1;
    piece = (size_t)size;
  }
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
    ssize_t n = read(fds[0], buf, piece);
    if (n <= 0) break;
    total += n;
  }
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  printf("{\"seconds\":%.6f,\"bytes\":%lld}\n", now() - t0, total);
  return 0;
}
