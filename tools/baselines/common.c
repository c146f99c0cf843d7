/* common.c: see common.h. */
#define _GNU_SOURCE
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned long parse_number(const char *prog, const char *what, const char *s, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *s == '\0' || *end != '\0' || v > max) {
        fprintf(stderr, "%s: bad %s '%s'\n", prog, what, s);
        exit(2);
    }
    return v;
}

void parse_server_args(int argc, char **argv, const char *prog, struct server_args *out)
{
    int opt;
    out->port = 0;
    out->max_seconds = 0;
    while ((opt = getopt(argc, argv, "p:T:")) != -1) {
        switch (opt) {
        case 'p': out->port = (uint16_t)parse_number(prog, "port", optarg, 65535); break;
        case 'T': out->max_seconds = (unsigned)parse_number(prog, "max seconds", optarg, 86400); break;
        default:
            fprintf(stderr, "usage: %s -p PORT [-T MAX_SECONDS]\n", prog);
            exit(2);
        }
    }
    if (out->port == 0 || optind != argc) {
        fprintf(stderr, "usage: %s -p PORT [-T MAX_SECONDS]\n", prog);
        exit(2);
    }
}

int listen_loopback(uint16_t port, int nonblocking)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) return -1;
    int one = 1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1024) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int stop_signal_fd(unsigned max_seconds)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGALRM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -1;
    signal(SIGPIPE, SIG_IGN);                  /* a peer that resets must not kill the server */
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd >= 0 && max_seconds > 0) alarm(max_seconds);
    return fd;
}

void set_nodelay(int fd)
{
    int one = 1;
    /* Failing here only costs latency (Nagle); the echo stays correct, so it is not fatal. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void *conn_open(struct conn_node **open, size_t size, int fd, const char *prog)
{
    struct conn_node *n = malloc(size);
    if (n == NULL) {
        fprintf(stderr, "%s: out of memory for a connection\n", prog);
        close_fd(fd);
        return NULL;
    }
    set_nodelay(fd);
    n->prev = NULL;
    n->next = *open;
    if (*open) (*open)->prev = n;
    *open = n;
    return n;
}

void conn_unlink(struct conn_node **open, struct conn_node *n)
{
    if (n->prev) n->prev->next = n->next; else *open = n->next;
    if (n->next) n->next->prev = n->prev;
}

void close_fd(int fd)
{
    if (fd >= 0) (void)close(fd);
}

void die_errno(const char *prog, const char *what, int err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
    exit(1);
}
