// The OpenAPI document describes every endpoint, and the queue dashboard is served, where
// the README says they are.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/services';
import { TestStack } from '../support/stack';

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, unknown>; requestBody?: unknown; parameters?: { name: string }[] }
    >
  >;
  components: { schemas: Record<string, unknown> };
}

describe('OpenAPI and the queue dashboard', () => {
  const stack = new TestStack();

  beforeAll(() => stack.startApi());
  afterAll(() => stack.stop());

  it('serves an OpenAPI 3 document with every endpoint, body, response and error', async () => {
    const reply = await stack.request<OpenApi>('GET', '/api/docs-json');
    expect(reply.status).toBe(200);
    const doc = reply.body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/v1/flows',
        '/api/v1/queues',
        '/api/v1/tasks',
        '/api/v1/tasks/{id}',
        '/api/v1/traces/{id}',
        '/health',
        '/ready',
      ].sort(),
    );
    const submit = doc.paths['/api/v1/tasks'].post;
    expect(submit.requestBody).toBeDefined();
    expect(Object.keys(submit.responses).sort()).toEqual([
      '202',
      '400',
      // The high queue without its grant, when API keys are on.
      '403',
      '409',
      '413',
      '415',
      '422',
      '503',
    ]);
    expect(submit.parameters?.map((p) => p.name)).toContain('Idempotency-Key');
    expect(Object.keys(doc.paths['/api/v1/tasks/{id}'].get.responses).sort()).toEqual([
      '200',
      '400',
      '404',
      '503',
    ]);
    expect(Object.keys(doc.paths['/api/v1/tasks/{id}'].delete.responses).sort()).toEqual([
      '200',
      '400',
      '404',
      '409',
      '503',
    ]);
    const trace = doc.paths['/api/v1/traces/{id}'].get;
    expect(Object.keys(trace.responses).sort()).toEqual(['200', '400', '404', '503']);
    expect(trace.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['since', 'until', 'limit']),
    );
    const flows = doc.paths['/api/v1/flows'].get;
    expect(Object.keys(flows.responses).sort()).toEqual(['200', '400', '503']);
    expect(flows.parameters?.map((p) => p.name).sort()).toEqual(
      [
        'since',
        'until',
        'status',
        'task_type',
        'queue',
        'service',
        'min_duration_ms',
        'limit',
        'cursor',
        'histogram',
      ].sort(),
    );
    // A trace says whether it was cut.
    expect(doc.components.schemas.TraceView).toMatchObject({
      properties: { truncated: { type: 'boolean' } },
      required: expect.arrayContaining(['lines', 'truncated']) as unknown,
    });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'SubmitTaskDto',
        'TaskView',
        'ProblemView',
        'CalculateVarData',
        'BatchVarData',
        'EchoData',
      ]),
    );
  });

  it('serves the OpenAPI document, its UI and the dashboard at the paths the README gives', async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const path = (pattern: RegExp): string => pattern.exec(readme)?.[1] ?? 'not in the README';
    const json = await stack.request<OpenApi>('GET', path(/OpenAPI document at `([^`]+)`/));
    expect(json.status).toBe(200);
    expect(json.body?.openapi).toMatch(/^3\./);
    const ui = await stack.request('GET', path(/\(to browse: `([^`]+)`\)/));
    expect(ui.text).toMatch(/swagger-ui/i);
    const dashboard = await stack.request('GET', path(/queue\s+dashboard at `([^`]+)`/));
    expect(dashboard.text).toMatch(/<div id="root">/);
  });

  it('serves the queue dashboard at /admin/queues', async () => {
    const reply = await stack.request('GET', '/admin/queues');
    expect(reply.status).toBe(200);
    expect(reply.text).toMatch(/<div id="root">/);
    const api = await stack.request<{ queues: { name: string }[] }>(
      'GET',
      '/admin/queues/api/queues',
    );
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q) => q.name).sort()).toEqual(['high', 'low', 'medium']);
  });
});
