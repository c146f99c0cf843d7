/* histogram.c: see histogram.h. */
#include "histogram.h"

#include <string.h>

/* Index of the bucket holding v. For v < 2^(SUB+1) it is v itself. Otherwise, with e = floor(log2 v), the
 * top SUB+1 bits t = v >> (e - SUB) lie in [2^SUB, 2^(SUB+1)); the index is (e - SUB) * 2^SUB + t, which
 * continues the exact range without a gap (e = SUB+1 starts at 2^(SUB+1)). */
static unsigned bucket_of(uint64_t v)
{
    if (v < (2u << HIST_SUB)) return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = e - HIST_SUB;
    return (shift << HIST_SUB) + (unsigned)(v >> shift);
}

/* The highest value bucket i can hold (the inverse of bucket_of). */
static uint64_t bucket_high(unsigned i)
{
    if (i < (2u << HIST_SUB)) return i;
    unsigned shift = (i >> HIST_SUB) - 1;
    uint64_t top = (uint64_t)((i & ((1u << HIST_SUB) - 1)) | (1u << HIST_SUB));
    return ((top + 1) << shift) - 1;
}

void hist_reset(struct histogram *h)
{
    memset(h, 0, sizeof *h);
}

void hist_record(struct histogram *h, uint64_t value)
{
    h->buckets[bucket_of(value)]++;
    h->count++;
    if (value > h->max) h->max = value;
}

uint64_t hist_quantile(const struct histogram *h, double q)
{
    if (h->count == 0) return 0;
    if (q >= 1.0) return h->max;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count) rank++;     /* ceil: at least q of the values */
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t high = bucket_high(i);
            return high < h->max ? high : h->max;
        }
    }
    return h->max;
}
