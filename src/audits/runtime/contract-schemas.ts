// JSON Schema validation against the shared contracts/ directory (the same files the Python worker
// validates with jsonschema), so both runtimes agree on manifest and eval-item shapes.
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import * as fs from 'node:fs';
import * as path from 'node:path';

let ajv: Ajv2020 | null = null;

/** contracts/ of the repository: found upwards from this file (src/ when run by ts tools, dist/src/ when compiled). */
function contractsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'contracts');
    if (fs.existsSync(path.join(candidate, 'onnx-manifest.schema.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`contracts/ not found above ${__dirname}`);
  }
}

function instance(): Ajv2020 {
  if (!ajv) {
    const dir = contractsDir();
    ajv = new Ajv2020({ allErrors: true, strict: false });
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort()) {
      ajv.addSchema(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    }
  }
  return ajv;
}

export function contractValidator<T>(schemaId: string): ValidateFunction<T> {
  const validate = instance().getSchema<T>(schemaId);
  if (!validate) throw new Error(`no contract schema with $id ${schemaId}`);
  return validate;
}

/** "at /loraInputs/3/shape: must be array" for the first error. */
export function describeSchemaError(errors: ErrorObject[] | null | undefined): { field: string; message: string } {
  const first = errors?.[0];
  if (!first) return { field: '(root)', message: 'invalid' };
  const field = first.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : '(root)';
  const extra = first.keyword === 'required' ? ` (${(first.params as { missingProperty: string }).missingProperty})` : '';
  return { field, message: `${first.message ?? 'invalid'}${extra}` };
}
