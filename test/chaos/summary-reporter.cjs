// A Jest reporter: after a run that included fault-injection scenarios (test/chaos), prints
// the table of what each injected and what came out of it, from the rows they recorded.
const { existsSync, readFileSync, rmSync } = require('node:fs');
const path = require('node:path');

const SUMMARY = path.resolve(__dirname, '..', '..', 'test-artifacts', 'chaos-summary.ndjson');

const COLUMNS = [
  ['scenario', (r) => r.scenario],
  ['load', (r) => r.load],
  ['faults injected', (r) => r.faults],
  ['tasks accepted', (r) => r.tasks?.accepted ?? '-'],
  ['completed', (r) => r.tasks?.completed ?? '-'],
  ['lost', (r) => r.tasks?.lost ?? '-'],
  ['duplicated', (r) => r.tasks?.duplicated ?? '-'],
  ['lines written', (r) => r.lines?.written ?? '-'],
  ['indexed', (r) => r.lines?.indexed ?? '-'],
  ['lost', (r) => r.lines?.lost ?? '-'],
  ['doubled', (r) => r.lines?.doubled ?? '-'],
];

class ChaosSummaryReporter {
  onRunStart() {
    rmSync(SUMMARY, { force: true });
  }

  onRunComplete() {
    if (!existsSync(SUMMARY)) return;
    const rows = readFileSync(SUMMARY, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const cells = [
      COLUMNS.map(([name]) => name),
      ...rows.map((r) => COLUMNS.map(([, f]) => String(f(r)))),
    ];
    const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
    const line = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
    const out = [
      '',
      'Fault injection (test/chaos; docs/reliability.md):',
      line(cells[0]),
      `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
      ...cells.slice(1).map(line),
      '',
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

module.exports = ChaosSummaryReporter;
