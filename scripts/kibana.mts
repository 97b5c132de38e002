// npm run kibana:import -- --url <kibana> | npm run kibana:export -- --url <kibana>
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseSavedObjects, readSavedObjects, toFiles } from './lib/kibana.mts';
import { runMain } from './lib/main.mts';
import { say, ScriptError } from './lib/say.mts';

const DIR = resolve(import.meta.dirname, '..', 'kibana-dashboards');

const USAGE = `Usage: npm run kibana:import -- --url <kibana> [--space <id>]
       npm run kibana:export -- --url <kibana> [--space <id>]

import  sends every object in kibana-dashboards/ to Kibana's saved objects import API,
        overwriting objects with the same ids (the data view, the saved searches, the
        visualizations and the "Threadline correlation" dashboard)
export  fetches those objects (and what they reference) back from Kibana and rewrites
        kibana-dashboards/ with them, after an edit in Kibana; review with git diff

Options:
  --url <kibana>   Kibana's address, e.g. http://localhost:5601 (or KIBANA_URL)
  --space <id>     a Kibana space other than the default one
Credentials, when Kibana needs them: KIBANA_API_KEY, or KIBANA_USERNAME and KIBANA_PASSWORD.
`;

interface Options {
  command: string;
  url: string;
  space: string | undefined;
}

function options(): Options | undefined {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at === -1 ? undefined : args[at + 1];
  };
  const command = args[0];
  if (!command || command === '--help' || command === '-h' || args.includes('--help'))
    return undefined;
  const url = value('--url') ?? process.env.KIBANA_URL;
  if (!url) {
    throw new ScriptError(
      'kibana',
      'no Kibana address given',
      'pass --url http://localhost:5601 (or set KIBANA_URL)',
    );
  }
  return { command, url: url.replace(/\/+$/, ''), space: value('--space') };
}

function headers(): Record<string, string> {
  const auth: Record<string, string> = {};
  if (process.env.KIBANA_API_KEY) auth.authorization = `ApiKey ${process.env.KIBANA_API_KEY}`;
  else if (process.env.KIBANA_USERNAME) {
    const basic = Buffer.from(
      `${process.env.KIBANA_USERNAME}:${process.env.KIBANA_PASSWORD ?? ''}`,
    );
    auth.authorization = `Basic ${basic.toString('base64')}`;
  }
  // Kibana refuses state-changing calls without it (cross-site request forgery protection).
  return { 'kbn-xsrf': 'threadline', ...auth };
}

async function call(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ScriptError(
      'kibana',
      `cannot reach ${url}: ${(error as Error).message}`,
      'check --url, and that Kibana is up (docker compose ps kibana)',
    );
  }
  if (response.status === 401 || response.status === 403) {
    throw new ScriptError(
      'kibana',
      `Kibana answered ${response.status}`,
      'set KIBANA_API_KEY, or KIBANA_USERNAME and KIBANA_PASSWORD',
    );
  }
  if (!response.ok) {
    throw new ScriptError(
      'kibana',
      `Kibana answered ${response.status}: ${(await response.text()).slice(0, 500)}`,
    );
  }
  return response;
}

interface ImportResult {
  success: boolean;
  successCount: number;
  errors?: { id: string; type: string; error: { type: string; message?: string } }[];
}

async function importObjects({ url, space }: Options): Promise<number> {
  const objects = readSavedObjects(DIR);
  const body = new FormData();
  const ndjson = objects.map((object) => JSON.stringify(object)).join('\n');
  body.append('file', new Blob([ndjson], { type: 'application/ndjson' }), 'threadline.ndjson');
  const base = space ? `${url}/s/${space}` : url;
  say('kibana', `importing ${objects.length} saved objects into ${base}`);
  const response = await call(`${base}/api/saved_objects/_import?overwrite=true`, {
    method: 'POST',
    headers: headers(),
    body,
  });
  const result = (await response.json()) as ImportResult;
  for (const error of result.errors ?? []) {
    say(
      'kibana',
      `  ${error.type} ${error.id}: ${error.error.type}${error.error.message ? ` (${error.error.message})` : ''}`,
    );
  }
  if (!result.success) {
    throw new ScriptError(
      'kibana',
      `${result.errors?.length ?? 0} objects were not imported (${result.successCount} were)`,
      'a missing_references error means a file lost an object: restore kibana-dashboards/ with git',
    );
  }
  say(
    'kibana',
    `imported ${result.successCount} objects; open ${base}/app/dashboards#/view/threadline-correlation`,
  );
  return 0;
}

async function exportObjects({ url, space }: Options): Promise<number> {
  const wanted = readSavedObjects(DIR).map(({ type, id }) => ({ type, id }));
  const base = space ? `${url}/s/${space}` : url;
  const response = await call(`${base}/api/saved_objects/_export`, {
    method: 'POST',
    headers: { ...headers(), 'content-type': 'application/json' },
    body: JSON.stringify({
      objects: wanted,
      includeReferencesDeep: true,
      excludeExportDetails: true,
    }),
  });
  const files = toFiles(parseSavedObjects(await response.text()));
  for (const [file, content] of files) writeFileSync(join(DIR, file), content);
  say(
    'kibana',
    `wrote ${[...files.keys()].join(', ')} in kibana-dashboards/; review with git diff`,
  );
  return 0;
}

runMain(async () => {
  const parsed = options();
  if (!parsed) {
    process.stdout.write(USAGE);
    return process.argv.length > 2 ? 0 : 2;
  }
  if (parsed.command === 'import') return importObjects(parsed);
  if (parsed.command === 'export') return exportObjects(parsed);
  throw new ScriptError(
    'kibana',
    `unknown command "${parsed.command}"`,
    'use import or export (see --help)',
  );
});
