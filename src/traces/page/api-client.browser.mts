/// <reference lib="dom" />
/**
 * The page's calls to its own API. With API keys on (API_KEYS), the API answers 401 without one:
 * the page then asks for a key, keeps it for the tab (sessionStorage) and asks again with it.
 * Every view goes through here, so that one key serves the flow list and the waterfall alike.
 */

const KEY = 'threadline-api-key';

/** What the API answered: the JSON body, or why there is none, in words a user can act on. */
export type Answer<T> =
  | { ok: true; body: T }
  | {
      ok: false;
      /** The HTTP status; 0 when the API did not answer at all. */
      status: number;
      /** The problem document's detail, else a sentence saying what happened. */
      detail: string;
    };

function authorization(): Record<string, string> {
  const key = sessionStorage.getItem(KEY);
  return key ? { authorization: 'Bearer ' + key } : {};
}

/** GET `path` (of this API) as JSON, with the tab's API key when it has one. */
export async function getJson<T>(path: string): Promise<Answer<T>> {
  let response: Response;
  try {
    response = await fetch(path, { headers: { accept: 'application/json', ...authorization() } });
  } catch (error) {
    return {
      ok: false,
      status: 0,
      detail: `The Threadline API did not answer (${(error as Error).message}). Is it running?`,
    };
  }
  if (response.status === 401) {
    sessionStorage.removeItem(KEY);
    const key = window.prompt('This Threadline needs an API key (the API answered 401). Your key:');
    if (key && key.trim()) {
      sessionStorage.setItem(KEY, key.trim());
      return getJson(path);
    }
    return {
      ok: false,
      status: 401,
      detail: 'This Threadline needs an API key: reload the page and enter yours.',
    };
  }
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    return {
      ok: false,
      status: response.status,
      detail: problem.detail || `${response.status} ${response.statusText}`,
    };
  }
  return { ok: true, body: (await response.json()) as T };
}
