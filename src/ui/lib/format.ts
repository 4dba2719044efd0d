// Numbers as the page shows them; null (not measured yet) as an en dash.

const DASH = "–";

export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined) return DASH;
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

export function formatMs(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return DASH;
  const ms = seconds * 1000;
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined) return DASH;
  return `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)} %`;
}

export function formatCount(count: number | null | undefined): string {
  return count === null || count === undefined ? DASH : String(count);
}

/** 42 s, 3 min 5 s, 2 h 4 min. */
export function formatAge(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
