/*
 * The floor for copying into memory that is already mapped and touched.
 *
 *   memcpy_bench <total-bytes> <chunk-bytes> <passes>
 *
 * Copies total bytes from one warm buffer to another in chunk-sized memcpy calls, once untimed
 * and then `passes` times timed; prints the median pass as {"gbPerSec":..,"passes":..}.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void copy_all(unsigned char *dst, const unsigned char *src, size_t total, size_t chunk) {
  for (size_t off = 0; off < total; off += chunk) {
    size_t n = total - off < chunk ? total - off : chunk;
    memcpy(dst + off, src + off, n);
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s <total-bytes> <chunk-bytes> <passes>\n", argv[0]);
    return 2;
  }
  size_t total = strtoull(argv[1], NULL, 10);
  size_t chunk = strtoull(argv[2], NULL, 10);
  int passes = atoi(argv[3]);
  if (total == 0 || chunk == 0 || passes < 1) return 2;
  unsigned char *src = malloc(total);
  unsigned char *dst = malloc(total);
  double *rates = malloc(sizeof(double) * (size_t)passes);
  if (!src || !dst || !rates) {
    perror("malloc");
    return 1;
  }
  /* Touch every page of both buffers so no pass pays for page faults. */
  memset(src, 1, total);
  memset(dst, 0, total);
  copy_all(dst, src, total, chunk);
  unsigned long sink = 0;
  for (int p = 0; p < passes; p++) {
    src[(size_t)p % total] = (unsigned char)p;
    double start = now();
    copy_all(dst, src, total, chunk);
    rates[p] = (double)total / (now() - start) / 1e9;
    sink += dst[(size_t)p % total];
  }
  qsort(rates, (size_t)passes, sizeof(double), cmp);
  double median = passes % 2 ? rates[passes / 2] : (rates[passes / 2 - 1] + rates[passes / 2]) / 2;
  /* sink keeps the copies observable. */
  printf("{\"gbPerSec\":%.4f,\"passes\":%d,\"check\":%lu}\n", median, passes, sink);
  free(src);
  free(dst);
  free(rates);
  return 0;
}
