/// <reference lib="dom" />
/**
 * `/trace/<id>`: a flow drawn as a waterfall. A time axis with round ticks; a bar per request,
 * queue wait and attempt, the critical path marked; each bar a button that selects it, and the
 * arrow keys move between bars; the selected bar's IDs (whole, with copy buttons) and its lines
 * (every field) in a detail panel.
 * @see docs/trace.md#the-trace-page
 */
import type { Trace, TraceLine } from '../trace';
import { flowDiscoverLink, formatDuration } from '../trace-format.mjs';
import { flowCriticalPath } from './critical-path.mjs';
import { detailPanel } from './bar-detail.browser.mjs';
import { el, idLink } from './page-dom.browser.mjs';
import { ticks } from './time-axis.mjs';
import { bars, type Row, time } from './waterfall-rows.mjs';

/** A bar's identity across redraws (a live flow is drawn again every second). */
const rowKey = (row: Row): string => `${row.kind}|${row.label}|${row.ids.join(',')}|${row.start}`;

function logLines(lines: TraceLine[]): HTMLElement {
  const hasError = lines.some((l) => l['log.level'] === 'error' || l['log.level'] === 'fatal');
  const details = el(
    'details',
    hasError ? { open: '' } : {},
    el('summary', { text: `${lines.length} log line${lines.length > 1 ? 's' : ''}` }),
  );
  const list = el('ul', { class: 'lines' });
  for (const l of lines) {
    const level = l['log.level'] ?? 'info';
    list.append(
      el(
        'li',
        {},
        l['@timestamp'] + ' ',
        el('span', { class: 'level-' + level, text: level.padEnd(5) }),
        ` ${l['service.name'] ?? ''}  ${l.message ?? ''}`,
      ),
    );
  }
  details.append(list);
  return details;
}

/** The axis over the tracks: ticks in time since the flow's first line. */
function axis(span: number, narrow: boolean): HTMLElement {
  const track = el('div', { class: 'axis-track', 'aria-hidden': 'true' });
  for (const at of ticks(span, narrow ? 4 : 8)) {
    const left = (at / span) * 100;
    // A tick this close to the end would print its label over the one before; the last one,
    // right at the end, is drawn leftwards of its mark.
    if (left > 90 && left < 99.5) continue;
    track.append(
      el('span', {
        class: 'tick' + (left >= 99.5 ? ' end' : ''),
        style: `left:${left}%`,
        text: formatDuration(at),
      }),
    );
  }
  return el(
    'div',
    { class: 'axis' },
    el('div', { class: 'axis-label', text: 'since the first line' }),
    track,
  );
}

/**
 * A drawn waterfall. It keeps the selected bar, and the keyboard focus on it, when the same
 * flow is drawn again with new lines.
 */
export class Waterfall {
  private selected: string | undefined;

  constructor(
    private readonly main: HTMLElement,
    private readonly kibana: string | undefined,
    private readonly id: string,
  ) {}

  render(trace: Trace): void {
    const rows = bars(trace);
    const firstLine = trace.lines[0];
    const lastLine = trace.lines.at(-1);
    const start = Math.min(...rows.map((r) => r.start), firstLine ? time(firstLine) : Infinity);
    const end = Math.max(...rows.map((r) => r.end), lastLine ? time(lastLine) : -Infinity);
    const span = Math.max(1, end - start);
    const critical = flowCriticalPath(trace, rows);
    const hadFocus =
      document.activeElement instanceof HTMLElement &&
      document.activeElement.classList.contains('bar');
    const keys = rows.map(rowKey);
    let selected = Math.max(0, this.selected === undefined ? -1 : keys.indexOf(this.selected));

    const list = el('ul', {
      class: 'rows',
      'aria-label': 'Waterfall of the flow: arrow keys move between bars',
    });
    const buttons: HTMLButtonElement[] = [];
    const layout = el('div', { class: 'trace-layout' });
    const panelSlot = el('div', { class: 'detail-slot' });
    const select = (index: number, focus: boolean): void => {
      const row = rows[index];
      if (!row) return;
      buttons[selected]?.setAttribute('tabindex', '-1');
      buttons[selected]?.setAttribute('aria-pressed', 'false');
      selected = index;
      this.selected = keys[index];
      const button = buttons[index];
      button?.setAttribute('tabindex', '0');
      button?.setAttribute('aria-pressed', 'true');
      if (focus) button?.focus();
      panelSlot.replaceChildren(detailPanel(row, keys[index] ?? '', start, critical.has(index)));
    };

    rows.forEach((row, index) => {
      const left = ((row.start - start) / span) * 100;
      const width = Math.max(0.2, ((row.end - row.start) / span) * 100);
      const duration = formatDuration(row.end - row.start);
      const onPath = critical.has(index);
      const classes =
        'bar ' +
        row.kind +
        (row.outcome && row.outcome !== 'completed' ? ' ' + row.outcome : '') +
        (onPath ? ' critical' : '');
      const bar = el('button', {
        type: 'button',
        class: classes,
        'data-bar': row.kind,
        style: `left:${left}%;width:${width}%`,
        tabindex: '-1',
        'aria-pressed': 'false',
        'aria-label': `${row.label}: ${duration}${onPath ? ', on the critical path' : ''}`,
      }) as HTMLButtonElement;
      bar.addEventListener('click', () => select(index, true));
      bar.addEventListener('keydown', (event) => {
        const to =
          event.key === 'ArrowDown' || event.key === 'ArrowRight'
            ? index + 1
            : event.key === 'ArrowUp' || event.key === 'ArrowLeft'
              ? index - 1
              : event.key === 'Home'
                ? 0
                : event.key === 'End'
                  ? rows.length - 1
                  : undefined;
        if (to === undefined || to < 0 || to >= rows.length) return;
        event.preventDefault();
        select(to, true);
      });
      buttons.push(bar);
      // The duration beside its bar: after it, or before it when it ends near the right edge,
      // or inside it (white) when it fills the track; never over another colour.
      const after = left + width <= 85;
      const before = !after && left >= 15;
      const length = el('span', {
        class: 'duration' + (after ? '' : before ? ' before' : ' inside'),
        style: after ? `left:${left + width}%` : before ? `right:${100 - left}%` : `left:${left}%`,
        'aria-hidden': 'true',
        text: duration,
      });
      const label = el(
        'div',
        { class: 'label', style: `padding-left:${row.depth * 18}px` },
        el(
          'span',
          { class: 'name' },
          onPath
            ? el('span', { class: 'path-mark', title: 'on the critical path', text: '◆ ' })
            : '',
          row.label,
        ),
        ...row.ids.map((id) => idLink(id, { class: 'id', title: id })),
      );
      const track = el('div', { class: 'track' }, bar, length);
      // The whole track selects its bar: a short bar is a small target for a pointer.
      track.addEventListener('click', (event) => {
        if (event.target === track) select(index, true);
      });
      const item = el('li', { class: 'row' + (onPath ? ' critical' : '') }, label, track);
      if (row.lines.length) item.append(logLines(row.lines));
      list.append(item);
    });

    const { summary: totals } = trace;
    const summary = el(
      'p',
      { class: 'summary' },
      'Flow ',
      ...trace.correlation_ids.flatMap((c) => [idLink(c, { class: 'flow-id' }), ' ']),
      '· ',
      el('span', { class: 'status', 'data-status': totals.status, text: totals.status }),
      ` · ${formatDuration(totals.total_ms)} · ${trace.truncated ? 'first ' : ''}${totals.lines} lines · ${totals.retries} retries`,
    );
    if (this.kibana) {
      summary.append(
        ' · ',
        el('a', { href: flowDiscoverLink(this.kibana, trace), text: 'Open in Kibana' }),
      );
    }
    summary.append(' · ', el('a', { href: '/trace', text: 'Recent flows' }));
    const legend = el(
      'p',
      { class: 'legend' },
      el('span', { class: 'path-mark', 'aria-hidden': 'true', text: '◆' }),
      ' on the critical path: what the flow’s end waited on. Choose a bar for its details; ↑ and ↓ move between bars.',
    );
    // A cut trace says so above the waterfall, and how to see the rest.
    const cut =
      trace.truncated &&
      el(
        'p',
        { class: 'message cut', role: 'status', 'data-truncated': '' },
        el('strong', {
          text: `Only the first ${totals.lines} lines of this flow are shown: it has more. `,
        }),
        `Bars and status cover those lines only. To see more, add ?limit= to the address of this page (up to TRACE_MAX_LIMIT, the most the API gives), or narrow the time with threadline trace ${this.id} --since/--until.`,
      );
    const narrow = this.main.clientWidth < 700;
    layout.append(el('div', { class: 'waterfall' }, axis(span, narrow), list), panelSlot);
    this.main.replaceChildren(...[summary, cut, legend, layout].filter((node) => node !== false));
    if (rows.length) select(selected, hadFocus);
  }
}
