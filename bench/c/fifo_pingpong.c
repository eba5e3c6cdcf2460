/*
 * The floor for a two-process round trip with @luaipc/channel's wake-up path, in C: a ring in
 * shared memory each way, and a FIFO doorbell each side sleeps on.
 *
 *   fifo_pingpong <fifo-prefix> <round-trips> <warm-up round-trips> [child-cpus|-]
 *
 * Forks. Sending writes a small record into the peer's ring, publishes the tail (seq_cst), then
 * looks at the peer's "sleeping" word and, when it is set, swaps it to 0 and writes one byte to
 * the peer's FIFO. Receiving takes a record if there is one (copying it into a buffer of its own,
 * as the channel does); otherwise it publishes "sleeping" (seq_cst), looks once more, and waits
 * in poll() on its FIFO, then drains it. Each message finds the other side asleep, as in the
 * channel's ping-pong. Prints {"seconds":..,"roundTrips":..} for the timed round trips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define CAP 4096u

struct ring {
  _Alignas(64) _Atomic uint32_t tail;
  _Alignas(64) _Atomic uint32_t head;
  _Alignas(64) _Atomic uint32_t sleeping;
  unsigned char bytes[CAP];
};

struct side {
  struct ring *in;   /* what we receive */
  struct ring *out;  /* what the peer receives */
  int bell;          /* our FIFO, read-write and non-blocking */
  int peer_bell;     /* the peer's FIFO, write-only and non-blocking */
};

static void send_msg(struct side *s, const void *msg, uint32_t length) {
  struct ring *r = s->out;
  uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  uint32_t off = tail % CAP;
  memcpy(r->bytes + off, &length, 4);
  memcpy(r->bytes + off + 4, msg, length); /* small records never wrap: CAP is a multiple */
  atomic_store(&r->tail, tail + ((4 + length + 7) & ~7u));
  if (atomic_load(&r->sleeping) && atomic_exchange(&r->sleeping, 0)) {
    static const char one = 1;
    if (write(s->peer_bell, &one, 1) < 0 && errno != EAGAIN) die("write");
  }
}

static unsigned char *receive_msg(struct side *s) {
  struct ring *r = s->in;
  uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  for (;;) {
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (tail != head) break;
    atomic_store(&r->sleeping, 1);
    if (atomic_load(&r->tail) != head) {
      atomic_store(&r->sleeping, 0);
      break;
    }
    struct pollfd p = {s->bell, POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) die("poll");
    char sink[64];
    while (read(s->bell, sink, sizeof sink) > 0) {
    }
    atomic_store(&r->sleeping, 0);
  }
  uint32_t off = head % CAP;
  uint32_t length;
  memcpy(&length, r->bytes + off, 4);
  unsigned char *out = malloc(length);
  memcpy(out, r->bytes + off + 4, length);
  atomic_store(&r->head, head + ((4 + length + 7) & ~7u));
  return out;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s <fifo-prefix> <round-trips> <warm-up> [child-cpus|-]\n", argv[0]);
    return 2;
  }
  long trips = atol(argv[2]);
  long warmup = atol(argv[3]);
  char a[512], b[512];
  snprintf(a, sizeof a, "%s-a", argv[1]);
  snprintf(b, sizeof b, "%s-b", argv[1]);
  if (mkfifo(a, 0600) != 0 || mkfifo(b, 0600) != 0) die("mkfifo");
  int fa = open(a, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  int fb = open(b, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fa < 0 || fb < 0) die("open");
  unlink(a);
  unlink(b);
  struct ring *rings = mmap(NULL, 2 * sizeof(struct ring), PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (rings == MAP_FAILED) die("mmap");
  long total = warmup + trips;
  char msg[8] = "ping!!!";
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (argc >= 5 && strcmp(argv[4], "-") != 0) pin(argv[4]);
    struct side s = {&rings[0], &rings[1], fa, fb};
    for (long i = 0; i < total; i++) {
      unsigned char *m = receive_msg(&s);
      send_msg(&s, m, 8);
      free(m);
    }
    _exit(0);
  }
  struct side s = {&rings[1], &rings[0], fb, fa};
  double start = 0;
  for (long i = 0; i < total; i++) {
    if (i == warmup) start = now();
    send_msg(&s, msg, 8);
    free(receive_msg(&s));
  }
  double seconds = now() - start;
  reap(pid);
  printf("{\"seconds\":%.9f,\"roundTrips\":%ld}\n", seconds, trips);
  return 0;
}
