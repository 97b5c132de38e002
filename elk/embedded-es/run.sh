#!/usr/bin/env bash
# Builds (when needed) and runs one real Elasticsearch 8 node in this JVM; all arguments are passed to
# dev.threadline.es.EmbeddedElasticsearch (-basePath DIR, -httpPort N, -clusterName NAME, -nodeName NAME, -logLevel LEVEL).
# JVM options: ES_JAVA_OPTS (default -Xms512m -Xmx1g). JAVA selects the java binary (default: java on PATH, 17+).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
stamp=target/classpath.txt
if [ ! -s "$stamp" ] || [ pom.xml -nt "$stamp" ] || [ -n "$(find src -type f -newer "$stamp" -print -quit)" ]; then
  mvn -B -q compile >&2
  touch "$stamp"
fi
# shellcheck disable=SC2086
exec "${JAVA:-java}" ${ES_JAVA_OPTS:--Xms512m -Xmx1g} -cp "$here/target/classes:$(cat "$stamp")" \
  dev.threadline.es.EmbeddedElasticsearch "$@"
