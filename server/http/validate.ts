// Request bodies are checked against the buildomat spec, made strict: unknown fields are refused
// so that a typo is reported instead of silently ignored.
import { loadSpec, SpecValidator } from '../../shared/api/spec.js';

type Json = Record<string, unknown>;

function strictify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictify);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) out[k] = strictify(v);
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined)
    out.additionalProperties = false;
  return out;
}

let shared: SpecValidator | undefined;

export function strictValidator(): SpecValidator {
  if (!shared) {
    const spec = loadSpec();
    const components = spec.components as Json;
    shared = new SpecValidator({ ...spec, components: { ...components, schemas: strictify(components.schemas) } });
  }
  return shared;
}
