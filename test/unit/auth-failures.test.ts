import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AuthFailureBudget } from '../../src/http/middleware/auth-failures.js';
import type { HitCounter } from '../../src/shared-state/shared-state.js';

describe('AuthFailureBudget', () => {
  it('refuses an address from its budget-th failure until its minute ends, then forgets it', async () => {
    let clock = 1_000_000;
    const budget = new AuthFailureBudget(2, undefined, () => clock);
    expect(budget.refusing).toBe(false);
    await budget.fail('198.51.100.1');
    expect(budget.retryAfterS('198.51.100.1')).toBe(0);
    clock += 10_500;
    await budget.fail('198.51.100.1');
    expect(budget.refusing).toBe(true);
    expect(budget.retryAfterS('198.51.100.1')).toBe(50);
    expect(budget.retryAfterS('198.51.100.2')).toBe(0);
    clock += 49_000;
    expect(budget.retryAfterS('198.51.100.1')).toBe(1);
    clock += 1_000;
    expect(budget.refusing).toBe(false);
    expect(budget.retryAfterS('198.51.100.1')).toBe(0);
    // A new minute, a new budget.
    await budget.fail('198.51.100.1');
    expect(budget.retryAfterS('198.51.100.1')).toBe(0);
  });

  it('counts on the shared counter with REDIS_URL and refuses until the window the counter names ends', async () => {
    let clock = 5_000_000;
    const counted: string[] = [];
    const hits: HitCounter = {
      hit: async (key) => {
        counted.push(key);
        return { hits: counted.length === 1 ? 1 : 7, resetAt: clock + 20_000 };
      },
      unhit: async () => undefined,
      resetHits: async () => undefined,
    };
    const budget = new AuthFailureBudget(5, { hits, logger: pino({ level: 'silent' }) }, () => clock);
    await budget.fail('198.51.100.1');
    expect(budget.refusing).toBe(false);
    // Another process's failures brought the count over the budget.
    await budget.fail('198.51.100.1');
    expect(budget.retryAfterS('198.51.100.1')).toBe(20);
    clock += 20_000;
    expect(budget.retryAfterS('198.51.100.1')).toBe(0);
    expect(budget.refusing).toBe(false);
    expect(counted).toEqual(['auth-failures:198.51.100.1', 'auth-failures:198.51.100.1']);
  });

  it('lets requests through, logged, when the shared counter cannot be reached', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const hits: HitCounter = {
      hit: async () => {
        throw new Error('connection refused');
      },
      unhit: async () => undefined,
      resetHits: async () => undefined,
    };
    const budget = new AuthFailureBudget(1, { hits, logger });
    await budget.fail('198.51.100.1');
    expect(budget.refusing).toBe(false);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ event: 'auth_failures.store_unavailable', error: 'connection refused' });
  });
});
