# syntax=docker/dockerfile:1
# Responder: multi-stage build on Node 24 LTS (22 is the floor: the AWS SDK drops Node 20 in early 2027).
# Debian slim rather than Alpine: the committed lockfile holds the glibc prebuilt binaries
# (@msgpackr-extract/*-linux-*, @esbuild/linux-*), not musl ones.
#
#   docker build -t responder .
#   docker run -e INGEST_API_KEY=... -e API_TOKEN=... -e REDIS_URL=redis://... -p 3000:3000 responder

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: every dependency, compile to dist/ -------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# npm ci: exactly the committed lockfile (it records every platform's optional packages).
# --ignore-scripts: package.json's allowScripts denies the three install scripts (msgpackr-extract,
# @parcel/watcher, esbuild all load prebuilt binaries); an older npm in the image would not read
# that field, so no third-party script runs in the build either way.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

# ---- runtime: production dependencies, the compiled service, the runbooks ----------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
  && npm cache clean --force

COPY --from=build /app/dist ./dist
# The command line (runbook validate, iam-policy, rca, incidents, approve, ...) where the service runs:
# `docker exec <container> responder --help`.
COPY bin ./bin
RUN ln -s /app/bin/responder /usr/local/bin/responder
# The default RUNBOOKS_DIR (runbooks/) and SERVICE_CATALOG (runbooks/service-catalog.yaml) are
# relative to /app. Mount your own over /app/runbooks, or point the variables elsewhere.
COPY runbooks ./runbooks

# Files stay root-owned and read-only for the service: it writes nothing to disk (logs go to
# stdout, state to Redis).
USER node
EXPOSE 3000

# No curl in slim images: Node's own fetch. /health says the process answers; /ready (Redis) is
# for the load balancer, so that a Redis outage does not get healthy containers restarted.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node as PID 1 is fine here: Nest's shutdown hooks handle SIGTERM (close queues, quit Redis).
CMD ["node", "dist/apps/responder/apps/responder/src/main.js"]
