/* common.h: the few helpers the two C echo servers (echo_epoll.c, echo_uring.c) share.
 *
 * Both servers take the same command line:
 *
 *     PROGRAM -p PORT [-T MAX_SECONDS]
 *
 * They listen on 127.0.0.1:PORT only. SIGINT, SIGTERM and SIGHUP stop them cleanly (every fd closed, exit 0);
 * -T bounds their lifetime (SIGALRM after MAX_SECONDS is handled the same way), so a benchmark that loses track
 * of a server does not leave it running for long. The signals are blocked and read from a signalfd, so the
 * event loop sees a stop request as one more readable fd: no handler, no race between a flag check and a wait.
 */
#ifndef BASELINES_COMMON_H
#define BASELINES_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Per-connection buffer: one read's worth, echoed back before the next read. */
#define ECHO_BUF_BYTES (64 * 1024)

struct server_args {
    uint16_t port;
    unsigned max_seconds;     /* 0: no bound */
};

/* Parses -p PORT [-T MAX_SECONDS]; prints usage and exits 2 on a bad command line. */
void parse_server_args(int argc, char **argv, const char *prog, struct server_args *out);

/* A close-on-exec TCP socket listening on 127.0.0.1:port (SO_REUSEADDR, backlog 1024); non-blocking when asked
 * (epoll accepts until EAGAIN; io_uring needs a blocking one, or it hands EAGAIN back instead of waiting). */
int listen_loopback(uint16_t port, int nonblocking);

/* Blocks SIGINT/SIGTERM/SIGHUP/SIGALRM, ignores SIGPIPE, arms alarm(max_seconds) when non-zero, and returns a
 * (blocking) signalfd that becomes readable when one of those signals arrives. Blocking on purpose: io_uring
 * completes a read of an O_NONBLOCK fd with -EAGAIN at once instead of waiting for the signal. */
int stop_signal_fd(unsigned max_seconds);

/* TCP_NODELAY on, so no echo waits on Nagle's algorithm. */
void set_nodelay(int fd);

/* Every open connection is on an intrusive doubly linked list, so the exit path can close them all. A server's
 * connection struct starts with a struct conn_node. */
struct conn_node {
    struct conn_node *prev, *next;
};

/* For a socket just accepted: sets TCP_NODELAY and returns a new connection record of `size` bytes (uninitialised
 * past its conn_node) pushed onto *open; or, when memory is short, closes the socket, says so and returns NULL. */
void *conn_open(struct conn_node **open, size_t size, int fd, const char *prog);

/* Takes n off *open (the caller closes its socket and frees it). */
void conn_unlink(struct conn_node **open, struct conn_node *n);

/* close() that retries nothing (Linux closes the fd even when close reports EINTR) and ignores fd < 0. */
void close_fd(int fd);

/* Prints "PROG: WHAT: strerror(err)" to stderr and exits 1. */
void die_errno(const char *prog, const char *what, int err) __attribute__((noreturn));

#endif
