import type { ModuleRef } from '@nestjs/core';
import { loadConfig } from '../../config/load-config';
import { TaskRegistry } from '../task-registry';
import { TASK_TYPE_LIST } from '../types';
import { checkSubmission, MAX_BODY_DEPTH, type SubmissionInput } from './submission-check';

describe(checkSubmission.name, () => {
  const config = loadConfig({});
  const registry = new TaskRegistry({} as ModuleRef);
  registry.register(
    TASK_TYPE_LIST.map((type) => ({
      type: type.name,
      name: type.handler.name,
      instance: new type.handler(config),
      data: type.data,
    })),
  );
  const check = (body: unknown, more: Partial<SubmissionInput> = {}) =>
    checkSubmission(registry, {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      highAllowed: true,
      fingerprint: false,
      ...more,
    });
  const portfolio = (value: number) => ({
    method: 'parametric',
    positions: [{ asset: 'A', value }],
    covariance: [[0.0004]],
  });

  it('gives back the data as JSON text, and the data itself only when it is small', () => {
    const small = check({ type: 'echo', data: { message: 'hi' } });
    expect(small).toMatchObject({ ok: true, type: 'echo', queue: 'medium', priority: 50 });
    if (!small.ok) return;
    expect(JSON.parse(small.dataJson)).toEqual({ message: 'hi' });
    expect(small.bytes).toBe(Buffer.byteLength(small.dataJson));
    expect(small.logged).toEqual({ message: 'hi' });

    const large = check({ type: 'echo', data: { message: 'x'.repeat(3000) } });
    expect(large.ok).toBe(true);
    expect(large.ok ? large.logged : 'refused').toBeUndefined();
  });

  it("splits a batch into its children's inputs, with their defaults, as JSON text", () => {
    const verdict = check({
      type: 'batch_var',
      data: { portfolios: [portfolio(1), portfolio(2)] },
    });
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.children?.map((c) => c.type)).toEqual(['calculate_var', 'calculate_var']);
    const second = JSON.parse(verdict.children?.[1].inputJson ?? '{}') as Record<string, unknown>;
    expect(second).toMatchObject({ positions: [{ asset: 'A', value: 2 }], confidence: 0.99 });
  });

  it('refuses, as data that can cross a thread: bad JSON, depth, server fields, the high queue', () => {
    expect(check('{"type":')).toMatchObject({ ok: false, status: 400 });
    const deep = `{"type":"echo","data":{"message":${'['.repeat(MAX_BODY_DEPTH + 1)}${']'.repeat(MAX_BODY_DEPTH + 1)}}}`;
    expect(check(deep)).toMatchObject({
      ok: false,
      status: 400,
      problem: { title: 'Request body nested too deeply' },
    });
    expect(check({ type: 'echo', data: {}, status: 'completed' })).toMatchObject({
      ok: false,
      status: 400,
      problem: { title: 'Server-owned fields in the request' },
    });
    const high = check({ type: 'echo', data: {}, queue: 'high' }, { highAllowed: false });
    expect(high).toMatchObject({ ok: false, status: 403 });
    expect(!high.ok && high.problem.detail).toMatch(/name:key:high/);
    // The grant is checked before the data: a refused key costs no validation.
    expect(
      check({ type: 'echo', data: { delay_ms: -1 }, queue: 'high' }, { highAllowed: false }),
    ).toMatchObject({ status: 403 });
    expect(structuredClone(high)).toEqual(high);
  });

  it("refuses data the type cannot run, and a cost over the type's limit, with 422", () => {
    const conflict = check({
      type: 'calculate_var',
      data: { ...portfolio(1), returns: { A: Array.from({ length: 200 }, () => 0.01) } },
    });
    expect(conflict).toMatchObject({ ok: false, status: 422 });
    const slow = check({ type: 'echo', data: { delay_ms: 600_000 } });
    expect(slow).toMatchObject({
      ok: false,
      status: 422,
      problem: { title: 'Task over its cost limit' },
    });
  });

  it('fingerprints the body only when asked, the same for any key order', () => {
    expect(check({ type: 'echo', data: {} })).not.toHaveProperty('fingerprint');
    const a = check('{"type":"echo","data":{"message":1,"delay_ms":0}}', { fingerprint: true });
    const b = check('{"data":{"delay_ms":0,"message":1},"type":"echo"}', { fingerprint: true });
    expect(a.ok && a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(a.ok && b.ok && a.fingerprint === b.fingerprint).toBe(true);
  });
});
