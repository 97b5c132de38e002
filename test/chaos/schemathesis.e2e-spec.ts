// Generated requests: schemathesis (from PyPI) reads the API's own OpenAPI document and sends
// at least 1,000 requests built from it, valid and invalid, to every operation. None may
// answer 5xx, and every answer must match the document: its status codes, content types and
// schemas. A worker runs, so that tasks the fuzzer submits are taken and finish as well.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestStack } from '../support/stack';
import { schemathesis } from '../support/tools';
import { recordScenario, scaled } from './chaos';

const CASES_PER_OPERATION = scaled(400, 150);
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];

describe('chaos: generated requests from the OpenAPI document', () => {
  const stack = new TestStack({ LOG_LEVEL: 'warn' });
  beforeAll(async () => {
    await stack.startApi();
    await stack.startWorker();
  });
  afterAll(() => stack.stop());

  it('never answers 5xx or outside the document, over 1,000+ generated requests', () => {
    const reports = mkdtempSync(join(tmpdir(), 'threadline-schemathesis-'));
    const run = spawnSync(
      schemathesis(),
      [
        'run',
        `${stack.baseUrl}/api/docs-json`,
        '--checks',
        CHECKS.join(','),
        '--max-examples',
        String(CASES_PER_OPERATION),
        '--seed',
        '20261128',
        '--report',
        'ndjson',
        '--report-dir',
        reports,
        '--no-color',
      ],
      // Its working directory is the report directory: it keeps a cache there.
      { cwd: reports, encoding: 'utf8', timeout: 1_500_000, maxBuffer: 256 * 1024 * 1024 },
    );
    const events = readdirSync(reports)
      .filter((file) => file.endsWith('.ndjson'))
      .flatMap((file) => readFileSync(join(reports, file), 'utf8').split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const cases = events.filter((event) => 'ScenarioFinished' in event).length;
    const output = `${run.stdout}\n${run.stderr}`;
    const generated = Number(/(\d+) generated/.exec(output)?.[1] ?? 0);
    recordScenario({
      scenario: 'generated requests',
      load: `${generated} schemathesis cases`,
      faults: CHECKS.join(', '),
    });
    expect({ status: run.status, output: run.status === 0 ? '' : output.slice(-6000) }).toEqual({
      status: 0,
      output: '',
    });
    expect(Math.max(generated, cases)).toBeGreaterThanOrEqual(1000);
  }, 1_800_000);
});
