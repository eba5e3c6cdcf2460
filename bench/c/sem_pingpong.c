/*
 * The floor for a two-process round trip through named POSIX semaphores.
 *
 *   sem_pingpong <name> <round-trips> <warm-up round-trips> [child-cpus|-] [spin-ns]
 *
 * Forks; the parent posts "<name>-ping" and waits on "<name>-pong", the child does the reverse.
 * child-cpus (e.g. "1" or "0,1") pins the child, as `taskset -c` pins the Node peers. spin-ns > 0
 * makes every wait try sem_trywait between sched_yield calls for that long before it sleeps in
 * sem_wait: the floor for a waiter that spins before sleeping.
 * Prints {"seconds":..,"roundTrips":..} for the timed round trips (warm-up excluded).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static double spin_seconds = 0;

static void wait_sem(sem_t *sem) {
  if (spin_seconds > 0) {
    double until = now() + spin_seconds;
    do {
      if (sem_trywait(sem) == 0) return;
      sched_yield();
    } while (now() < until);
  }
  while (sem_wait(sem) != 0) {
    if (errno != EINTR) die("sem_wait");
  }
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 6) {
    fprintf(stderr, "usage: %s <name> <round-trips> <warm-up> [child-cpus|-] [spin-ns]\n",
            argv[0]);
    return 2;
  }
  long trips = atol(argv[2]);
  long warmup = atol(argv[3]);
  if (argc == 6) spin_seconds = (double)atol(argv[5]) / 1e9;
  char ping_name[256], pong_name[256];
  snprintf(ping_name, sizeof ping_name, "/%s-ping", argv[1]);
  snprintf(pong_name, sizeof pong_name, "/%s-pong", argv[1]);
  sem_t *ping = sem_open(ping_name, O_CREAT | O_EXCL, 0600, 0);
  if (ping == SEM_FAILED) die("sem_open ping");
  sem_t *pong = sem_open(pong_name, O_CREAT | O_EXCL, 0600, 0);
  if (pong == SEM_FAILED) {
    sem_unlink(ping_name);
    die("sem_open pong");
  }
  /* Both processes keep them open through the mapping; unlinking now means nothing leaks. */
  sem_unlink(ping_name);
  sem_unlink(pong_name);

  long total = warmup + trips;
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (argc >= 5 && strcmp(argv[4], "-") != 0) pin(argv[4]);
    for (long i = 0; i < total; i++) {
      wait_sem(ping);
      if (sem_post(pong) != 0) die("sem_post");
    }
    _exit(0);
  }
  double start = 0;
  for (long i = 0; i < total; i++) {
    if (i == warmup) start = now();
    if (sem_post(ping) != 0) die("sem_post");
    wait_sem(pong);
  }
  double seconds = now() - start;
  reap(pid);
  printf("{\"seconds\":%.9f,\"roundTrips\":%ld}\n", seconds, trips);
  return 0;
}
