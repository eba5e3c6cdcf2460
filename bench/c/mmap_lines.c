/*
 * The floor for visiting every line of a file: mmap it and find each newline with memchr.
 *
 *   mmap_lines <file>
 *
 * Counts the lines and their bytes (without the newline) from open() to munmap(), once, and
 * prints {"seconds":..,"cpuSeconds":..,"lines":..,"chars":..,"peakRssMiB":..} (CPU: user +
 * system time of the whole run, steadier than the clock on a busy machine). The bytes are not decoded: C
 * has nothing to make strings of, which is the JavaScript cases' extra work.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <file>\n", argv[0]);
    return 2;
  }
  double start = now();
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
    perror(argv[1]);
    return 1;
  }
  size_t size = (size_t)st.st_size;
  const char *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (base == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  unsigned long long lines = 0, chars = 0;
  const char *p = base, *end = base + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl != NULL ? nl : end;
    lines++;
    chars += (unsigned long long)(stop - p);
    p = nl != NULL ? nl + 1 : end;
  }
  munmap((void *)base, size);
  double seconds = now() - start;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  printf("{\"seconds\":%.6f,\"cpuSeconds\":%.6f,\"lines\":%llu,\"chars\":%llu,\"peakRssMiB\":%.1f}\n",
         seconds, cpu, lines, chars, (double)ru.ru_maxrss / 1024.0);
  return 0;
}
