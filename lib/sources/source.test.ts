import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { InvalidPayloadError, issueLine } from '../errors.ts';
import { defineRoute } from './source.ts';

const context = { labels: {}, receivedAt: new Date(0), raw: { contentType: '', body: '' } };
const route = defineRoute({
  what: 'test callback',
  schema: v.object({ id: v.string(), steps: v.array(v.object({ code: v.number() })) }),
  normalize: (payload) => ({ type: 'test.job.done', subject: payload.id, data: { status: 'succeeded', sourceStatus: 0 } }),
});

function issuesOf(decoded: unknown): readonly string[] {
  try {
    route.toDraft(decoded, context);
  } catch (error) {
    if (error instanceof InvalidPayloadError) return error.issues.map(issueLine);
    throw error;
  }
  throw new Error('no error');
}

describe('defineRoute', () => {
  it('normalizes a valid payload', () => {
    expect(route.toDraft({ id: 'a', steps: [] }, context)).toMatchObject({ subject: 'a', data: { status: 'succeeded' } });
  });

  it('names each problem by its path: missing fields and wrong types, deep in lists too', () => {
    expect(issuesOf({ steps: [{ code: 1 }, { code: 'x' }] })).toEqual([
      'id: is missing',
      'steps.1.code: Invalid type: Expected number but received "x"',
    ]);
  });

  it('refuses a body that is not an object: an array, text or null', () => {
    expect(issuesOf([1])).toEqual(['(body): expected an object, received an array']);
    expect(issuesOf('text')).toEqual(['(body): expected an object, received string']);
    expect(issuesOf(null)).toEqual(['(body): expected an object, received null']);
  });

  it('puts the first issues in the message, so the error alone says what is wrong', () => {
    try {
      route.toDraft({}, context);
    } catch (error) {
      expect((error as Error).message).toBe('test callback is not valid: id: is missing; steps: is missing');
    }
    expect.assertions(1);
  });
});
