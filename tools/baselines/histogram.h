/* histogram.h: a latency histogram with bounded relative error (log-linear buckets, HdrHistogram's idea).
 *
 * Values are unsigned 64-bit integers (nanoseconds here). Values below 2^(SUB+1) get one bucket each (exact).
 * Above that, every power-of-two range [2^e, 2^(e+1)) is split into 2^SUB equal buckets, so a bucket is at
 * most 2^-SUB of the values it holds wide: with SUB = 7 a reported percentile is within 0.8% above the true
 * value (it reports the highest value its bucket can hold, never an understatement). The largest value is
 * also kept exactly. Recording is a few shifts and one increment: no allocation, no floating point.
 */
#ifndef BASELINES_HISTOGRAM_H
#define BASELINES_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB 7
#define HIST_BUCKETS ((64 - HIST_SUB + 1) << HIST_SUB)

struct histogram {
    uint64_t count, max;
    uint64_t buckets[HIST_BUCKETS];
};

void hist_reset(struct histogram *h);
void hist_record(struct histogram *h, uint64_t value);
/* The smallest bucket bound below or at which at least q (0 < q <= 1) of the values lie; q = 1 gives the
 * exact maximum. 0 when empty. */
uint64_t hist_quantile(const struct histogram *h, double q);

#endif
