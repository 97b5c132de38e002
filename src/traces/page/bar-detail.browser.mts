/// <reference lib="dom" />
/**
 * The waterfall's detail panel for the selected bar: when it ran, its IDs whole with copy
 * buttons, and its log lines with every field (the waterfall's rows show only a few).
 * @see docs/trace.md#the-waterfall
 */
import type { TraceLine } from '../trace';
import { formatDuration } from '../trace-format.mjs';
import { clock, copyButton, el } from './page-dom.browser.mjs';
import type { Row } from './waterfall-rows.mjs';

/** The ID fields a bar's detail lists, whole, each with a copy button. */
const ID_FIELDS = [
  'correlation_id',
  'request_id',
  'task_id',
  'task.parent_id',
  'trace.id',
  'span.id',
];
/** The fields a line's detail lists first; the others follow by name. */
const FIRST_FIELDS = ['@timestamp', 'log.level', 'service.name', 'message', 'event.action'];

const value = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** One line with every field it has, the usual ones first. */
function lineFields(line: TraceLine): HTMLElement {
  const names = [
    ...FIRST_FIELDS.filter((f) => f in line),
    ...Object.keys(line)
      .filter((f) => !FIRST_FIELDS.includes(f))
      .sort(),
  ];
  const level = line['log.level'] ?? 'info';
  return el(
    'li',
    { class: 'line-detail' },
    el(
      'dl',
      {},
      ...names.flatMap((name) => [
        el('dt', { text: name }),
        el(
          'dd',
          name === 'log.level'
            ? { class: 'level-' + level, text: level }
            : { text: value(line[name]) },
        ),
      ]),
    ),
  );
}

/** The panel for the selected bar: what it was, its IDs whole, its lines with all fields. */
export function detailPanel(row: Row, key: string, start: number, critical: boolean): HTMLElement {
  const ids = new Map<string, Set<string>>();
  const add = (field: string, id: unknown): void => {
    if (typeof id !== 'string' || !id) return;
    ids.set(field, (ids.get(field) ?? new Set()).add(id));
  };
  for (const id of row.ids)
    add(row.kind === 'nginx' || row.kind === 'api' ? 'request_id' : 'task_id', id);
  for (const line of row.lines) for (const field of ID_FIELDS) add(field, line[field]);
  const idList = el('dl', { class: 'ids' });
  for (const field of ID_FIELDS) {
    for (const id of ids.get(field) ?? []) {
      idList.append(
        el('dt', { text: field }),
        el('dd', {}, el('code', { class: 'full-id', text: id }), ' ', copyButton(id, field)),
      );
    }
  }
  return el(
    'aside',
    {
      class: 'detail',
      id: 'detail',
      'aria-labelledby': 'detail-title',
      'data-selected': key,
    },
    el('h2', { id: 'detail-title', text: row.label }),
    el(
      'p',
      { class: 'facts' },
      `Starts at +${formatDuration(row.start - start)} (${clock(row.start)}), lasts ${formatDuration(row.end - row.start)}`,
      critical ? el('strong', { text: ' · on the critical path' }) : '',
    ),
    idList,
    el('h3', { text: `${row.lines.length} log line${row.lines.length === 1 ? '' : 's'}` }),
    row.lines.length
      ? el('ol', { class: 'line-details' }, ...row.lines.map(lineFields))
      : el('p', { text: 'None of its own.' }),
  );
}
