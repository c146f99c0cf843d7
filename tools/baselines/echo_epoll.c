/* echo_epoll: single-threaded TCP echo server on level-triggered epoll, the C baseline for our reactor.
 *
 *     echo_epoll -p PORT [-T MAX_SECONDS]        (127.0.0.1 only; see common.h for the signals)
 *
 * Algorithm. One epoll set holds the listening socket, a signalfd (the stop request) and every connection.
 * Each connection owns one 64 KiB buffer and is in one of two states:
 *
 *   READING  interest EPOLLIN.  On readiness: recv() once into the empty buffer, then send() it back at once.
 *            If the whole chunk went out, the buffer is empty again and the connection stays READING.
 *   WRITING  interest EPOLLOUT. Entered when send() took only part of the chunk (a short write) or returned
 *            EAGAIN: the rest stays in the buffer, reading stops (so a client that does not read cannot make
 *            us buffer without bound: TCP flow control pushes back on it) and, when the socket is writable,
 *            send() continues from where it stopped. Once the buffer is empty: back to READING.
 *
 * Level-triggered readiness means one recv() per event is enough: if more data is waiting, the next epoll_wait
 * reports the socket again. EINTR is retried; EAGAIN means "not now" and costs nothing; recv() returning 0 (the
 * peer closed) or any other error closes the connection. The listener is non-blocking and accepts until EAGAIN;
 * accepted sockets are non-blocking with TCP_NODELAY. On a stop signal the loop ends, every connection, the
 * listener, the signalfd and the epoll fd are closed, and the server prints one summary line to stderr.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "echo_epoll"
#define MAX_EVENTS 256

struct conn {
    struct conn_node node;     /* first: on the list of open connections */
    int fd;
    int writing;               /* 0: READING (EPOLLIN), 1: WRITING (EPOLLOUT) */
    size_t off, len;           /* unsent bytes are buf[off, len) */
    unsigned char buf[ECHO_BUF_BYTES];
};

static int ep = -1;
static struct conn_node *open_conns;
static unsigned long long echoed_bytes, accepted, short_sends;   /* short_sends: times a send stopped early */

/* Tags for the two fds that are not connections (a connection's tag is its struct's address). */
static char listener_tag, signal_tag;

static void watch(struct conn *c, int op, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(ep, op, c->fd, &ev) < 0) die_errno(PROG, "epoll_ctl", errno);
}

static void conn_close(struct conn *c)
{
    /* close() also removes the fd from the epoll set: this process holds no other reference to the socket. */
    close_fd(c->fd);
    conn_unlink(&open_conns, &c->node);
    free(c);
}

/* Sends buf[off, len). Returns 1 when it is all gone, 0 when the socket is full, -1 on a fatal error. */
static int send_pending(struct conn *c)
{
    while (c->off < c->len) {
        ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) { short_sends++; return 0; }
            return -1;
        }
        c->off += (size_t)n;
        echoed_bytes += (unsigned long long)n;
    }
    c->off = c->len = 0;
    return 1;
}

/* Runs the state machine after send_pending(): switch interest when the state changes, close on error. */
static void after_send(struct conn *c, int sent)
{
    if (sent < 0) { conn_close(c); return; }
    int want_writing = sent == 0;
    if (want_writing != c->writing) {
        c->writing = want_writing;
        watch(c, EPOLL_CTL_MOD, want_writing ? EPOLLOUT : EPOLLIN);
    }
}

static void on_readable(struct conn *c)
{
    ssize_t n;
    do n = recv(c->fd, c->buf, sizeof c->buf, 0); while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) { conn_close(c); return; }     /* 0: orderly close by the peer; < 0: reset or other error */
    c->off = 0;
    c->len = (size_t)n;
    after_send(c, send_pending(c));
}

static void on_accept(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            /* EMFILE/ENFILE/ENOBUFS/ENOMEM: say so and leave the rest in the backlog for the next readiness. */
            fprintf(stderr, PROG ": accept4: %s\n", strerror(errno));
            return;
        }
        struct conn *c = conn_open(&open_conns, sizeof *c, fd, PROG);
        if (c == NULL) continue;
        c->fd = fd;
        c->writing = 0;
        c->off = c->len = 0;
        watch(c, EPOLL_CTL_ADD, EPOLLIN);
        accepted++;
    }
}

static void add_tagged(int fd, void *tag)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die_errno(PROG, "epoll_ctl", errno);
}

int main(int argc, char **argv)
{
    struct server_args args;
    parse_server_args(argc, argv, PROG, &args);
    int sfd = stop_signal_fd(args.max_seconds);
    if (sfd < 0) die_errno(PROG, "signalfd", errno);
    int lfd = listen_loopback(args.port, 1);
    if (lfd < 0) die_errno(PROG, "listen on 127.0.0.1", errno);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die_errno(PROG, "epoll_create1", errno);
    add_tagged(lfd, &listener_tag);
    add_tagged(sfd, &signal_tag);
    fprintf(stderr, PROG ": listening on 127.0.0.1:%u\n", (unsigned)args.port);

    struct epoll_event events[MAX_EVENTS];
    int stop = 0;
    while (!stop) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die_errno(PROG, "epoll_wait", errno);
        }
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &listener_tag) { on_accept(lfd); continue; }
            if (tag == &signal_tag) { stop = 1; continue; }
            struct conn *c = tag;
            /* EPOLLERR/EPOLLHUP arrive whatever the interest: recv() or send() then reports the error. */
            if (c->writing) after_send(c, send_pending(c));
            else on_readable(c);
        }
    }

    struct signalfd_siginfo si;
    int sig = read(sfd, &si, sizeof si) == (ssize_t)sizeof si ? (int)si.ssi_signo : 0;
    while (open_conns) conn_close((struct conn *)open_conns);
    close_fd(lfd);
    close_fd(sfd);
    close_fd(ep);
    fprintf(stderr, PROG ": exit signal=%d accepted=%llu bytes=%llu short_sends=%llu\n", sig, accepted, echoed_bytes,
            short_sends);
    return 0;
}
