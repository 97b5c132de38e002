/**
 * A link into Kibana's Discover: one of the committed saved searches (kibana-dashboards/),
 * narrowed to the lines whose `field` is one of `values`.
 * @see docs/kibana.md
 */
export function discoverLink(
  kibanaUrl: string,
  savedSearch: string,
  field: string,
  values: readonly string[],
  from = 'now-7d',
): string {
  const query = values
    .map((value) => `${field}:%22${encodeURIComponent(value)}%22`)
    .join('%20OR%20');
  return `${kibanaUrl.replace(/\/+$/, '')}/app/discover#/view/${savedSearch}?_g=(time:(from:${from},to:now))&_a=(query:(language:lucene,query:'${query}'))`;
}
