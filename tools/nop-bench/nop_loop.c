// nop_loop: the C yardstick for the proactor's cheapest round trip. A liburing loop keeps BATCH IORING_OP_NOPs in
// flight; each iteration is one io_uring_submit_and_wait(1) (submit the re-armed nops, wait for a completion), then
// every CQE is counted and its nop prepared again -- what ProactorLoop does for Operation.Nop + Resubmit from the
// completion callback (tools/nop-bench/NopLoop). Prints one key=value line.
//
//   nop_loop [-b BATCH=1] [-t SECS=3] [-w WARMUP_SECS=1] [-f plain|defer]
//     -f defer: IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN (the flags LinuxEvent's ring uses when the
//               kernel has them); plain (default): no setup flags, as peers/echo_uring.c.
#define _GNU_SOURCE
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static void arm(struct io_uring *ring)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (!sqe) { fprintf(stderr, "nop_loop: SQ full\n"); exit(1); }
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, 1);
}

int main(int argc, char **argv)
{
    int batch = 1;
    double secs = 3, warmup = 1;
    const char *flags = "plain";
    int opt;
    while ((opt = getopt(argc, argv, "b:t:w:f:")) != -1) {
        switch (opt) {
        case 'b': batch = atoi(optarg); break;
        case 't': secs = atof(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 'f': flags = optarg; break;
        default:
            fprintf(stderr, "usage: nop_loop [-b BATCH] [-t SECS] [-w WARMUP] [-f plain|defer]\n");
            return 2;
        }
    }
    if (batch < 1 || batch > 1024) { fprintf(stderr, "nop_loop: batch must be 1..1024\n"); return 2; }
    struct io_uring ring;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    if (strcmp(flags, "defer") == 0) p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    unsigned entries = 256;
    while (entries < (unsigned)batch) entries *= 2;
    int r = io_uring_queue_init_params(entries, &ring, &p);
    if (r < 0) { fprintf(stderr, "nop_loop: io_uring_queue_init_params: %s\n", strerror(-r)); return 1; }

    for (int i = 0; i < batch; i++) arm(&ring);
    double start = now_s(), mark = start + warmup, end = mark + secs, t0 = 0, c0 = 0;
    long long done = 0, base = 0, iterations = 0, iterBase = 0;
    int measuring = 0;
    for (;;) {
        r = io_uring_submit_and_wait(&ring, 1);
        if (r < 0 && r != -EINTR && r != -ETIME) { fprintf(stderr, "nop_loop: submit_and_wait: %s\n", strerror(-r)); return 1; }
        iterations++;
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->res < 0) { fprintf(stderr, "nop_loop: nop failed: %s\n", strerror(-cqe->res)); return 1; }
            seen++;
            arm(&ring);
        }
        io_uring_cq_advance(&ring, seen);
        done += seen;
        double t = now_s();           // once per iteration, as the C# loop reads its clock
        if (!measuring && t >= mark) { measuring = 1; t0 = t; c0 = cpu_s(); base = done; iterBase = iterations; }
        else if (measuring && t >= end) {
            double el = t - t0, cpu = cpu_s() - c0;
            long long n = done - base;
            printf("impl=c flags=%s batch=%d nops_per_s=%.0f ns_per_nop=%.1f cpu_ns_per_nop=%.1f nops_per_enter=%.2f secs=%.2f\n",
                   flags, batch, n / el, el * 1e9 / n, cpu * 1e9 / n, (double)n / (iterations - iterBase), el);
            break;
        }
    }
    io_uring_queue_exit(&ring);
    return 0;
}
