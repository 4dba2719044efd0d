// histogramQuantile: a quantile estimated from cumulative histogram buckets, as Prometheus's histogram_quantile()
// computes it, so the dashboard and a Grafana panel over the same /metrics agree.

/** One cumulative bucket: observations less than or equal to `le` (the last one is +Inf). */
export interface CumulativeBucket {
  readonly le: number;
  readonly count: number;
}

/**
 * The q-quantile (0 <= q <= 1) of the observations counted by `buckets` (sorted by `le`, cumulative, ending with
 * +Inf), interpolated linearly inside the bucket that holds it; null when there are no observations. A quantile in
 * the +Inf bucket is the highest finite bound, as in Prometheus; the first bucket's lower bound is 0.
 */
export function histogramQuantile(q: number, buckets: readonly CumulativeBucket[]): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must lie in [0, 1], got ${q}`);
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank && bucket.count > lowerCount) {
      if (bucket.le === Number.POSITIVE_INFINITY) return lowerBound;
      return lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / (bucket.count - lowerCount);
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}
