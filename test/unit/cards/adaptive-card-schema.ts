/**
 * The published Adaptive Cards 1.5 JSON schema (draft-06), as shipped in microsoft/AdaptiveCards at
 * schemas/1.5.0/adaptive-card.json (blob 8301d0efef25d6626b52d6e38b20dc81dc59502e), compiled with ajv.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function compileAdaptiveCardSchema(): ValidateFunction {
  const schema = JSON.parse(
    readFileSync(new URL('../../fixtures/teams/adaptive-card-1.5.schema.json', import.meta.url), 'utf8'),
  ) as Record<string, unknown>;
  // The schema uses the draft-04 style `id` and its own annotations ("version", "features").
  delete schema.id;
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
  addFormats(ajv);
  return ajv.compile(schema);
}
