/** The CLI's exit codes, as --help and docs/trace.md document them: scripts branch on them. */
export const EXIT = {
  /** The ID was found and printed. */
  FOUND: 0,
  /** Nothing carries the ID (trace), or the API has no such task (task). */
  NOT_FOUND: 1,
  /** A bad flag, argument or URL: nothing was asked. */
  USAGE_ERROR: 2,
  /** Elasticsearch or the API did not answer, or could not (5xx, 429): try again later. */
  UNREACHABLE: 3,
  /** The API refused the credentials (401, 403): see THREADLINE_API_KEY. */
  REFUSED: 4,
} as const;
