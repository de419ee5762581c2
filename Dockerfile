# syntax=docker/dockerfile:1
# Sluice images, one target per program:
#   docker build --target server -t sluice-server .     (also: agent, web)
# docker-compose.yml builds all three.

# ---- manifests: only the package.json files and the lockfile, so `npm ci` stays cached while sources change
FROM node:20-bookworm AS manifests
WORKDIR /src
COPY . .
RUN mkdir /out \
 && find . -name package.json -not -path "*/node_modules/*" -exec cp --parents {} /out \; \
 && cp package-lock.json /out/

# ---- build: install everything, build every workspace with turbo, then drop the dev dependencies
FROM node:20-bookworm AS build
WORKDIR /app
ENV CI=true TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npx turbo run build
RUN npm prune --omit=dev --no-audit --no-fund && rm -rf .turbo node_modules/.cache

# ---- runtime: what every target shares
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false \
    SLUICE_DATA_DIR=/var/lib/sluice
WORKDIR /app
# /etc/sluice-nats: where the compose file's nats-config writes nats-server's configuration (and its
# TLS certificate and key); /etc/sluice-ca: the local CA's certificate, for the agents.
RUN mkdir -p /var/lib/sluice /etc/sluice-nats /etc/sluice-ca \
 && chown node:node /var/lib/sluice /etc/sluice-nats /etc/sluice-ca
COPY --from=build --chown=node:node /app /app
USER node

# ---- server: GraphQL over HTTP and WebSocket on $PORT
FROM runtime AS server
# git: the source poller reads branch heads with `git ls-remote` (PollIntervalSeconds).
USER root
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
    && rm -rf /var/lib/apt/lists/*
USER node
# Every interface inside the container (the server's own default is 127.0.0.1).
ENV PORT=4000 HOST=0.0.0.0
EXPOSE 4000
CMD ["node", "server/dist/src/main.js"]

# ---- agent: runs actions; talks to NATS (NATS_URL, SLUICE_AGENT_TOKEN)
FROM runtime AS agent
# The built-in providers run git and bash; Shell jobs find the tools a build script expects:
# make and a C toolchain (native npm modules), curl, jq, archives, and the usual shell utilities.
USER root
RUN apt-get update && apt-get install -y --no-install-recommends \
      git ca-certificates openssh-client bash make build-essential python3 \
      curl jq unzip zip xz-utils bzip2 file patch procps less \
    && rm -rf /var/lib/apt/lists/*
USER node
CMD ["node", "agent/dist/src/main.js"]

# ---- web: the dashboard on $WEB_PORT, reading SLUICE_ENDPOINT
FROM runtime AS web
ENV WEB_PORT=3000 WEB_HOST=0.0.0.0
EXPOSE 3000
CMD ["npm", "run", "start", "-w", "web"]
