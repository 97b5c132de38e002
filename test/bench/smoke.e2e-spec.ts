// The benchmark suite at tiny sizes (npm run bench -- --smoke), so that it keeps working: every
// section runs against the real services and its peers (the Python stack installed from PyPI
// into its venv), every row of the report is filled with a measured number, and the suite
// fails only when it cannot measure, never because a goal was missed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize, type CallFrame, type CpuProfile } from '../../bench/cpu-profile.mjs';
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
    .filter((cells) => !['figure', 'latency (ms)', 'trace', 'flow list'].includes(cells[0]));
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
      /POST \/api\/v1\/tasks, requests\/s \/ bare Fastify/,
      /peak RSS of the API under submit/,
      /with context on/,
      /with metrics on and scraped every second/,
      /peak RSS of a worker draining/,
      /no-op tasks, 1 worker process, tasks\/s \/ plain BullMQ Worker$/,
      /no-op tasks, 1 worker process, tasks\/s \/ one Celery worker, prefork, 1 pool process/,
      /whole machine \(2 worker processes\), tasks\/s \/ plain BullMQ Worker, 2 processes/,
      /whole machine \(2 worker processes\), tasks\/s \/ one Celery worker, prefork, 2 pool/,
      /one log line.* \/ bare pino/,
      /one log line.* \/ winston/,
      /lines into Elasticsearch/,
      /with shipping on/,
      /trace by correlation_id/,
      /trace by request_id/,
      /trace by task_id/,
      /trace by trace\.id/,
      /flow list, the last hour \(/,
      /flow list, the last hour, status=failed/,
    ]) {
      expect(figures.some((figure) => expected.test(figure))).toBe(true);
    }
    expect(report).toMatch(/Write-to-searchable lag at 500 lines\/s for 2 s \(\d+ lines/);
  });

  it('sets the submit goal against the faster bare server, and names it', () => {
    const bare = tableRows(report).filter((cells) => /^bare \w+ \+ queue\.add/.test(cells.at(-1)!));
    const submit = bare.filter((cells) => cells[0] === 'POST /api/v1/tasks, requests/s');
    expect(submit).toHaveLength(2);
    const fastest = submit.reduce((a, b) => (Number(b[2]) > Number(a[2]) ? b : a));
    expect(fastest.at(-2)).toBe('≥ 0.6');
    expect(fastest.at(-1)).toMatch(/the fastest bare peer of this run$/);
    const slower = submit.find((cells) => cells !== fastest)!;
    expect(slower.at(-2)).toBe('against the fastest');
  });

  it('says how the CPU time split over the processes of each multi-process side', () => {
    const splits = /Each process really works: (.*)\.$/m.exec(report)?.[1] ?? '';
    for (const side of ['Threadline API, 2 processes', 'FastAPI', 'WORKERS=2', 'Celery, prefork']) {
      expect(splits).toContain(side);
    }
    // Two processes that both worked: two shares, neither of them the whole.
    expect(splits).toMatch(/Threadline API, 2 processes: \d+\/\d+/);
    expect(splits).toMatch(/WORKERS=2: \d+\/\d+/);
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
    // REDIS_SHARDS=1 against 3: the end-to-end figures, and each of the 3 masters' share.
    expect(
      rows.filter((cells) =>
        /tasks\/s end to end|submits\/s|per task, all masters|commands per task/.test(cells[0]),
      ),
    ).toHaveLength(4);
    const split = rows.filter((cells) => cells[0].startsWith('share of'));
    expect(split.map((cells) => cells[0])).toEqual([
      'share of the commands, per master (highest first)',
      'share of Redis CPU time, per master (highest first)',
    ]);
    for (const cells of split) {
      for (const side of cells.slice(1, 3)) expect(side).toMatch(/^\d+% \/ \d+% \/ \d+%$/);
      expect(cells[3]).toMatch(/^[\d.]+$/);
    }
    expect(report).toMatch(/With 3 shards every master's share is (NOT )?within ±15% of a third\./);
    for (const cells of rows.filter((row) => !row[0].startsWith('share of'))) {
      expect({ row: cells[0], numbers: cells.slice(1).every((c) => /^[\d.]+$/.test(c)) }).toEqual({
        row: cells[0],
        numbers: true,
      });
    }
  }, 300_000);
});

describe('npm run bench:profile -- --smoke', () => {
  it('writes the top self-time frames of the API and the worker into its own labelled part', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'threadline-bench-profile-')), 'RESULTS.md');
    const before = '<!-- profile:before -->\nan older profile\n<!-- /profile:before -->';
    writeFileSync(
      out,
      `# Benchmark results\n\nthe other sections\n\n<!-- bench:profile -->\n${before}\n<!-- /bench:profile -->\n`,
    );
    const run = await bench(['--smoke', '--label', 'after', '--out', out], {}, 'profile.mts');
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    const report = readFileSync(out, 'utf8');
    expect(report).toMatch(/^# Benchmark results\n\nthe other sections\n/);
    // The other label's part is kept, this run's follows it.
    expect(report.indexOf(before)).toBeGreaterThan(0);
    const part = /<!-- profile:after -->([\s\S]*)<!-- \/profile:after -->/.exec(report)?.[1] ?? '';
    expect(report.indexOf('<!-- profile:after -->')).toBeGreaterThan(report.indexOf(before));
    for (const title of ['API under submit', 'Worker under drain']) {
      expect(part).toMatch(new RegExp(`\\*\\*${title}\\*\\*: [\\d,]+ (requests|tasks)/s`));
    }
    const frames = part
      .split('\n')
      .filter((line) => /^\| \d+ \| /.test(line))
      .map((line) => line.slice(2, -2).split(' | '));
    // Ten frames for each process, each with its self time and share, most time first.
    expect(frames).toHaveLength(20);
    for (const [, name, , selfMs, share] of frames) {
      expect({ name, selfMs: /^[\d,]+$/.test(selfMs), share: /^\d+\.\d%$/.test(share) }).toEqual({
        name,
        selfMs: true,
        share: true,
      });
    }
    for (let i = 1; i < frames.length; i++) {
      if (i === 10) continue; // the second table starts
      const ms = (cells: string[]): number => Number(cells[3].replaceAll(',', ''));
      expect(ms(frames[i])).toBeLessThanOrEqual(ms(frames[i - 1]));
    }
    // Each process's CPU per unit of work, by thread and in Redis, beside its bare peer's.
    const budgets = [
      ...part.matchAll(/^\| µs of CPU per (request|task) \|.*\n\| ---.*\n((?:\|.*\n)+)/gm),
    ];
    expect(budgets.map((table) => table[1])).toEqual(['request', 'task']);
    const rows = budgets.map((table) =>
      table[2]
        .trim()
        .split('\n')
        .map((line) => line.slice(2, -2).split(' | ')),
    );
    expect(rows.map((table) => table.map(([side]) => side))).toEqual([
      ['Threadline API', 'bare Fastify + queue.add'],
      ['Threadline worker', 'plain BullMQ Worker'],
    ]);
    for (const [side, main, helpers, pool, others, total, redis, , commands] of rows.flat()) {
      const [m, h, p, o, t] = [main, helpers, pool, others, total].map(Number);
      // The process is the sum of its threads; work cost its main thread and Redis some CPU.
      expect({
        side,
        sum: Math.abs(m + h + p + o - t) <= 2,
        main: m > 0,
        redis: Number(redis) > 0,
      }).toEqual({
        side,
        sum: true,
        main: true,
        redis: true,
      });
      // A request or a task takes at least one Redis call (a script's own calls count too).
      expect(Number(commands)).toBeGreaterThanOrEqual(1);
    }
    // Threadline's own frames are shown where they were written: src/, through the source maps.
    expect(part).toMatch(/`src\/[\w/.-]+\.ts:\d+`/);
    expect(part).not.toMatch(/`dist\//);
    expect(report).toMatch(/<!-- \/bench:profile -->\n$/);
  }, 300_000);
});

describe('the profile aggregator (bench/cpu-profile.mts)', () => {
  const frame = (functionName: string, url: string, lineNumber = 9): CallFrame => ({
    functionName,
    url,
    lineNumber,
    columnNumber: 0,
  });
  // Node ids: 1 root, 2 idle, 3 a package's function, 4 Threadline's, 5 the GC, 6 Node's.
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '', -1) },
      { id: 2, callFrame: frame('(idle)', '', -1) },
      { id: 3, callFrame: frame('add', 'file:///app/node_modules/@scope/queue/dist/add.js') },
      { id: 4, callFrame: frame('submit', 'file:///app/dist/tasks/submit.js') },
      { id: 5, callFrame: frame('(garbage collector)', '', -1) },
      { id: 6, callFrame: frame('writeGeneric', 'node:internal/stream_base_commons') },
    ],
    startTime: 1_000_000,
    endTime: 1_100_000,
    // One sample every 10 ms from 1,010,000 µs on: each lasts until the next one.
    samples: [3, 3, 2, 4, 5, 6, 3, 2, 4, 3],
    timeDeltas: [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000],
  };

  it('sums self time by function and by owner, idle left out, most time first', () => {
    const summary = summarize(profile);
    expect(summary.frames.map((f) => [f.name, f.where, f.owner, f.selfMs])).toEqual([
      ['add', '@scope/queue/dist/add.js:10', '@scope/queue', 30],
      ['submit', 'dist/tasks/submit.js:10', 'Threadline', 20],
      ['(garbage collector)', '', 'V8: garbage collector', 10],
      ['writeGeneric', 'node:internal/stream_base_commons:10', 'Node.js', 10],
    ]);
    expect(summary.busyMs).toBe(70);
    expect(summary.frames[0].share).toBeCloseTo(30 / 70);
    expect(summary.owners[0]).toEqual({ owner: '@scope/queue', selfMs: 30, share: 30 / 70 });
  });

  it('shows native code through the nearest caller outside Node.js, and owns it there', () => {
    // A socket write: native writev, under Node's stream code, under a package's send.
    const write: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', '', -1), children: [2, 5] },
        {
          id: 2,
          callFrame: frame('send', 'file:///app/node_modules/redis-client/lib/send.js'),
          children: [3],
        },
        {
          id: 3,
          callFrame: frame('writeGeneric', 'node:internal/stream_base_commons'),
          children: [4],
        },
        { id: 4, callFrame: frame('writev', '', -1) },
        // Native code with nothing above it but Node's own keeps Node's.
        {
          id: 5,
          callFrame: frame('processTicksAndRejections', 'node:internal/process/task_queues'),
          children: [6],
        },
        { id: 6, callFrame: frame('runMicrotasks', '', -1) },
      ],
      startTime: 0,
      endTime: 30_000,
      samples: [4, 4, 6],
      timeDeltas: [0, 10_000, 10_000],
    };
    expect(summarize(write).frames.map((f) => [f.name, f.where, f.owner, f.selfMs])).toEqual([
      ['writev', 'native, from send redis-client/lib/send.js:10', 'redis-client (native)', 20],
      [
        'runMicrotasks',
        'native, from processTicksAndRejections node:internal/process/task_queues:10',
        'Node.js (native)',
        10,
      ],
    ]);
  });

  it('counts only the samples taken within the window', () => {
    // Samples at 1,050,000 up to (not including) 1,080,000 µs: the GC, Node's, the package's.
    const summary = summarize(profile, undefined, { from: 1_050_000, to: 1_080_000 });
    expect(summary.windowMs).toBe(30);
    expect(summary.frames.map((f) => f.name)).toEqual([
      '(garbage collector)',
      'writeGeneric',
      'add',
    ]);
  });
});
