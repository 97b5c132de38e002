# syntax=docker/dockerfile:1
# The Threadline image: the API (default command) and the worker (node dist/worker.js), as
# docker-compose.yml runs them. Multi-stage: the compiler and dev tools never reach the image.

# ---- build: every dependency, then the compiled app in dist/
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` devDependency would download a second Node 24 into
# node_modules; this image already runs Node 24.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npx nest build

# ---- runtime dependencies only
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- the image
FROM node:24.21.0-bookworm-slim
# MALLOC_ARENA_MAX as npm start sets it (scripts/lib/node-flags.mts says why).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    HOST=0.0.0.0 \
    LOG_SPOOL_DIR=/var/spool/threadline
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The index template the API installs (elk/elasticsearch), and what the one-shot setup
# service imports into Kibana (kibana-dashboards/, with scripts/kibana.mts).
COPY elk/elasticsearch ./elk/elasticsearch
COPY kibana-dashboards ./kibana-dashboards
COPY scripts ./scripts
# The log spool: lines wait here while Elasticsearch is away (mount a volume on it, so that a
# replaced container's successor delivers them; docs/log-shipping.md).
RUN mkdir -p /var/spool/threadline && chown 1000:1000 /var/spool/threadline
# The official image's unprivileged user "node", by number (a name may not resolve on the host).
USER 1000:1000
EXPOSE 3000
# V8 flags as npm start gives them (scripts/lib/node-flags.mts says why).
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=30", "dist/main.js"]
