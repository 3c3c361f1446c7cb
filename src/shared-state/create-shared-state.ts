import type { Logger } from 'pino';
import { InProcessState } from './in-process-state.js';
import { RedisState } from './redis-state.js';
import type { SharedState } from './shared-state.js';

/** REDIS_URL set: Redis, connecting in the background; absent: the process (one API process). */
export function createSharedState(config: { REDIS_URL?: string | undefined }, logger: Logger): SharedState {
  if (!config.REDIS_URL) return new InProcessState();
  const state = new RedisState({ url: config.REDIS_URL, logger });
  state.start();
  return state;
}
