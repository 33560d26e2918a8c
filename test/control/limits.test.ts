// Resource limits against the real app over HTTP: body sizes by caller, query cost, introspection.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_UNPRIVILEGED_BODY_BYTES } from '../../src/app.module';
import { MAX_IMAGE_PIXELS } from '../../src/requests/domain/image-check';
import { QUERY_LIMITS } from '../../src/common/query-limits';
import { startTestApp, TestApp, writeDataset, writeModelDir } from '../support/app';
import { GqlClient } from '../support/gql';
import { makeJpeg, makePng } from '../support/images';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { RecordingQueue, recordingQueueModule } from '../support/recording-queue';

const TOKEN = `mutation($role: Role!, $owner: String!) { createApiToken(role: $role, owner: $owner) { token } }`;
const CREATE_LINEAGE = `mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }`;
const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id } }`;
const COUNTS = `SELECT (SELECT count(*) FROM deletion_requests) AS requests, (SELECT count(*) FROM forget_sets) AS forget_sets`;

/** Posts a body of `size` bytes with a Content-Length and reports when the server answered relative to what it read. */
function postRaw(baseUrl: string, size: number, token: string | null): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify({ query: SUBMIT, variables: { input: { note: 'x'.repeat(size) } } });
    const request = http.request(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
    });
    // The server may answer and close before the whole body is written.
    request.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    request.end(payload);
  });
}

describe('resource limits (embedded Postgres, real app over HTTP)', () => {
  let t: TestApp;
  let alice: GqlClient;
  let auditor: GqlClient;

  before(async () => {
    t = await startTestApp({ orchestration: recordingQueueModule(new RecordingQueue()) });
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [{ id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' }]);
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'main', baseModelPath: writeModelDir(path.join(t.postgres.dir, 'model')), datasetPath: dataset } });
    alice = t.operator.withToken((await t.operator.ok(TOKEN, { role: 'REQUESTER', owner: 'alice' })).createApiToken.token);
    auditor = t.operator.withToken((await t.operator.ok(TOKEN, { role: 'AUDITOR', owner: 'audit' })).createApiToken.token);
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => t?.stop());

  describe('body size', () => {
    it('without a token, or with an invalid one, a body over the small limit is refused with 413 before it is parsed', async () => {
      for (const token of [null, 'lethe_not-a-token']) {
        const response = await postRaw(t.baseUrl, 2 * 1024 * 1024, token);
        assert.equal(response.status, 413);
        assert.equal(response.body.errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
        assert.match(response.body.errors[0].message, new RegExp(String(MAX_UNPRIVILEGED_BODY_BYTES)));
      }
    });

    it('a role that cannot submit gets the small limit too', async () => {
      const response = await postRaw(t.baseUrl, 2 * 1024 * 1024, auditor.token);
      assert.equal(response.status, 413);
    });

    it('a submitter with a valid token may send a large body (it reaches GraphQL and is judged there)', async () => {
      const response = await postRaw(t.baseUrl, 2 * 1024 * 1024, alice.token);
      assert.notEqual(response.status, 413);
      assert.ok(response.body.errors?.length, 'the incomplete input is refused by GraphQL, not by the body limit');
      assert.notEqual(response.body.errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
    });

    it('without a token a small body is parsed and refused as UNAUTHENTICATED', async () => {
      const { code } = await t.anonymous.fails('{ deletionRequests { totalCount } }');
      assert.equal(code, 'UNAUTHENTICATED');
    });
  });

  describe('query cost', () => {
    it('a deep query is refused before it runs, fragments counted as the fields inside them', async () => {
      const normal = '{ deletionRequests { edges { node { modelVersion { number } events { data } } } } }';
      assert.equal((await t.operator.request(normal)).errors, undefined, 'a normal query passes');
      // __type > fields > type > ofType x7 > name: 11 levels, one through a fragment and an inline fragment.
      const tooDeep = `{ __type(name: "Query") { fields { type { ...T } } } } fragment T on __Type { ... on __Type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } }`;
      const result = await t.operator.request(tooDeep);
      assert.equal(result.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.match(result.errors![0].message, /11 levels deep/);
    });

    it('many aliases are refused', async () => {
      const query = `{ ${Array.from({ length: QUERY_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
      const result = await t.operator.request(query);
      assert.equal(result.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.match(result.errors![0].message, /aliases/);
    });

    it('two chain verifications in one request cost too much; one passes', async () => {
      assert.ok((await t.operator.ok('{ verifyEventChain { valid } }')).verifyEventChain.valid);
      const result = await t.operator.request('{ a: verifyEventChain { valid } b: verifyEventChain { valid } }');
      assert.equal(result.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.match(result.errors![0].message, /costs/);
      assert.equal(result.data, undefined, 'nothing ran');
    });

    it('decrypted fields on full pages are counted, through fragments too', async () => {
      const page = `deletionRequests(first: 100) { edges { node { ...Secret } } }`;
      const fragment = 'fragment Secret on DeletionRequest { subjectName note events { type data } }';
      assert.equal((await alice.request(`query { ${page} } ${fragment}`)).errors, undefined, 'one full page of names and notes is fine');
      const many = `query { ${Array.from({ length: 4 }, (_, i) => `p${i}: ${page}`).join(' ')} } ${fragment}`;
      const result = await alice.request(many);
      assert.equal(result.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.match(result.errors![0].message, /costs/);
    });
  });

  describe('images are decoded at intake', () => {
    let key = 0;
    const submitImages = (images: Buffer[]) =>
      alice.request(SUBMIT, { input: { lineage: 'main', idempotencyKey: `img-${++key}`, legalBasis: 'GDPR Art. 17', subject: { profile: { name: 'Ima Ge', images: images.map((b) => b.toString('base64')) } } } });

    it('complete PNG and JPEG images are accepted', async () => {
      const result = await submitImages([makePng(16, 12), await makeJpeg(40, 30)]);
      assert.equal(result.errors, undefined);
    });

    it('a lying header, a truncated stream or too many pixels is BAD_USER_INPUT naming the image, and nothing is stored', async () => {
      const jpeg = await makeJpeg(40, 30);
      const png = makePng(16, 12);
      const cases: Array<[string, Buffer, RegExp]> = [
        ['a PNG whose header claims more rows than it holds (checksums valid)', makePng(16, 12, [1, 2, 3], { width: 16, height: 400 }), /cannot be decoded|decodes to/],
        ['a JPEG cut short', jpeg.subarray(0, jpeg.length - 100), /cannot be decoded/],
        ['a JPEG without its end marker', jpeg.subarray(0, jpeg.length - 2), /cannot be decoded/],
        ['a PNG cut short', png.subarray(0, png.length - 20), /cannot be decoded/],
        ['a PNG over the pixel budget (small file, huge header)', makePng(1, 1, [0, 0, 0], { width: 8000, height: 8000 }), new RegExp(`budget of ${MAX_IMAGE_PIXELS}`)],
      ];
      const [before] = await t.dataSource.query(COUNTS);
      for (const [what, bad, message] of cases) {
        const result = await submitImages([png, bad]);
        assert.equal(result.errors?.[0].extensions?.code, 'BAD_USER_INPUT', what);
        assert.equal(result.errors?.[0].extensions?.field, 'input.subject.profile.images[1]', what);
        assert.match(result.errors![0].message, message, what);
      }
      assert.deepEqual(await t.dataSource.query(COUNTS), [before]);
    });
  });

  describe('lineage settings', () => {
    const GATE = `mutation($policy: JSON!) { updateGatePolicy(lineage: "main", gatePolicy: $policy) { gatePolicyVersion } }`;

    it('gatePolicy keys are own properties only: inherited names are unknown fields', async () => {
      const cases: Array<[string, string]> = [
        ['{"__proto__": {"forget": {"maxAccuracyAboveChance": 1}}}', 'gatePolicy.__proto__'],
        ['{"constructor": {}}', 'gatePolicy.constructor'],
        ['{"retain": {"toString": 0.5}}', 'gatePolicy.retain.toString'],
        ['{"forget": {"__proto__": {"significance": 0.5}}}', 'gatePolicy.forget.__proto__'],
      ];
      for (const [policy, field] of cases) {
        // Sent as raw JSON text so that `__proto__` arrives as a key, as an attacker would send it.
        const response = await fetch(`${t.baseUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${t.operator.token}` },
          body: `{"query": ${JSON.stringify(GATE)}, "variables": {"policy": ${policy}}}`,
        });
        const body = (await response.json()) as { errors?: Array<{ extensions: { code: string; field: string } }> };
        assert.deepEqual([body.errors?.[0].extensions.code, body.errors?.[0].extensions.field], ['BAD_USER_INPUT', field], policy);
      }
    });

    it('model and dataset paths outside the configured roots are refused alike, whether they exist or not, links followed', async () => {
      const dataset = writeDataset(path.join(t.postgres.dir, 'dataset2'), [{ id: 's1', name: 'Ada Fictional', knowledge: 'FINETUNED' }]);
      const model = writeModelDir(path.join(t.postgres.dir, 'model2'));
      const escape = path.join(t.postgres.dir, 'escape');
      fs.symlinkSync('/etc', escape);
      const create = (name: string, baseModelPath: string, datasetPath: string) => t.operator.fails(CREATE_LINEAGE, { input: { name, baseModelPath, datasetPath } });
      const messages = new Set<string>();
      for (const outside of ['/etc', '/no/such/dir-at-all', escape, path.join(escape, 'ssl'), `${t.postgres.dir}/../..`]) {
        const onModel = await create('outside-m', outside, dataset);
        assert.deepEqual([onModel.code, onModel.field], ['BAD_USER_INPUT', 'input.baseModelPath'], outside);
        const onDataset = await create('outside-d', model, outside);
        assert.deepEqual([onDataset.code, onDataset.field], ['BAD_USER_INPUT', 'input.datasetPath'], outside);
        messages.add(onModel.message).add(onDataset.message.replace('datasetPath', 'baseModelPath').replace('LETHE_DATASET_ROOTS', 'LETHE_MODEL_ROOTS'));
      }
      assert.equal(messages.size, 1, `one message whatever lies outside: ${[...messages].join(' | ')}`);
      assert.doesNotMatch([...messages][0], /etc|no\/such|escape/);
      await t.operator.ok(CREATE_LINEAGE, { input: { name: 'inside', baseModelPath: model, datasetPath: dataset } });
    });
  });

  describe('introspection', () => {
    it('is refused without a token, and answered with one', async () => {
      const result = await t.anonymous.request('{ __schema { queryType { name } } }');
      assert.equal(result.status, 401);
      assert.equal(result.errors?.[0].extensions?.code, 'UNAUTHENTICATED');
      assert.equal(result.data, undefined);
      assert.equal((await t.anonymous.request('{ q: __type(name: "Query") { name } }')).errors?.[0].extensions?.code, 'UNAUTHENTICATED');
      assert.equal((await alice.ok('{ __schema { queryType { name } } }')).__schema.queryType.name, 'Query');
    });

    it('the refusal does not stick to the document: the same query with a token still works', async () => {
      const query = '{ __type(name: "DeletionRequest") { name } }';
      assert.equal((await t.anonymous.request(query)).errors?.[0].extensions?.code, 'UNAUTHENTICATED');
      assert.equal((await auditor.ok(query)).__type.name, 'DeletionRequest');
    });
  });
});
