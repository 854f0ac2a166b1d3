import { describe, expect, it } from 'vitest';
import { eventId, stableStringify } from './cloud-event.ts';
import { isTerminal, mapStatus } from './status.ts';

describe('stableStringify', () => {
  it('gives equal values equal text whatever their key order', () => {
    expect(stableStringify({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(stableStringify({ a: [{ c: 3, d: 2 }], b: 1 }));
    expect(stableStringify({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('keeps array order, which matters', () => {
    expect(stableStringify([1, 2])).not.toBe(stableStringify([2, 1]));
  });
});

describe('eventId', () => {
  it('is the same for the same parts, and differs by source and by any part', () => {
    const parts = ['t', 'subject', [['job', 'a']]];
    expect(eventId('bk-job', parts)).toBe(eventId('bk-job', ['t', 'subject', [['job', 'a']]]));
    expect(eventId('bk-job', parts)).not.toBe(eventId('thain', parts));
    expect(eventId('bk-job', parts)).not.toBe(eventId('bk-job', ['t', 'subject', [['job', 'b']]]));
    expect(eventId('bk-job', parts)).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('status', () => {
  it('maps through a table, unknown values to unknown, never through the prototype', () => {
    const table: Partial<Record<number, 'pending' | 'succeeded'>> = { 1: 'pending', 3: 'succeeded' };
    expect(mapStatus(table, 3)).toBe('succeeded');
    expect(mapStatus(table, 99)).toBe('unknown');
    expect(mapStatus<string>({ Success: 'succeeded' }, 'toString')).toBe('unknown');
  });

  it('calls succeeded, failed, skipped and cancelled terminal, and nothing else', () => {
    expect(
      ['succeeded', 'failed', 'skipped', 'cancelled', 'running', 'cancelling', 'paused', 'unknown'].map((s) => isTerminal(s as never)),
    ).toEqual([true, true, true, true, false, false, false, false]);
  });
});
