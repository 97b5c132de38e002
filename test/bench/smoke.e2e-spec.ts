// The benchmark suite at tiny sizes (npm run bench -- --smoke), so that it keeps working: every
// section runs against the real services and its peers (the Python stack installed from PyPI
// into its venv), every row of the report is filled with a measured number, and the suite
// fails only when it cannot measure, never because a goal was missed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ELASTICSEARCH_URL, REDIS_URL, repoRoot } from '../support/services';

interface Run {
  code: number | null;
  stderr: string;
}

function bench(args: string[], env: Record<string, string> = {}, script = 'run.mts'): Promise<Run> {
  const child = spawn(process.execPath, [join(repoRoot, 'bench', script), ...args], {
    cwd: repoRoot,
    env: { ...process.env, REDIS_URL, ELASTICSEARCH_URL, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done) => child.once('exit', (code) => done({ code, stderr })));
}

/** The cells of each table row of a Markdown report, without the header and rule rows. */
function tableRows(report: string): string[][] {
  return report
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
    .map((line) => line.slice(2, -2).split(' | '))
    .filter((cells) => !['figure', 'latency (ms)', 'trace'].includes(cells[0]));
}

describe('npm run bench -- --smoke', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'threadline-bench-smoke-')), 'RESULTS.md');
  let run: Run;
  let report: string;

  beforeAll(async () => {
    run = await bench(['--smoke', '--out', out]);
    report = readFileSync(out, 'utf8');
  }, 900_000);

  it('measures every section and exits 0, whatever the goals say', () => {
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    const figures = tableRows(report).map((cells) => `${cells[0]} / ${cells.at(-1)}`);
    for (const expected of [
      /POST \/api\/v1\/tasks, 2 processes, requests\/s \/ FastAPI/,
      /POST \/api\/v1\/tasks, 2 processes, p99 latency \(ms\) \/ FastAPI/,
      /submit → started/,
      /submit → completed/,
      /POST \/api\/v1\/tasks, requests\/s \/ bare Express/,
      /peak RSS of the API under submit/,
      /with context on/,
      /peak RSS of a worker draining/,
      /no-op tasks, tasks\/s \/ plain BullMQ Worker/,
      /no-op tasks, tasks\/s \/ one Celery worker/,
      /one log line.* \/ bare pino/,
      /one log line.* \/ winston/,
      /lines into Elasticsearch/,
      /with shipping on/,
      /trace by correlation_id/,
      /trace by request_id/,
      /trace by task_id/,
      /trace by trace\.id/,
    ]) {
      expect(figures.some((figure) => expected.test(figure))).toBe(true);
    }
    expect(report).toMatch(/Write-to-searchable lag at 500 lines\/s for 2 s \(\d+ lines/);
  });

  it('fills every cell with a measured number', () => {
    for (const cells of tableRows(report)) {
      const numbers = cells.filter((cell) => /^[\d.]+$/.test(cell)).map(Number);
      expect({ row: cells[0], numbers: numbers.length > 0 }).toEqual({
        row: cells[0],
        numbers: true,
      });
      for (const n of numbers) expect(Number.isFinite(n)).toBe(true);
    }
    expect(report).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('exits non-zero, naming the cause, when it cannot measure', async () => {
    const nothing = `http://127.0.0.1:${await freePort()}`;
    const failed = await bench(['--smoke', '--only', 'trace', '--out', `${out}.failed`], {
      ELASTICSEARCH_URL: nothing,
    });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/es-setup failed/);
  });
});

describe('npm run bench:cluster -- --smoke', () => {
  it('measures one Redis against a Redis Cluster and replaces only its own section', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'threadline-bench-cluster-')), 'RESULTS.md');
    const stale = '<!-- bench:cluster -->\nan older cluster section\n<!-- /bench:cluster -->';
    writeFileSync(out, `# Benchmark results\n\nthe other sections\n\n${stale}\n\nafter it\n`);
    const run = await bench(['--smoke', '--out', out], {}, 'cluster.mts');
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    const report = readFileSync(out, 'utf8');
    expect(report).toMatch(/^# Benchmark results\n\nthe other sections\n/);
    expect(report).toMatch(/after it\n$/);
    expect(report).not.toContain('an older cluster section');
    const rows = tableRows(report);
    for (const workers of [1, 2, 3]) {
      expect(rows.some((cells) => cells[0].includes(`${workers} worker process(es)`))).toBe(true);
    }
    expect(rows.filter((cells) => cells[0].startsWith('POST /api/v1/tasks'))).toHaveLength(3);
    for (const cells of rows) {
      expect({ row: cells[0], numbers: cells.slice(1).every((c) => /^[\d.]+$/.test(c)) }).toEqual({
        row: cells[0],
        numbers: true,
      });
    }
  }, 300_000);
});
