// Structured JSON logs: one object per line on stderr, with a level threshold. A leaf service.

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const LOG_LEVELS = Object.keys(RANK) as LogLevel[];

export interface Logger {
  log(level: Exclude<LogLevel, "silent">, event: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  if (!(level in RANK)) throw new RangeError(`log level must be one of ${LOG_LEVELS.join(", ")}, got ${level}`);
  return {
    log(at, event, fields = {}) {
      if (RANK[at] < RANK[level]) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level: at, event, ...fields })}\n`);
    },
  };
}
