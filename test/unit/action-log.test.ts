import { describe, expect, it } from 'vitest';
import { ActionLog } from '../../src/backends/memory/action-log.js';
import type { Scope } from '../../src/domain/tenancy.js';

const scope = (requestId: string): Scope => ({ tenant: 't', keyId: 'k', role: 'member', requestId });

describe('ActionLog', () => {
  it('keeps a lone create entry and closes it', () => {
    const log = new ActionLog();
    log.begin('vm', 'create', scope('r1'), 't0');
    expect(log.list('vm')).toEqual([{ action: 'create', request_id: 'r1', key_id: 'k', started_at: 't0', finished_at: null, outcome: null }]);
    log.finish('vm', 'success', 't1');
    expect(log.list('vm')[0]).toMatchObject({ outcome: 'success', finished_at: 't1' });
  });

  it('lists newest first, cancels an open entry when another action begins, and hands out copies', () => {
    const log = new ActionLog();
    log.begin('vm', 'create', scope('r1'), 't0');
    log.begin('vm', 'stop', scope('r2'), 't1');
    log.begin('vm', 'delete', scope('r3'), 't2');
    const listed = log.list('vm');
    expect(listed.map((e) => [e.action, e.outcome])).toEqual([['delete', null], ['stop', 'cancelled'], ['create', 'cancelled']]);
    listed[0]!.outcome = 'error';
    expect(log.list('vm')[0]!.outcome).toBeNull();
  });

  it('keeps the newest 100 entries of a VM restarted forever', () => {
    const log = new ActionLog();
    log.begin('vm', 'create', scope('r0'), 't');
    for (let i = 1; i <= 150; i++) log.begin('vm', 'restart', scope(`r${i}`), 't');
    const listed = log.list('vm');
    expect(listed).toHaveLength(100);
    expect(listed[0]!.request_id).toBe('r150');
    expect(listed.at(-1)!.request_id).toBe('r51');
  });

  it('forgets a VM and knows nothing of an unknown one', () => {
    const log = new ActionLog();
    log.begin('vm', 'create', scope('r1'), 't0');
    log.forget('vm');
    expect(log.list('vm')).toEqual([]);
    log.finish('other', 'success', 't1');
    expect(log.list('other')).toEqual([]);
  });
});
