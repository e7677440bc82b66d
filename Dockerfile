# Image for refdata's worker, API and watcher (docker-compose.yml picks the subcommand); TypeScript runs through tsx, no build step.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so a source change does not reinstall them. tsx is a runtime dependency, so --omit=dev is enough.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
# Set after the sources are in (a RUN above would not find the file). Every process and thread (the Temporal
# workflow thread included) sizes its V8 heap to what it keeps, not to what it allocates (workers/heap-preload.cjs;
# REFDATA_HEAP_GROWTH_PERCENT, 0 = V8's own sizing).
ENV NODE_OPTIONS="--require /app/workers/heap-preload.cjs"
# Two glibc malloc arenas instead of up to 8 per core: the Temporal core's threads each kept an arena of freed
# memory, ~30 MB of a worker's idle RSS (docs/performance-tuning.md).
ENV MALLOC_ARENA_MAX=2
COPY sql ./sql
# The gRPC ReportingStream service loads its .proto at run time.
COPY proto ./proto

# Runs as root: ./dropoff is bind-mounted from the host and may be owned by anyone (Docker creates it as root when missing).
ENTRYPOINT ["node", "bin/refdata"]
CMD ["--help"]
