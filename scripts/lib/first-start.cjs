// First start of the embedded default: the lineage `default` over the tiny LLaVA, created through
// the public GraphQL API (so it gets the same validation and events as an operator's call).
'use strict';

async function graphql(baseUrl, token, query, variables) {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  return body;
}

async function ensureDefaultLineage({ baseUrl, token, log }) {
  const found = await graphql(baseUrl, token, 'query { modelLineage(name: "default") { name championVersion } }');
  if (found.data?.modelLineage) return false;
  const code = found.errors?.[0]?.extensions?.code;
  if (code !== 'NOT_FOUND') throw new Error(`could not look up lineage default: ${JSON.stringify(found.errors)}`);
  log('creating lineage "default" over the tiny LLaVA and registering its dataset subjects…');
  const created = await graphql(baseUrl, token, 'mutation { createModelLineage(input: {name: "default"}) { name } }');
  if (created.errors) throw new Error(`could not create lineage default: ${JSON.stringify(created.errors)}`);
  return true;
}

module.exports = { graphql, ensureDefaultLineage };
