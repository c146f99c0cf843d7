/* echo_uring: single-threaded TCP echo server on io_uring (liburing), the C baseline for our proactor.
 *
 *     echo_uring -p PORT [-T MAX_SECONDS]        (127.0.0.1 only; see common.h for the signals)
 *
 * Algorithm. Everything is a submitted operation whose completion drives the next one; nothing polls:
 *
 *   - one multishot ACCEPT on the listening socket posts a completion per new connection (re-armed if the
 *     kernel ends it, i.e. a completion without IORING_CQE_F_MORE);
 *   - one READ on a signalfd completes when a stop signal arrives;
 *   - each connection has exactly one operation in flight at any time, alternating:
 *       RECV into its 64 KiB buffer  ->  n > 0 bytes: SEND buf[0, n)
 *       SEND buf[off, len)           ->  r bytes went out: off += r; if off < len (a short send) SEND the rest
 *                                        again, else RECV the next chunk.
 *     A RECV of 0 (the peer closed) or any error other than EINTR/EAGAIN closes the connection; EINTR/EAGAIN
 *     re-submit the same operation. Because only one operation per connection is ever in flight, a completion
 *     can close and free its connection without racing another completion.
 *
 * The loop calls io_uring_submit_and_wait() once per batch: it submits every request queued while handling
 * the previous batch and sleeps until at least one completion is there, then handles all ready completions.
 * This is the plain form of an io_uring server: no registered files or buffers, no provided-buffer rings, no
 * SQPOLL; sockets stay blocking (io_uring parks a recv on the socket's wait queue instead of blocking a thread).
 *
 * On stop, the ring is torn down first (the kernel cancels what is still in flight), then every connection,
 * the listener and the signalfd are closed, and one summary line goes to stderr.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "echo_uring"
#define SQ_ENTRIES 1024
#define CQ_ENTRIES 8192

enum op { OP_RECV, OP_SEND };

struct conn {
    struct conn_node node;     /* first: on the list of open connections */
    int fd;
    enum op op;                /* the one operation in flight */
    unsigned off, len;         /* while sending: unsent bytes are buf[off, len) */
    unsigned char buf[ECHO_BUF_BYTES];
};

static struct io_uring ring;
static struct conn_node *open_conns;
static unsigned long long echoed_bytes, accepted, short_sends;   /* short_sends: sends that took part */
static int lfd = -1, sfd = -1;
static struct signalfd_siginfo siginfo;

/* user_data of the two operations that are not a connection's (a connection's is its struct's address). */
static char accept_tag, signal_tag;

/* A free submission queue entry: when the queue is full, submit what is queued to make room. */
static struct io_uring_sqe *get_sqe(void)
{
    struct io_uring_sqe *sqe;
    while ((sqe = io_uring_get_sqe(&ring)) == NULL) {
        int r = io_uring_submit(&ring);
        if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) die_errno(PROG, "io_uring_submit", -r);
    }
    return sqe;
}

static void arm_accept(void)
{
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data(sqe, &accept_tag);
}

static void arm_signal(void)
{
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_read(sqe, sfd, &siginfo, sizeof siginfo, 0);
    io_uring_sqe_set_data(sqe, &signal_tag);
}

static void submit_recv(struct conn *c)
{
    struct io_uring_sqe *sqe = get_sqe();
    c->op = OP_RECV;
    io_uring_prep_recv(sqe, c->fd, c->buf, sizeof c->buf, 0);
    io_uring_sqe_set_data(sqe, c);
}

static void submit_send(struct conn *c)
{
    struct io_uring_sqe *sqe = get_sqe();
    c->op = OP_SEND;
    io_uring_prep_send(sqe, c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
    io_uring_sqe_set_data(sqe, c);
}

static void conn_close(struct conn *c)
{
    close_fd(c->fd);
    conn_unlink(&open_conns, &c->node);
    free(c);
}

static void on_accept(int res, unsigned flags)
{
    if (!(flags & IORING_CQE_F_MORE)) arm_accept();     /* the kernel ended the multishot: start a new one */
    if (res < 0) {
        if (res != -ECONNABORTED && res != -EINTR && res != -EAGAIN)
            fprintf(stderr, PROG ": accept: %s\n", strerror(-res));
        return;
    }
    struct conn *c = conn_open(&open_conns, sizeof *c, res, PROG);
    if (c == NULL) return;
    c->fd = res;
    c->off = c->len = 0;
    accepted++;
    submit_recv(c);
}

static void on_conn(struct conn *c, int res)
{
    if (res == -EINTR || res == -EAGAIN) {              /* nothing happened: the same operation again */
        if (c->op == OP_RECV) submit_recv(c); else submit_send(c);
        return;
    }
    if (res <= 0) {                                    /* recv 0: peer closed; < 0: reset or other error */
        conn_close(c);
        return;
    }
    if (c->op == OP_RECV) {
        c->off = 0;
        c->len = (unsigned)res;
        submit_send(c);
        return;
    }
    c->off += (unsigned)res;
    echoed_bytes += (unsigned long long)res;
    if (c->off < c->len) {                             /* short send: the rest, from where it stopped */
        short_sends++;
        submit_send(c);
    }
    else submit_recv(c);
}

int main(int argc, char **argv)
{
    struct server_args args;
    parse_server_args(argc, argv, PROG, &args);
    sfd = stop_signal_fd(args.max_seconds);
    if (sfd < 0) die_errno(PROG, "signalfd", errno);
    lfd = listen_loopback(args.port, 0);
    if (lfd < 0) die_errno(PROG, "listen on 127.0.0.1", errno);

    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_CQSIZE;                /* room for a completion from every connection at once */
    params.cq_entries = CQ_ENTRIES;
    int r = io_uring_queue_init_params(SQ_ENTRIES, &ring, &params);
    if (r < 0) die_errno(PROG, "io_uring_queue_init (io_uring disabled or unsupported here?)", -r);
    arm_accept();
    arm_signal();
    fprintf(stderr, PROG ": listening on 127.0.0.1:%u\n", (unsigned)args.port);

    int stop = 0;
    while (!stop) {
        r = io_uring_submit_and_wait(&ring, 1);
        if (r < 0) {
            if (r == -EINTR || r == -EAGAIN || r == -EBUSY) continue;
            die_errno(PROG, "io_uring_submit_and_wait", -r);
        }
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            void *tag = io_uring_cqe_get_data(cqe);
            seen++;
            if (tag == &accept_tag) on_accept(cqe->res, cqe->flags);
            else if (tag == &signal_tag) {
                if (cqe->res == -EINTR || cqe->res == -EAGAIN) arm_signal();
                else stop = 1;                         /* a signal (or an unreadable signalfd): stop */
            } else on_conn(tag, cqe->res);
        }
        io_uring_cq_advance(&ring, seen);
    }

    io_uring_queue_exit(&ring);                        /* cancels what is in flight before the fds close */
    while (open_conns) conn_close((struct conn *)open_conns);
    close_fd(lfd);
    close_fd(sfd);
    fprintf(stderr, PROG ": exit signal=%u accepted=%llu bytes=%llu short_sends=%llu\n", siginfo.ssi_signo, accepted,
            echoed_bytes, short_sends);
    return 0;
}
