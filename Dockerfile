# TicketZero's production image: `docker build -t ticketzero .` then
#   docker run --env-file ticketzero.env -p 3978:3978 ticketzero
# Settings come from the environment at run time (src/config/sections/*.ts); none is baked into any layer.

ARG NODE_VERSION=20

# ---- build: all dependencies, TypeScript → dist/ -----------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Dev dependencies include rimraf, which botbuilder-dialogs' postinstall calls through npx.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# npm run build ends with this check: dist/ holds no sandbox and imports only production dependencies.
COPY scripts/check-build.ts ./scripts/
RUN npm run build

# ---- runtime: production dependencies and dist/ only, as the unprivileged "node" user ----------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3978 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: with dev dependencies omitted, botbuilder-dialogs' postinstall (`npx rimraf …`)
# finds no rimraf and npx either fails (npm config yes=false) or downloads an unpinned rimraf at build time.
# That postinstall only deletes three nested copies of @microsoft/recognizers-text-number so that the hoisted one
# is shared; the rm below does exactly that, without npx. The only other install script in the production tree is
# dtrace-provider's optional native build (restify's DTrace probes), which its own script already lets fail.
# No BuildKit-only syntax, so `az acr build`, Podman and older builders build this file too.
# docs/deployment.md explains; test/unit/ship/production-install.test.ts runs this very command.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@microsoft/recognizers-text-suite/node_modules/@microsoft/recognizers-text-number \
           node_modules/@microsoft/recognizers-text-date-time/node_modules/@microsoft/recognizers-text-number \
           node_modules/@microsoft/recognizers-text-number-with-unit/node_modules/@microsoft/recognizers-text-number \
 && npm cache clean --force
# The embedded store (lowdb) writes here; mount a volume, or use STORE=postgres, to keep state across containers.
RUN mkdir -p /app/data && chown node:node /app/data
COPY --from=build /app/dist ./dist

USER node
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3978) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
