// Every argument of every query and mutation, one at a time, with malformed values: the answer is a
// client error (BAD_USER_INPUT, NOT_FOUND, ...), never INTERNAL_SERVER_ERROR.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import {
  getNamedType,
  getNullableType,
  GraphQLArgument,
  GraphQLField,
  GraphQLInputType,
  GraphQLList,
  GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
} from 'graphql';
import { startTestApp, TestApp, writeDataset, writeModelDir } from '../support/app';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { RecordingQueue, recordingQueueModule } from '../support/recording-queue';

const cursor = (value: string) => Buffer.from(value).toString('base64url');
const deepJson = (levels: number): unknown => (levels === 0 ? 1 : { a: deepJson(levels - 1) });

const MALFORMED: Record<string, unknown[]> = {
  String: ['', ' ', '\u0000', 'a\u0000b', '\ud800', 'x'.repeat(20_000), "' OR 1=1 --", '../../../etc/passwd', 'not-a-cursor!', cursor('{"seq":"x"}'), cursor('null'), cursor('[1,2]'), cursor('{"createdAt":"yesterday","id":"x"}'), 12],
  ID: ['', 'not-a-uuid', '00000000-0000-0000-0000-000000000000', '\u0000', '\ud800', 'x'.repeat(20_000), "1' OR '1'='1", -1],
  Int: [-1, 0, 2147483647, -2147483648, 1.5, '7'],
  Float: [-1, 0, 1e308, -1e308, 'NaN'],
  Boolean: ['yes'],
  JSON: [null, [], 'x', 1, { __proto__: { version: 2 } }, deepJson(300), { forget: [] }],
};

/** A value graphql-js accepts for the type, with names that make the operations find real things. */
function baseline(name: string, type: GraphQLInputType, known: Record<string, unknown>): unknown {
  if (name in known) return known[name];
  const nullable = getNullableType(type) as GraphQLInputType;
  if (!isNonNullType(type)) return undefined;
  if (nullable instanceof GraphQLList) return [];
  if (isEnumType(nullable)) return nullable.getValues()[0].value;
  if (isInputObjectType(nullable)) {
    return Object.fromEntries(Object.values(nullable.getFields()).map((f) => [f.name, baseline(f.name, f.type, known)]).filter(([, v]) => v !== undefined));
  }
  return { String: 'fuzz', ID: 'fuzz', Int: 1, Float: 0.5, Boolean: true, JSON: {} }[(nullable as GraphQLNamedType).name];
}

/** Paths to every leaf of an input type (nested input objects and lists included), with the malformed values for it. */
function leaves(type: GraphQLInputType, at: string[], depth = 0): Array<{ path: string[]; values: unknown[] }> {
  const named = getNamedType(type);
  const out: Array<{ path: string[]; values: unknown[] }> = [];
  if (getNullableType(type) instanceof GraphQLList) out.push({ path: at, values: [[], 'not-a-list'] });
  if (isInputObjectType(named) && depth < 4) {
    out.push({ path: at, values: [null, 'not-an-object'] });
    for (const field of Object.values(named.getFields())) out.push(...leaves(field.type, [...at, field.name], depth + 1));
  } else if (isEnumType(named)) out.push({ path: at, values: ['NOT_A_VALUE', ''] });
  else if (isScalarType(named)) out.push({ path: at, values: MALFORMED[named.name] ?? [null] });
  return out;
}

function withValue(root: Record<string, unknown>, at: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(root);
  let node: any = copy;
  for (const key of at.slice(0, -1)) node = node[key] = node[key] && typeof node[key] === 'object' && !Array.isArray(node[key]) ? node[key] : {};
  node[at.at(-1)!] = value;
  return copy;
}

function operationText(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const typeName = (arg: GraphQLArgument) => String(arg.type);
  const vars = field.args.map((a) => `$${a.name}: ${typeName(a)}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const returned = getNamedType(field.type);
  const selection = isObjectType(returned) || isUnionType(returned) ? ' { __typename }' : '';
  return `${kind}${vars ? `(${vars})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

describe('malformed arguments never cause an internal error (embedded Postgres, real app over HTTP)', () => {
  let t: TestApp;
  let known: Record<string, unknown>;

  before(async () => {
    t = await startTestApp({ orchestration: recordingQueueModule(new RecordingQueue()) });
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [{ id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' }]);
    const model = writeModelDir(path.join(t.postgres.dir, 'model'));
    await t.operator.ok(`mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }`, { input: { name: 'main', baseModelPath: model, datasetPath: dataset } });
    const { submitDeletionRequest: request } = await t.operator.ok(`mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id } }`, {
      input: { lineage: 'main', idempotencyKey: 'fuzz-base', legalBasis: 'GDPR Art. 17', subject: { datasetSubjectId: 's1' } },
    });
    known = {
      id: request.id,
      requestId: request.id,
      lineage: 'main',
      name: 'main',
      datasetSubjectId: 's1',
      baseModelPath: model,
      datasetPath: dataset,
      toVersion: 0,
      gatePolicy: {},
    };
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => t?.stop());

  it('every argument of every operation', { timeout: 300_000 }, async () => {
    const schema = t.app.get(GraphQLSchemaHost).schema;
    const internal: string[] = [];
    let sent = 0;
    for (const [kind, root] of [['query', schema.getQueryType()!], ['mutation', schema.getMutationType()!]] as const) {
      for (const field of Object.values(root.getFields())) {
        const query = operationText(kind, field);
        const base = Object.fromEntries(field.args.map((a) => [a.name, baseline(a.name, a.type, known)]).filter(([, v]) => v !== undefined));
        for (const arg of field.args) {
          for (const { path: at, values } of leaves(arg.type, [arg.name])) {
            for (const value of values) {
              const variables = withValue(base, at, value);
              if (variables.input && typeof variables.input === 'object' && 'idempotencyKey' in (variables.input as object) && at.join('.') !== 'input.idempotencyKey') {
                (variables.input as Record<string, unknown>).idempotencyKey = `fuzz-${sent}`;
              }
              const result = await t.operator.request(query, variables);
              sent++;
              const codes = (result.errors ?? []).map((e) => e.extensions?.code);
              if (result.status >= 500 || codes.includes('INTERNAL_SERVER_ERROR')) {
                internal.push(`${field.name} ${at.join('.')}=${JSON.stringify(value)?.slice(0, 60)} -> ${result.status} ${JSON.stringify(result.errors)?.slice(0, 200)}`);
              }
            }
          }
        }
      }
    }
    assert.ok(sent > 200, `only ${sent} requests were sent`);
    assert.deepEqual(internal, []);
    // What the sweep stored (tokens, lineages with odd but storable names...) left the chain intact.
    assert.equal((await t.operator.ok('{ verifyEventChain { valid } }')).verifyEventChain.valid, true);
  });

  it('text Postgres would store differently (NUL, lone surrogates) is BAD_USER_INPUT naming the field, in variables or literals', async () => {
    const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id } }`;
    const input = { lineage: 'main', idempotencyKey: 'text-1', legalBasis: 'GDPR', subject: { profile: { name: 'Jo', facts: [{ question: 'q', answer: 'a\u0000' }] } } };
    const nul = await t.operator.fails(SUBMIT, { input });
    assert.deepEqual([nul.code, nul.field], ['BAD_USER_INPUT', 'input.subject.profile.facts[0].answer']);
    const surrogate = await t.operator.fails(SUBMIT, { input: { ...input, idempotencyKey: 'text-2', legalBasis: 'GDPR \ud800' } });
    assert.deepEqual([surrogate.code, surrogate.field], ['BAD_USER_INPUT', 'input.legalBasis']);
    const literal = await t.operator.fails(`mutation { createApiToken(role: REQUESTER, owner: "x\\u0000") { token } }`);
    assert.deepEqual([literal.code, literal.field], ['BAD_USER_INPUT', 'owner']);
  });
});
