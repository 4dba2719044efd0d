// Every fault run, in the order npm run chaos runs them.
import type { Fault } from "../fault.js";
import { kvExhaust } from "./kv-exhaust.js";
import { modelUnreadable } from "./model-unreadable.js";
import { redisRestart } from "./redis-restart.js";
import { replicaKill } from "./replica-kill.js";
import { stalledSocket } from "./stalled-socket.js";
import { storeFull } from "./store-full.js";

export const FAULTS: readonly Fault[] = [
  replicaKill,
  redisRestart,
  storeFull,
  modelUnreadable,
  kvExhaust,
  stalledSocket,
];
