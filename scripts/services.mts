// npm run services -- up|down|status [redis] [elasticsearch]
import { runMain } from './lib/main.mts';
import { bold } from './lib/say.mts';
import { down, selectServices, SERVICES, status, up } from './lib/services.mts';

const USAGE = `Usage: npm run services -- <command> [service...]

Starts, stops or shows the services Threadline needs on this machine.
Services: ${SERVICES.map((s) => s.name).join(', ')} (default: all).

Commands:
  up      reuse what answers at each URL; start the rest (installing them on first use)
  down    stop what "up" or "npm start" started; never touches a service it did not start
  status  show each service's URL, whether it answers, and whether Threadline started it

Options:
  --json  print the result of "up" as JSON (used by the test setup)

Addresses come from ${SERVICES.map((s) => s.urlVariable).join(' and ')} (see README.md#configuration).
When ELASTICSEARCH_URL lists several URLs (comma-separated), "up" starts a cluster of that many
nodes, one JVM each (docs/elasticsearch-node.md).
`;

runMain(async () => {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const [command, ...names] = args.filter((a) => a !== '--json');
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const services = selectServices(names);
  switch (command) {
    case 'up': {
      const result = await up(services);
      if (json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return 0;
      }
      for (const s of result) {
        process.stdout.write(`${bold(s.name.padEnd(14))} ${s.url}  (${s.state})\n`);
      }
      return 0;
    }
    case 'down':
      await down(services);
      return 0;
    case 'status': {
      const rows = await status(services);
      for (const row of rows) {
        const state = row.answers ? 'answering' : 'not answering';
        const managed =
          row.managedPid === undefined ? '' : `, started by Threadline (pid ${row.managedPid})`;
        process.stdout.write(`${bold(row.name.padEnd(14))} ${row.url}  ${state}${managed}\n`);
      }
      return rows.every((r) => r.answers) ? 0 : 1;
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
});
