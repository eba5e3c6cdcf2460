/*
 * The floor for a one-way stream of small messages between two processes: an SPSC ring in
 * shared memory with futex wake-ups, like-for-like with @luaipc/channel.
 *
 *   ring_stream <messages> <message-bytes> <ring-bytes> [child-cpus|-]
 *
 * Forks; the child sends <messages> records (u32 length + payload, padded to 8) and publishes
 * its tail after each one (a release store), then looks at the receiver's "sleeping" word and
 * wakes it with FUTEX_WAKE only when it sleeps. The parent takes what is there, copies each
 * message out into a buffer of its own (malloc, as the channel hands out a Buffer of its own
 * per message), publishes its head once per batch, and sleeps on a futex when the ring is empty
 * (publishing "sleeping" first and looking once more: no lost wake-up). A full ring makes the
 * sender sleep the same way on the head. Prints {"seconds":..,"messages":..}.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

struct shared {
  _Alignas(64) _Atomic uint32_t tail;
  _Atomic uint32_t sender_waiting;
  _Alignas(64) _Atomic uint32_t head;
  _Atomic uint32_t receiver_sleeping;
  _Alignas(64) unsigned char ring[];
};

static void futex_wait(_Atomic uint32_t *word, uint32_t expected) {
  syscall(SYS_futex, word, FUTEX_WAIT, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word) { syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0); }

static uint32_t record_bytes(uint32_t length) { return (4 + length + 7) & ~7u; }

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s <messages> <message-bytes> <ring-bytes> [child-cpus|-]\n", argv[0]);
    return 2;
  }
  long messages = atol(argv[1]);
  uint32_t size = (uint32_t)atol(argv[2]);
  uint32_t cap = (uint32_t)atol(argv[3]);
  uint32_t mask = cap - 1;
  struct shared *s = mmap(NULL, sizeof *s + cap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) die("mmap");
  uint32_t record = record_bytes(size);

  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (argc >= 5 && strcmp(argv[4], "-") != 0) pin(argv[4]);
    unsigned char *msg = malloc(size);
    memset(msg, 0x61, size);
    uint32_t tail = 0, head = 0;
    for (long i = 0; i < messages; i++) {
      memcpy(msg, &i, sizeof(uint32_t) < size ? sizeof(uint32_t) : size);
      while (cap - (tail - head) < record) {
        head = atomic_load_explicit(&s->head, memory_order_acquire);
        if (cap - (tail - head) >= record) break;
        atomic_store(&s->sender_waiting, 1);
        head = atomic_load(&s->head);
        if (cap - (tail - head) >= record) {
          atomic_store(&s->sender_waiting, 0);
          break;
        }
        futex_wait(&s->head, head);
        atomic_store(&s->sender_waiting, 0);
      }
      uint32_t off = tail & mask;
      memcpy(s->ring + off, &size, 4);
      uint32_t at = (off + 4) & mask;
      uint32_t first = size < cap - at ? size : cap - at;
      memcpy(s->ring + at, msg, first);
      memcpy(s->ring, msg + first, size - first);
      tail += record;
      atomic_store(&s->tail, tail); /* seq_cst: release, and ordered before the load below */
      if (atomic_load(&s->receiver_sleeping) && atomic_exchange(&s->receiver_sleeping, 0))
        futex_wake(&s->receiver_sleeping);
    }
    _exit(0);
  }
  uint32_t head = 0;
  long got = 0;
  unsigned long check = 0;
  double start = now();
  while (got < messages) {
    uint32_t tail = atomic_load_explicit(&s->tail, memory_order_acquire);
    if (tail == head) {
      atomic_store(&s->receiver_sleeping, 1);
      tail = atomic_load(&s->tail);
      if (tail == head) {
        futex_wait(&s->receiver_sleeping, 1);
        continue;
      }
      atomic_store(&s->receiver_sleeping, 0);
    }
    while (head != tail) {
      uint32_t off = head & mask;
      uint32_t length;
      memcpy(&length, s->ring + off, 4);
      unsigned char *out = malloc(length);
      uint32_t at = (off + 4) & mask;
      uint32_t first = length < cap - at ? length : cap - at;
      memcpy(out, s->ring + at, first);
      memcpy(out + first, s->ring, length - first);
      check += out[0];
      free(out);
      head += record_bytes(length);
      got++;
    }
    atomic_store(&s->head, head);
    if (atomic_load(&s->sender_waiting)) futex_wake(&s->head);
  }
  double seconds = now() - start;
  reap(pid);
  if (check == 0 && messages > 0 && size > 0) fprintf(stderr, "(no data)\n");
  printf("{\"seconds\":%.9f,\"messages\":%ld}\n", seconds, got);
  return 0;
}
