/* loadgen: single-threaded, verifying load generator for TCP echo servers (epoll + timerfd).
 *
 *     loadgen -p PORT [-c CONNS=50] [-s BYTES=64] [-d DEPTH=1] [-t SECS=10] [-w WARMUP=0] [-r RATE=0]
 *             [-h 127.x.x.x]
 *
 * What goes on the wire. Each connection sends one endless byte stream, cut into messages of BYTES bytes; the
 * server sends the same bytes back. Byte k of connection i is pattern[(base_i + k) mod P] (P prime, the table
 * filled from a fixed pseudo-random sequence, base_i different per connection), so every echoed byte is checked
 * against what it must be with one memcmp per read; a wrong byte, a byte too many, an early close or a failed
 * connect prints errors=1 and exits 1 (the line then carries no figures to trust).
 *
 * Closed loop (RATE = 0): every connection keeps DEPTH messages in flight; each time a message's last byte
 * comes back, the next one is owed at once. Latency = completion - the moment the message was owed.
 *
 * Open loop (-r RATE, messages per second over all connections): message g (g = 0, 1, 2...) is scheduled at
 * start + g / RATE and goes on connection g mod CONNS, whatever happened to earlier messages: a server stall
 * does not slow the sending down. Latency = completion - *scheduled* time, so time a message spent waiting
 * to be sent (behind a full socket, or behind this generator itself) counts: coordinated omission cannot hide
 * a stall. lag_* reports how late this generator noticed messages were due (its own share). After the window,
 * messages scheduled inside it get up to 1 s to complete; any still missing is recorded with the latency it
 * had reached then (a lower bound) and counted as unfinished.
 *
 * Timing: WARMUP seconds run unmeasured, then SECS are measured. Deadlines (phase ends, the next scheduled
 * message) are one absolute CLOCK_MONOTONIC timerfd in the epoll set. Latencies go to a log-linear histogram
 * (histogram.h, <= 0.8% relative error). Output, one key=value line on stdout:
 *
 *   msgs_per_s MBps p50_us p90_us p99_us p999_us max_us conns size depth secs minconn_msgs cli_cpu errors mode
 *   (open loop also) rate lag_p99_us lag_max_us unfinished
 *
 * msgs_per_s counts measured messages (closed: completed in the window; open: scheduled in the window and
 * completed); minconn_msgs is the slowest connection's count; cli_cpu is this process's CPU % over the window.
 */
#define _GNU_SOURCE
#include "histogram.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define PAT 100003u            /* prime; the table holds 2*PAT bytes so any window of <= PAT bytes is contiguous */
#define CHUNK 65536u           /* bytes per read/write call; <= PAT */
#define DRAIN_NS 1000000000ull /* open loop: how long in-window messages may still complete after the window */

struct conn {
    int fd, id, out_armed, dirty;
    uint64_t base;             /* pattern offset of this connection's stream */
    uint64_t tx, goal, rx;     /* bytes written, bytes owed so far, bytes echoed back and checked */
    uint64_t issued, done;     /* messages owed so far, messages completed */
    uint64_t measured;         /* messages of this connection counted in msgs_per_s */
    uint64_t *owed_ns;         /* closed loop: ring of DEPTH times at which the messages in flight were owed */
};

static unsigned char pattern[2 * PAT];
static unsigned char rbuf[CHUNK];
static struct histogram lat, lag;
static struct conn *conns, **dirty;
static int nconns = 50, size = 64, depth = 1, ndirty, ep = -1, tfd = -1;
static double secs = 10, warmup;
static uint64_t rate, t_start, t_warm, t_end, next_g, armed_at, t_measured;   /* t_measured: measuring since */
static int measuring;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void die(const struct conn *c, const char *what, int err)
{
    fprintf(stderr, "loadgen: conn %d: %s%s%s\n", c ? c->id : -1, what, err ? ": " : "", err ? strerror(err) : "");
    printf("msgs_per_s=0 conns=%d size=%d depth=%d errors=1\n", nconns, size, depth);
    exit(1);
}

/* Scheduled time of open-loop message g. */
static uint64_t sched_ns(uint64_t g)
{
    return t_start + (uint64_t)((unsigned __int128)g * 1000000000u / rate);
}

static void set_out(struct conn *c, int on)
{
    if (c->out_armed == on) return;
    struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c };
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die(c, "epoll_ctl", errno);
    c->out_armed = on;
}

/* Writes owed bytes straight from the pattern table; watches for writability only while the socket is full. */
static void flush(struct conn *c)
{
    while (c->tx < c->goal) {
        uint64_t n = c->goal - c->tx;
        if (n > CHUNK) n = CHUNK;
        ssize_t w = send(c->fd, pattern + (c->base + c->tx) % PAT, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            die(c, "send", errno);
        }
        c->tx += (uint64_t)w;
    }
    set_out(c, c->tx < c->goal);
}

static void owe(struct conn *c)
{
    c->goal += (uint64_t)size;
    c->issued++;
    if (!c->dirty) { c->dirty = 1; dirty[ndirty++] = c; }
}

/* One message of c completed at time t. */
static void complete(struct conn *c, uint64_t t)
{
    if (rate == 0) {
        uint64_t *slot = &c->owed_ns[c->done % (uint64_t)depth];
        if (measuring) { hist_record(&lat, t - *slot); c->measured++; }
        c->done++;
        *slot = t;                                     /* the freed slot carries the next message */
        owe(c);
        return;
    }
    uint64_t s = sched_ns(c->done * (uint64_t)nconns + (uint64_t)c->id);
    if (s >= t_warm && s < t_end) { hist_record(&lat, t - s); c->measured++; }
    c->done++;
}

static void on_readable(struct conn *c)
{
    ssize_t n = recv(c->fd, rbuf, CHUNK, 0);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
        die(c, "recv", errno);
    }
    if (n == 0) die(c, "server closed the connection early", 0);
    if (c->rx + (uint64_t)n > c->tx) die(c, "server echoed more bytes than were sent", 0);
    const unsigned char *want = pattern + (c->base + c->rx) % PAT;
    if (memcmp(rbuf, want, (size_t)n) != 0) {
        size_t i = 0;
        while (rbuf[i] == want[i]) i++;
        fprintf(stderr, "loadgen: conn %d: byte %llu of the stream is 0x%02x, expected 0x%02x\n", c->id,
                (unsigned long long)(c->rx + i), rbuf[i], want[i]);
        die(c, "echo mismatch", 0);
    }
    c->rx += (uint64_t)n;
    uint64_t t = now_ns();
    while (c->rx >= (c->done + 1) * (uint64_t)size) complete(c, t);
}

/* Open loop: every message whose scheduled time has come (and lies before the window's end) is owed now. */
static void schedule_due(uint64_t t)
{
    for (uint64_t s; (s = sched_ns(next_g)) <= t && s < t_end; next_g++) {
        if (s >= t_warm) hist_record(&lag, t - s);
        owe(&conns[next_g % (uint64_t)nconns]);
    }
}

static void flush_dirty(void)
{
    for (int i = 0; i < ndirty; i++) { dirty[i]->dirty = 0; flush(dirty[i]); }
    ndirty = 0;
}

/* Sleeps until an event or the absolute deadline, whichever is first; returns the epoll_wait count. */
static int wait_until(struct epoll_event *evs, int max, uint64_t deadline)
{
    int timeout = -1;
    if (deadline <= now_ns()) timeout = 0;
    else if (deadline != armed_at) {
        struct itimerspec its = { .it_value = { (time_t)(deadline / 1000000000ull), (long)(deadline % 1000000000ull) } };
        if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) die(NULL, "timerfd_settime", errno);
        armed_at = deadline;
    }
    int n = epoll_wait(ep, evs, max, timeout);
    if (n < 0 && errno != EINTR) die(NULL, "epoll_wait", errno);
    return n < 0 ? 0 : n;
}

static void handle(struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        struct conn *c = evs[i].data.ptr;
        if (c == NULL) {                               /* the timerfd: clear it; the caller checks the clock */
            uint64_t ticks;
            if (read(tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN && errno != EINTR) die(NULL, "timerfd", errno);
            armed_at = 0;
            continue;
        }
        if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
        if (evs[i].events & EPOLLOUT) flush(c);
    }
}

static void connect_all(struct in_addr host, uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = host };
    for (int i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        c->id = i;
        c->base = ((uint64_t)i * 7919u + 101u) % PAT;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) die(c, "socket", errno);
        if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) die(c, "connect", errno);
        struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die(c, "epoll_ctl", errno);
        c->out_armed = 1;
    }
    struct epoll_event evs[256];
    uint64_t deadline = now_ns() + 5000000000ull;
    for (int connected = 0; connected < nconns;) {
        if (now_ns() >= deadline) die(NULL, "connect timed out after 5 s", 0);
        int n = epoll_wait(ep, evs, 256, 100);
        if (n < 0 && errno != EINTR) die(NULL, "epoll_wait", errno);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            int err = 0, one = 1;
            socklen_t len = sizeof err;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
            if (err != 0) die(c, "connect", err);
            (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            set_out(c, 0);                             /* from now on: readable, and writable only when full */
            connected++;
        }
    }
}

static double number(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "loadgen: -%s: bad value '%s' (%g..%g)\n", opt, s, lo, hi);
        exit(2);
    }
    return v;
}

static void parse(int argc, char **argv, struct in_addr *host, uint16_t *port)
{
    int opt;
    host->s_addr = htonl(INADDR_LOOPBACK);
    *port = 0;
    while ((opt = getopt(argc, argv, "p:c:s:d:t:w:r:h:")) != -1) {
        switch (opt) {
        case 'p': *port = (uint16_t)number("p", optarg, 1, 65535); break;
        case 'c': nconns = (int)number("c", optarg, 1, 60000); break;
        case 's': size = (int)number("s", optarg, 1, 1 << 24); break;
        case 'd': depth = (int)number("d", optarg, 1, 1 << 16); break;
        case 't': secs = number("t", optarg, 0.01, 3600); break;
        case 'w': warmup = number("w", optarg, 0, 3600); break;
        case 'r': rate = (uint64_t)number("r", optarg, 0, 1e9); break;
        case 'h':
            if (inet_pton(AF_INET, optarg, host) != 1 || (ntohl(host->s_addr) >> 24) != 127) {
                fprintf(stderr, "loadgen: -h must be an IPv4 loopback address (127.x.x.x)\n");
                exit(2);
            }
            break;
        default:
            fprintf(stderr, "usage: loadgen -p PORT [-c CONNS] [-s BYTES] [-d DEPTH] [-t SECS] [-w WARMUP] [-r RATE] [-h HOST]\n");
            exit(2);
        }
    }
    if (*port == 0 || optind != argc) {
        fprintf(stderr, "loadgen: -p PORT is required (and nothing else may follow the options)\n");
        exit(2);
    }
}

/* Raises the soft fd limit to the hard one so that CONNS connections fit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    struct in_addr host;
    uint16_t port;
    parse(argc, argv, &host, &port);
    raise_fd_limit();
    uint64_t x = 0x2545F4914F6CDD1Dull;                /* splitmix64 fills the pattern table */
    for (unsigned i = 0; i < PAT; i++) {
        uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        pattern[i] = pattern[i + PAT] = (unsigned char)(z ^ (z >> 31));
    }
    conns = calloc((size_t)nconns, sizeof *conns);
    dirty = calloc((size_t)nconns, sizeof *dirty);
    uint64_t *rings = rate == 0 ? calloc((size_t)nconns * (size_t)depth, sizeof *rings) : NULL;
    if (conns == NULL || dirty == NULL || (rate == 0 && rings == NULL)) die(NULL, "out of memory", 0);
    ep = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep < 0 || tfd < 0) die(NULL, "epoll_create1/timerfd_create", errno);
    struct epoll_event tev = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev) < 0) die(NULL, "epoll_ctl", errno);
    connect_all(host, port);

    t_start = now_ns();
    t_warm = t_start + (uint64_t)(warmup * 1e9);
    t_end = t_warm + (uint64_t)(secs * 1e9);
    measuring = warmup == 0;
    t_measured = t_start;
    double cpu0 = cpu_seconds(), cpu1 = -1;
    for (int i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        if (rate != 0) continue;
        c->owed_ns = rings + (size_t)i * (size_t)depth;
        for (int k = 0; k < depth; k++) { c->owed_ns[k] = t_start; owe(c); }
    }
    struct epoll_event evs[512];
    uint64_t t = t_start, stop_at = t_end;
    for (;;) {
        if (rate != 0) schedule_due(t);
        flush_dirty();
        uint64_t deadline = stop_at;
        if (!measuring && t_warm < deadline) deadline = t_warm;
        if (rate != 0 && t < t_end && sched_ns(next_g) < deadline) deadline = sched_ns(next_g);
        handle(evs, wait_until(evs, 512, deadline));
        t = now_ns();
        if (!measuring && t >= t_warm) { measuring = 1; t_measured = t; cpu0 = cpu_seconds(); }
        if (t >= t_end && cpu1 < 0) {
            cpu1 = cpu_seconds();
            if (rate == 0) break;                      /* closed loop: the window is over */
            stop_at = t_end + DRAIN_NS;
        }
        if (t >= stop_at) break;
        if (rate != 0 && t >= t_end) {                 /* draining: done once every in-window message is back */
            int pending = 0;
            for (int i = 0; i < nconns && !pending; i++) pending = conns[i].done < conns[i].issued;
            if (!pending) break;
        }
    }

    uint64_t total = 0, min_conn = UINT64_MAX, unfinished = 0;
    for (int i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        for (uint64_t k = c->done; rate != 0 && k < c->issued; k++) {
            uint64_t s = sched_ns(k * (uint64_t)nconns + (uint64_t)c->id);
            if (s >= t_warm && s < t_end) { hist_record(&lat, t - s); unfinished++; }
        }
        total += c->measured;
        if (c->measured < min_conn) min_conn = c->measured;
        close(c->fd);
    }
    close(tfd);
    close(ep);
    /* Closed loop: completions were counted from the first wake-up after the warm-up to the last one, which
     * can differ from the nominal window by one wait; open loop: messages scheduled in the nominal window. */
    double window = (double)(rate == 0 ? t - t_measured : t_end - t_warm) / 1e9;
    printf("msgs_per_s=%.0f MBps=%.2f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f conns=%d size=%d "
           "depth=%d secs=%.2f minconn_msgs=%llu cli_cpu=%.0f errors=0 mode=%s",
           (double)total / window, (double)total * size / window / 1e6, hist_quantile(&lat, 0.5) / 1e3,
           hist_quantile(&lat, 0.9) / 1e3, hist_quantile(&lat, 0.99) / 1e3, hist_quantile(&lat, 0.999) / 1e3,
           hist_quantile(&lat, 1.0) / 1e3, nconns, size, depth, window, (unsigned long long)min_conn,
           100.0 * (cpu1 - cpu0) / window, rate ? "open" : "closed");
    if (rate != 0)
        printf(" rate=%llu lag_p99_us=%.1f lag_max_us=%.1f unfinished=%llu", (unsigned long long)rate,
               hist_quantile(&lag, 0.99) / 1e3, hist_quantile(&lag, 1.0) / 1e3, (unsigned long long)unfinished);
    printf("\n");
    free(rings);
    free(dirty);
    free(conns);
    return 0;
}
