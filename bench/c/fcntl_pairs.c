/*
 * The floor for an uncontended lock + unlock pair: fcntl(F_OFD_SETLKW, F_WRLCK) then
 * fcntl(F_OFD_SETLK, F_UNLCK) on the whole of a file nobody else locks.
 *
 *   fcntl_pairs <file> <pairs>
 *
 * Prints {"seconds":..,"pairs":..} for the timed pairs (after pairs/10 untimed ones).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static void set(int fd, int cmd, short type) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, cmd, &fl) != 0) die("fcntl");
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <file> <pairs>\n", argv[0]);
    return 2;
  }
  long pairs = atol(argv[2]);
  int fd = open(argv[1], O_RDWR);
  if (fd < 0) die("open");
  for (long i = 0; i < pairs / 10; i++) {
    set(fd, F_OFD_SETLKW, F_WRLCK);
    set(fd, F_OFD_SETLK, F_UNLCK);
  }
  double start = now();
  for (long i = 0; i < pairs; i++) {
    set(fd, F_OFD_SETLKW, F_WRLCK);
    set(fd, F_OFD_SETLK, F_UNLCK);
  }
  printf("{\"seconds\":%.9f,\"pairs\":%ld}\n", now() - start, pairs);
  return 0;
}
