# The chat server as a container: the single binary (`npm run build`) on a small glibc base, run
# as a non-root user with its data in a volume. Multi-stage: the build stage needs Bun, the run
# stage only glibc and libstdc++.
#
#   docker build -t mycommunity .            (or: podman build -t mycommunity .)
#   docker run -p 3000:3000 -e JWT_SECRET=... -v chat-data:/data mycommunity
#
# BUILDER and BASE are build arguments so an offline machine can pass images it built itself
# (CI does: .ci/container-images makes both from Debian packages).
ARG BUILDER=oven/bun:1
ARG BASE=debian:bookworm-slim

FROM ${BUILDER} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN ["bun", "install", "--frozen-lockfile", "--production", "--ignore-scripts"]
COPY bunfig.toml tsconfig.json ./
COPY drizzle ./drizzle
COPY src ./src
RUN ["bun", "build", "--compile", "src/main.ts", "src/store/checkpoint-worker.ts", "--outfile", "/out/app/chat-server"]
# The data directory, owned by the user the server runs as (neither stage needs a shell).
# data/media exists so a volume mounted there (compose.yaml) starts owned by that user too.
RUN ["bun", "-e", "require('node:fs').mkdirSync('/out/data/media', { recursive: true })"]

FROM ${BASE}
COPY --from=build /out/app /app
COPY --from=build --chown=10001:10001 /out/data /data
USER 10001:10001
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    DATABASE_URL=file:/data/chat.db
VOLUME ["/data"]
EXPOSE 3000
# The binary checks itself (GET /healthz on its own port): the base needs no HTTP client.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/app/chat-server", "healthcheck"]
ENTRYPOINT ["/app/chat-server"]
