import { EXIT } from './exit-codes';
import { err, out } from './output';

/** How long `threadline task` waits for the API's whole answer, in seconds. */
export const API_TIMEOUT_S = 10;

export interface TaskOptions {
  /** The API's base URL, already checked to be http(s). */
  apiUrl: string;
  /** THREADLINE_API_KEY, sent as `Authorization: Bearer`; undefined when unset. */
  apiKey: string | undefined;
}

/** Why a request got no answer, in a few words: the socket's error code, or the timeout. */
function reasonOf(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return `no answer within ${API_TIMEOUT_S} s`;
  }
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The `detail` of a problem document, else the body's start: what the API said went wrong. */
function detailOf(body: string): string {
  try {
    const problem = JSON.parse(body) as { detail?: unknown };
    if (typeof problem.detail === 'string') return problem.detail;
  } catch {
    // Not JSON (a proxy's error page): its start says more than nothing.
  }
  return body.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/**
 * `threadline task <id>`: prints the task as the API answers it (`GET /api/v1/tasks/:id`),
 * with THREADLINE_API_KEY when the API has keys on. Exit codes: 0 found; 1 no such task;
 * 2 the API says the ID cannot be a task's; 3 the API did not answer, or could not (5xx, 429,
 * a timeout); 4 it refused the key (401, 403).
 */
export async function showTask(id: string, { apiUrl, apiKey }: TaskOptions): Promise<number> {
  const base = apiUrl.replace(/\/+$/, '');
  let response: Response;
  let body: string;
  try {
    response = await fetch(`${base}/api/v1/tasks/${encodeURIComponent(id)}`, {
      headers: {
        accept: 'application/json',
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
      signal: AbortSignal.timeout(API_TIMEOUT_S * 1000),
    });
    body = await response.text();
  } catch (error) {
    err(
      `The API at ${apiUrl} did not answer (${reasonOf(error)}). Is it running? Pass --api-url or set THREADLINE_API_URL.`,
    );
    return EXIT.UNREACHABLE;
  }
  const { status } = response;
  const said = detailOf(body);
  if (response.ok) {
    out(`${body}\n`);
    return EXIT.FOUND;
  }
  if (status === 404) {
    err(
      `No task ${id} at ${apiUrl}: results are kept for the API's RESULT_TTL_S (7 days by default), and with API keys on a key sees only its own tasks.`,
    );
    return EXIT.NOT_FOUND;
  }
  if (status === 400) {
    err(`The API at ${apiUrl} refused the ID: ${said}`);
    return EXIT.USAGE_ERROR;
  }
  if (status === 401 || status === 403) {
    const fix = apiKey
      ? 'THREADLINE_API_KEY is set, but the API does not accept it for this: check it against the API_KEYS of the API'
      : 'the API has API keys on: set THREADLINE_API_KEY to one of its keys (docs/security.md)';
    err(`The API at ${apiUrl} refused the request (${status}: ${said}): ${fix}.`);
    return EXIT.REFUSED;
  }
  if (status === 429 || status >= 500) {
    const retry = response.headers.get('retry-after') ?? '';
    const when = /^\d+$/.test(retry) ? `in ${retry} s` : 'later';
    err(`The API at ${apiUrl} could not answer (${status}: ${said}). Try again ${when}.`);
    return EXIT.UNREACHABLE;
  }
  err(
    `The API at ${apiUrl} answered ${status} (${said}), which the Threadline API does not for a task: is THREADLINE_API_URL (or --api-url) its address?`,
  );
  return EXIT.UNREACHABLE;
}
