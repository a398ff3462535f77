# syntax=docker/dockerfile:1
# mvm in one image: the job server, the factory and the fleet controller (compose.yaml runs each
# as a service). Build: docker build -t mvm .   Run: docker run -p 9300:9300 -v mvm:/var/lib/mvm mvm
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: every dependency (TypeScript, native addons), compile, then drop the dev ones ----
FROM ${NODE_IMAGE} AS build
# better-sqlite3, ssh2 and cpu-features compile native code when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
# Scripts off: `prepare` would compile before the sources are here; the native addons build next.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3 ssh2 cpu-features
COPY bin ./bin
COPY cli ./cli
COPY shared ./shared
COPY server ./server
COPY factory ./factory
COPY agent ./agent
COPY runner ./runner
COPY sim ./sim
COPY fleet ./fleet
COPY web ./web
# The light client (dist/cli/mvm-client.js), the agent bundled into one file (dist/agent/mvm-agent.cjs,
# which the factory starts for each job) and the web UI's static files (dist/web): the fleet daemon
# serves the UI, no CDN.
RUN npx tsc -p tsconfig.json && node cli/build.mjs && node agent/build.mjs && node web/build.mjs
RUN npm prune --omit=dev

# ---- run: production dependencies only, a non-root user, state in a volume ----
FROM ${NODE_IMAGE}
RUN groupadd --system --gid 10001 mvm \
 && useradd --system --uid 10001 --gid mvm --home-dir /var/lib/mvm --shell /usr/sbin/nologin mvm \
 && mkdir -p /var/lib/mvm /etc/mvm && chown mvm:mvm /var/lib/mvm
WORKDIR /opt/mvm
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
# Read at run time from beside dist/: the databases' migrations and the buildomat API document.
COPY server/migrations ./server/migrations
COPY factory/migrations ./factory/migrations
COPY fleet/migrations ./fleet/migrations
COPY fleet/energy/migrations ./fleet/energy/migrations
# The config and test-definition JSON Schemas, for editors (doc/configuration.md)
COPY doc/schemas ./doc/schemas
COPY shared/api/buildomat-openapi.json ./shared/api/buildomat-openapi.json
COPY config.example.toml ./config.example.toml
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs
ENV NODE_ENV=production \
    MVM_HEALTH_URL=http://127.0.0.1:9300/healthz
USER mvm
VOLUME ["/var/lib/mvm"]
# job server, factory API, fleet API
EXPOSE 9300 9310 9320
# The probe is a node script (the image has no curl); each service sets MVM_HEALTH_URL to its port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/opt/mvm/deploy/healthcheck.mjs"]
ENTRYPOINT ["node", "/opt/mvm/bin/mvm.js"]
CMD ["server", "--data", "/var/lib/mvm/server", "--listen", "0.0.0.0:9300"]
