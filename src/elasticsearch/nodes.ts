/**
 * The node URLs in ELASTICSEARCH_URL (or the CLI's `--es-url`): one URL, or the URLs of
 * several nodes of one cluster separated by commas. Every client takes them all, so that a
 * request goes to another node while one is down; sniffing stays off, so only these are used.
 * @see docs/elasticsearch-node.md
 */
export function elasticsearchNodes(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** The nodes' origins, for messages: scheme, host and port, never the credentials. */
export function describeNodes(nodes: readonly string[]): string {
  return nodes
    .map((node) => (URL.canParse(node) ? new URL(node).origin : '(not a URL)'))
    .join(', ');
}
