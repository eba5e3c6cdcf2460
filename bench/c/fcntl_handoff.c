/*
 * The floor for a lock hand-off between two processes: fcntl OFD locks on three one-byte ranges
 * passed around so the processes strictly alternate (the relay bench/src/suites/filelock-handoff.ts
 * describes; a round trip is two hand-offs, each waking a process blocked in F_OFD_SETLKW).
 *
 *   fcntl_handoff <file> <round-trips> <warm-up round-trips> [child-cpus|-]
 *
 * Forks; parent and child open the file each (an OFD lock belongs to its open file
 * description). child-cpus pins the child, as `taskset -c` pins the Node peers.
 * Prints {"seconds":..,"roundTrips":..} for the timed round trips (warm-up excluded).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static int range(int fd, int cmd, short type, long byte) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  while (fcntl(fd, cmd, &fl) != 0) {
    if (cmd == F_OFD_SETLK && (errno == EAGAIN || errno == EACCES)) return 0;
    if (errno != EINTR) die("fcntl");
  }
  return 1;
}

static void lock(int fd, long byte) { range(fd, F_OFD_SETLKW, F_WRLCK, byte); }
static void unlock(int fd, long byte) { range(fd, F_OFD_SETLK, F_UNLCK, byte); }

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s <file> <round-trips> <warm-up> [child-cpus|-]\n", argv[0]);
    return 2;
  }
  long trips = atol(argv[2]);
  long warmup = atol(argv[3]);
  long total = trips + warmup;
  int ready[2];
  if (pipe(ready) != 0) die("pipe");
  int first = open(argv[1], O_RDWR);
  if (first < 0) die("open");
  /* The parent starts holding ranges 0 and 1; the child will hold 2. */
  lock(first, 0);
  lock(first, 1);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (argc == 5 && strcmp(argv[4], "-") != 0) pin(argv[4]);
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) die("open");
    lock(fd, 2);
    if (write(ready[1], "r", 1) != 1) die("write");
    for (long k = 0; k < total; k++) {
      lock(fd, k % 3);
      unlock(fd, (k + 2) % 3);
    }
    unlock(fd, (total + 2) % 3);
    _exit(0);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) die("read");
  double start = 0;
  for (long k = 0; k < total; k++) {
    if (k == warmup) start = now();
    unlock(first, k % 3);
    lock(first, (k + 2) % 3);
  }
  double seconds = now() - start;
  unlock(first, 0);
  unlock(first, 1);
  unlock(first, 2);
  reap(pid);
  printf("{\"seconds\":%.9f,\"roundTrips\":%ld}\n", seconds, trips);
  return 0;
}
