/*
 * memtest: Polyvisor guest memory tester.
 *
 * Allocates SIZE_MB of memory, fills every 4 KiB page with a pattern derived
 * from (page index, per-page generation), then forever:
 *   - rewrites pages round-robin at RATE MB/s (bumping each page's generation),
 *     paced against CLOCK_MONOTONIC;
 *   - re-verifies EVERY word of EVERY page, at least one full sweep per second
 *     (default sweep period 500 ms; -p 0 verifies continuously);
 *   - prints once per second:
 *       MEMTEST hb=<n> sweeps=<n> written_mb=<n> bad=<n> rate_mbps=<n>
 *     and for every bad page found:
 *       MEMTEST BAD page=<index> expected_gen=<n> found=<hex of first bad word>
 *
 * Everything runs in one thread, so the expected generation of every page is
 * always exactly known: a page is never read while it is being rewritten.
 * MB means MiB (256 pages of 4 KiB) throughout.
 *
 * Usage: memtest [-o OUTPUT] [-p SWEEP_PERIOD_MS] [-i PAGE] SIZE_MB[:RATE_MBPS] [RATE_MBPS]
 *   -i PAGE  self-test: corrupt one word of PAGE right after heartbeat 2
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PAGE_BYTES 4096u
#define PAGE_WORDS (PAGE_BYTES / 8u)
#define PAGES_PER_MB 256u
#define VERIFY_CHUNK 64u          /* pages verified between pacing checks */
#define MAX_WRITE_BURST 256u      /* pages written between verify chunks */
#define MAX_BAD_LINES_PER_HB 64u  /* BAD lines printed per heartbeat interval */
#define WORD_STEP 0x9E3779B97F4A7C15ull

static int out_fd = 1;
static volatile sig_atomic_t stop_requested;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t) {
  struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_requested) {
  }
}

static void emit(const char *fmt, ...) {
  /* "\n<line>\n" in one write(): the line always starts on a fresh line (the
   * shell prompt "guest# " has no newline) and never interleaves with other
   * writers. */
  char buf[256];
  va_list ap;
  buf[0] = '\n';
  va_start(ap, fmt);
  int n = vsnprintf(buf + 1, sizeof buf - 2, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  n += 1;
  if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(out_fd, p, (size_t)n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += w;
    n -= (int)w;
  }
}

static inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* First word of page p at generation g; word i is base + i * WORD_STEP. */
static inline uint64_t page_base(uint64_t p, uint32_t g) {
  return mix64((p << 32) ^ (uint64_t)g ^ 0x506F6C7976697372ull /* "Polyvisr" */);
}

static inline void fill_page(uint64_t *w, uint64_t base) {
  for (unsigned i = 0; i < PAGE_WORDS; i++) w[i] = base + (uint64_t)i * WORD_STEP;
}

/* Returns -1 if the page is intact, else the index of the first bad word. */
static inline int check_page(const uint64_t *w, uint64_t base) {
  uint64_t diff = 0;
  for (unsigned i = 0; i < PAGE_WORDS; i++) diff |= w[i] ^ (base + (uint64_t)i * WORD_STEP);
  if (!diff) return -1;
  for (unsigned i = 0; i < PAGE_WORDS; i++)
    if (w[i] != base + (uint64_t)i * WORD_STEP) return (int)i;
  return 0;
}

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void usage(void) {
  fprintf(stderr, "usage: memtest [-o OUTPUT] [-p SWEEP_PERIOD_MS] [-i PAGE] SIZE_MB[:RATE_MBPS] [RATE_MBPS]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *out_path = NULL;
  long sweep_period_ms = 500;
  long long inject_page = -1;
  int opt;
  while ((opt = getopt(argc, argv, "o:p:i:h")) != -1) {
    switch (opt) {
      case 'o': out_path = optarg; break;
      case 'p': sweep_period_ms = strtol(optarg, NULL, 10); break;
      case 'i': inject_page = strtoll(optarg, NULL, 10); break;
      default: usage();
    }
  }
  if (optind >= argc) usage();
  char *end = NULL;
  unsigned long size_mb = strtoul(argv[optind], &end, 10);
  double rate_mbps = 0;
  if (end && *end == ':') rate_mbps = strtod(end + 1, NULL);
  else if (end && *end) usage();
  if (optind + 1 < argc) rate_mbps = strtod(argv[optind + 1], NULL);
  if (size_mb == 0 || rate_mbps < 0 || sweep_period_ms < 0 || sweep_period_ms > 1000) usage();

  if (out_path) {
    out_fd = open(out_path, O_WRONLY | O_NOCTTY | O_APPEND);
    if (out_fd < 0) {
      perror(out_path);
      return 1;
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  const uint64_t npages = (uint64_t)size_mb * PAGES_PER_MB;
  const size_t bytes = (size_t)npages * PAGE_BYTES;
  uint64_t *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  uint32_t *gen = calloc(npages, sizeof *gen);
  if (mem == MAP_FAILED || !gen) {
    emit("MEMTEST ERROR cannot allocate %lu MB", size_mb);
    return 1;
  }
  int locked = mlock(mem, bytes) == 0;

  uint64_t t0 = now_ns();
  for (uint64_t p = 0; p < npages; p++) fill_page(mem + p * PAGE_WORDS, page_base(p, 0));
  uint64_t t1 = now_ns();
  emit("MEMTEST start size_mb=%lu target_rate_mbps=%g pages=%" PRIu64 " mlock=%d fill_ms=%" PRIu64, size_mb,
       rate_mbps, npages, locked, (t1 - t0) / 1000000ull);

  /* Writes are due at rate_pages_per_ns since w_base_t; backlog is capped at
   * 100 ms worth so a paused guest does not burst afterwards. */
  const double rate_pages_per_ns = rate_mbps * PAGES_PER_MB / 1e9;
  const uint64_t max_backlog = (uint64_t)(rate_pages_per_ns * 1e8) + 1;
  const uint64_t sweep_period_ns = (uint64_t)sweep_period_ms * 1000000ull;
  const uint64_t write_tick_ns = 5000000ull; /* pacing granularity when idle */

  uint64_t w_base_t = t1, w_base_pages = 0; /* pacing baseline */
  uint64_t written_pages = 0, w_cursor = 0;
  uint64_t v_cursor = 0, sweeps = 0, bad = 0;
  int sweeping = 1;
  uint64_t sweep_start = t1, next_sweep = t1;
  uint64_t hb = 0, next_hb = t1 + 1000000000ull, last_hb_t = t1, last_hb_written = 0;
  unsigned bad_lines = 0;
  uint64_t bad_suppressed = 0;

  while (!stop_requested) {
    uint64_t t = now_ns();

    /* 1. paced writes */
    if (rate_pages_per_ns > 0) {
      uint64_t due = w_base_pages + (uint64_t)((double)(t - w_base_t) * rate_pages_per_ns);
      if (due > written_pages + max_backlog) {
        /* cannot keep up (or we were paused): drop the excess backlog */
        w_base_t = t;
        w_base_pages = written_pages + max_backlog;
        due = w_base_pages;
      }
      uint64_t n = due > written_pages ? due - written_pages : 0;
      if (n > MAX_WRITE_BURST) n = MAX_WRITE_BURST;
      for (uint64_t k = 0; k < n; k++) {
        uint64_t p = w_cursor;
        gen[p]++;
        fill_page(mem + p * PAGE_WORDS, page_base(p, gen[p]));
        if (++w_cursor == npages) w_cursor = 0;
      }
      written_pages += n;
    }

    /* 2. verification */
    if (!sweeping && t >= next_sweep) {
      sweeping = 1;
      sweep_start = t;
    }
    if (sweeping) {
      uint64_t endp = v_cursor + VERIFY_CHUNK;
      if (endp > npages) endp = npages;
      for (uint64_t p = v_cursor; p < endp; p++) {
        uint64_t *w = mem + p * PAGE_WORDS;
        uint64_t base = page_base(p, gen[p]);
        int i = check_page(w, base);
        if (i >= 0) {
          bad++;
          if (bad_lines < MAX_BAD_LINES_PER_HB) {
            bad_lines++;
            emit("MEMTEST BAD page=%" PRIu64 " expected_gen=%" PRIu32 " found=%016" PRIx64, p, gen[p], w[i]);
          } else {
            bad_suppressed++;
          }
          fill_page(w, base); /* repair, so each corruption is reported once */
        }
      }
      v_cursor = endp;
      if (v_cursor == npages) {
        v_cursor = 0;
        sweeps++;
        sweeping = 0;
        next_sweep = sweep_start + sweep_period_ns;
      }
    }

    /* 3. heartbeat */
    t = now_ns();
    if (t >= next_hb) {
      hb++;
      double secs = (double)(t - last_hb_t) / 1e9;
      double mb = (double)(written_pages - last_hb_written) / PAGES_PER_MB;
      long rate = secs > 0 ? (long)(mb / secs + 0.5) : 0;
      if (bad_suppressed) emit("MEMTEST BAD suppressed=%" PRIu64, bad_suppressed);
      emit("MEMTEST hb=%" PRIu64 " sweeps=%" PRIu64 " written_mb=%" PRIu64 " bad=%" PRIu64 " rate_mbps=%ld", hb,
           sweeps, written_pages / PAGES_PER_MB, bad, rate);
      last_hb_t = t;
      last_hb_written = written_pages;
      bad_lines = 0;
      bad_suppressed = 0;
      if (hb == 2 && inject_page >= 0 && (uint64_t)inject_page < npages)
        mem[(uint64_t)inject_page * PAGE_WORDS + 7] ^= 0x100; /* self-test corruption */
      next_hb += 1000000000ull;
      if (next_hb <= t) next_hb = t + 1000000000ull;
    }

    /* 4. idle until something is due */
    if (!sweeping) {
      uint64_t wake = next_sweep < next_hb ? next_sweep : next_hb;
      if (rate_pages_per_ns > 0 && t + write_tick_ns < wake) wake = t + write_tick_ns;
      if (wake > t) sleep_until(wake);
    }
  }
  emit("MEMTEST stop hb=%" PRIu64 " sweeps=%" PRIu64 " written_mb=%" PRIu64 " bad=%" PRIu64, hb, sweeps,
       written_pages / PAGES_PER_MB, bad);
  return 0;
}
