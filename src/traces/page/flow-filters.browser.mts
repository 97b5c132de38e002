/// <reference lib="dom" />
/**
 * The flow list's filters: read from the page's address, shown as a form, and read back from
 * it. The address holds them with the API's own names, so that the list's query is the page's.
 * @see docs/trace.md#the-flow-list
 */
import { clock, el } from './page-dom.browser.mjs';

/** The address's parameters that are filters, passed to the API as they are. */
const FILTERS = [
  'since',
  'until',
  'status',
  'task_type',
  'queue',
  'service',
  'min_duration_ms',
  'limit',
];
/** The time range presets: `since=now-…` until now. */
const RANGES = ['15m', '1h', '6h', '24h', '7d'];
const STATUSES = ['failed', 'retried', 'slow', 'running', 'completed'];
const SERVICES = ['nginx', 'threadline-api', 'threadline-worker'];

/** The filters of the page's address (empty values dropped). */
export function filtersOf(search: string): URLSearchParams {
  const from = new URLSearchParams(search);
  const out = new URLSearchParams();
  for (const name of FILTERS) {
    const value = from.get(name)?.trim();
    if (value) out.set(name, value);
  }
  return out;
}

const option = (value: string, text: string, selected: boolean): HTMLElement =>
  el('option', { value, text, ...(selected ? { selected: '' } : {}) });

function select(
  name: string,
  label: string,
  choices: [string, string][],
  value: string,
): HTMLElement {
  const id = `filter-${name}`;
  return el(
    'div',
    { class: 'field' },
    el('label', { for: id, text: label }),
    el('select', { id, name }, ...choices.map(([v, t]) => option(v, t, v === value))),
  );
}

function textField(name: string, label: string, value: string, hint: string): HTMLElement {
  const id = `filter-${name}`;
  return el(
    'div',
    { class: 'field' },
    el('label', { for: id, text: label }),
    el('input', { id, name, value, placeholder: hint, autocomplete: 'off' }),
  );
}

/** The filter form, showing `filters`; a window that is no preset shows as "custom". */
export function filterForm(filters: URLSearchParams): HTMLFormElement {
  const since = filters.get('since') ?? 'now-1h';
  const until = filters.get('until') ?? 'now';
  const preset = until === 'now' ? RANGES.find((r) => since === `now-${r}`) : undefined;
  const ranges: [string, string][] = RANGES.map((r) => [r, `last ${r}`]);
  if (!preset) ranges.push(['custom', `${clock(since)} – ${clock(until)}`]);
  return el(
    'form',
    { id: 'filters', class: 'filters', 'aria-label': 'Filter flows' },
    select('range', 'Time', ranges, preset ?? 'custom'),
    select(
      'status',
      'Status',
      [['', 'any'], ...STATUSES.map((s): [string, string] => [s, s])],
      filters.get('status') ?? '',
    ),
    textField('task_type', 'Task type', filters.get('task_type') ?? '', 'any'),
    select(
      'service',
      'Service',
      [['', 'any'], ...SERVICES.map((s): [string, string] => [s, s])],
      filters.get('service') ?? '',
    ),
    el('button', { type: 'submit', text: 'Apply' }),
  ) as HTMLFormElement;
}

/** The filters the form shows, the window kept as it was when the range is "custom". */
export function filtersFromForm(form: HTMLFormElement, current: URLSearchParams): URLSearchParams {
  const data = new FormData(form);
  const field = (name: string): string => {
    const value = data.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
  const out = new URLSearchParams();
  const range = field('range') || '1h';
  if (range === 'custom') {
    for (const name of ['since', 'until']) {
      const value = current.get(name);
      if (value) out.set(name, value);
    }
  } else {
    out.set('since', `now-${range}`);
  }
  for (const name of ['status', 'task_type', 'service']) {
    const value = field(name);
    if (value) out.set(name, value);
  }
  // Filters the form has no field for (queue, min_duration_ms, limit) stay as the address gave them.
  for (const name of ['queue', 'min_duration_ms', 'limit']) {
    const value = current.get(name);
    if (value) out.set(name, value);
  }
  return out;
}
