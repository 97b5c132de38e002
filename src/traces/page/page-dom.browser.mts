/// <reference lib="dom" />
/**
 * The few DOM helpers the trace page's views share: building elements without innerHTML (no
 * markup is ever parsed from data), finding the page's fixed elements, a copy button, times.
 */

export type Child = Node | string | false | null | undefined;

/** The page's element `#id`, of the type the script expects: a changed page fails loudly. */
export function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the trace page has no #${id}`);
  return found;
}

/**
 * An element with attributes and children. `text` sets its text, `style` goes through the CSSOM,
 * which the page's CSP allows where a style attribute would be refused.
 */
export function el(
  tag: string,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElement {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'style') node.style.cssText = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** A link to the waterfall of an ID, showing it whole (`ceo-check-1`, not `ceo-chec`). */
export const idLink = (value: string, attrs: Record<string, string> = {}): HTMLElement =>
  el('a', { href: '/trace/' + encodeURIComponent(value), 'data-id': value, text: value, ...attrs });

/**
 * A button that copies `value`, and a status beside it that says whether it did; `what` names
 * the value for screen readers. The button's own text stays "Copy", so that its name always
 * starts with what it shows.
 */
export function copyButton(value: string, what: string): HTMLElement {
  const button = el('button', {
    type: 'button',
    class: 'copy',
    'aria-label': `Copy ${what} ${value}`,
    text: 'Copy',
  });
  const status = el('span', { class: 'copied', role: 'status' });
  button.addEventListener('click', () => {
    navigator.clipboard.writeText(value).then(
      () => (status.textContent = 'Copied'),
      // Clipboard access needs a secure context and the user's leave: say how to do it by hand.
      () => (status.textContent = 'Cannot copy here: select the ID'),
    );
  });
  return el('span', { class: 'copy-box' }, button, status);
}

const two = (n: number): string => String(n).padStart(2, '0');

/** A time as people read it here: the browser's local date and time, to the second. */
export function clock(at: string | number): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A `<time>` element: machine-readable ISO time, shown by {@link clock}. */
export const timeElement = (iso: string): HTMLElement =>
  el('time', { datetime: iso, text: clock(iso) });
