/*
 * The floor for starting a program and waiting for it: posix_spawn + waitpid in a loop, no
 * pipes (the child inherits stdio), as @luaipc/proc's spawn(['/bin/true']) does.
 *
 *   proc_spawn <program> <count>
 *
 * Runs the program count/10 times untimed, then count times timed; prints
 * {"seconds":..,"spawns":..}.
 */
#define _POSIX_C_SOURCE 200809L
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "bench.h"

extern char **environ;

static void run(const char *program) {
  char *argv[] = {(char *)program, NULL};
  pid_t pid;
  int err = posix_spawn(&pid, program, NULL, NULL, argv, environ);
  if (err != 0) {
    fprintf(stderr, "posix_spawn: error %d\n", err);
    exit(1);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "child failed\n");
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: proc_spawn <program> <count>\n");
    return 2;
  }
  long count = atol(argv[2]);
  for (long i = 0; i < count / 10; i++) run(argv[1]);
  double t0 = now();
  for (long i = 0; i < count; i++) run(argv[1]);
  printf("{\"seconds\":%.6f,\"spawns\":%ld}\n", now() - t0, count);
  return 0;
}
