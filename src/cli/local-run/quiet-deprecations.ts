/**
 * Imported first by the local run: restify's HTTP/2 dependency (spdy) reads `process.binding('http_parser')` when it
 * loads, and node prints DEP0111 for it twice on every start, which a person at the terminal can do nothing about.
 * Production (src/main.ts) keeps node's warnings.
 */
process.noDeprecation = true;
