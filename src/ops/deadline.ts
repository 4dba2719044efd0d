// Bounded waits for shutdown paths: a close that depends on something outside the process (Redis, a peer, a
// client) must not hold the process past its grace period.

/**
 * Waits for `promise` at most `ms` milliseconds. Resolves true when it settled in time (fulfilled or rejected;
 * a rejection is not rethrown), false when the time ran out first; it never rejects. The timer is cleared either
 * way, so a fast promise leaves nothing keeping the event loop alive.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, timeUp]);
  } finally {
    clearTimeout(timer);
  }
}
