// API tokens (operators): issue one (shown once, never again: only its hash is stored), list, revoke.
import { useState } from 'preact/hooks';
import { gql, type Role } from '../api';
import { ErrorBox, Field, fieldError, formError, Loading, useLoad, when } from '../ui';

interface Token {
  id: string;
  role: Role;
  owner: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}
const FIELDS = 'id role owner createdAt lastUsedAt expiresAt revokedAt';

async function loadTokens(): Promise<Token[]> {
  const tokens: Token[] = [];
  let after: string | null = null;
  do {
    const page: { apiTokens: { edges: { node: Token }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
      `query ($after: String) { apiTokens(first: 100, after: $after) { edges { node { ${FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    tokens.push(...page.apiTokens.edges.map((e) => e.node));
    after = page.apiTokens.pageInfo.hasNextPage ? page.apiTokens.pageInfo.endCursor : null;
  } while (after);
  return tokens;
}

export function Tokens() {
  const { data, error, reload } = useLoad(loadTokens, []);
  const [role, setRole] = useState<Role>('REQUESTER');
  const [owner, setOwner] = useState('');
  const [days, setDays] = useState('');
  const [issued, setIssued] = useState<{ token: string; owner: string; role: Role } | null>(null);
  const [formErr, setFormErr] = useState<unknown>(null);
  const [actionErr, setActionErr] = useState<unknown>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    setIssued(null);
    try {
      const { createApiToken } = await gql<{ createApiToken: { token: string; owner: string; role: Role } }>(
        'mutation ($role: Role!, $owner: String!, $days: Int) { createApiToken(role: $role, owner: $owner, expiresInDays: $days) { token owner role } }',
        { role, owner, days: days.trim() === '' ? null : Number(days) },
      );
      setFormErr(null);
      setIssued(createApiToken);
      setOwner('');
      reload();
    } catch (err) {
      setFormErr(err);
    }
  };
  const revoke = async (token: Token) => {
    if (!confirm(`Revoke the ${token.role} token of ${token.owner}? Calls with it are refused from then on.`)) return;
    try {
      await gql('mutation ($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }', { id: token.id });
      setActionErr(null);
      reload();
    } catch (err) {
      setActionErr(err);
    }
  };
  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">API tokens</h1>
      <form class="card form" onSubmit={create} aria-labelledby="new-token-title">
        <h2 id="new-token-title">Issue a token</h2>
        <Field label="Role" error={fieldError(formErr, 'role')}>
          {({ id }) => (
            <select id={id} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              <option value="REQUESTER">REQUESTER (privacy officer)</option>
              <option value="AUDITOR">AUDITOR</option>
              <option value="OPERATOR">OPERATOR</option>
            </select>
          )}
        </Field>
        <Field label="Owner" hint="who holds it, e.g. an e-mail address" error={fieldError(formErr, 'owner')}>
          {({ id, describedBy, invalid }) => <input id={id} value={owner} onInput={(e) => setOwner(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <Field label="Expires after (days)" hint="empty: no expiry" error={fieldError(formErr, 'expiresInDays')}>
          {({ id, describedBy, invalid }) => <input id={id} inputMode="numeric" value={days} onInput={(e) => setDays(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <ErrorBox error={formError(formErr, ['role', 'owner', 'expiresInDays'])} />
        <button type="submit">Issue token</button>
        {issued && (
          <div class="once" role="status">
            <p>The {issued.role} token for {issued.owner}. Copy it now: it is shown only once.</p>
            <Field label="New token">{({ id }) => <input id={id} readOnly value={issued.token} class="code" onFocus={(e) => e.currentTarget.select()} />}</Field>
          </div>
        )}
      </form>
      <ErrorBox error={error ?? actionErr} />
      {!data ? <Loading /> : (
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">Owner</th><th scope="col">Role</th><th scope="col">Issued</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">State</th></tr></thead>
            <tbody>
              {data.map((t) => (
                <tr key={t.id}>
                  <td>{t.owner}</td>
                  <td>{t.role}</td>
                  <td>{when(t.createdAt)}</td>
                  <td>{when(t.lastUsedAt)}</td>
                  <td>{t.expiresAt ? when(t.expiresAt) : 'never'}</td>
                  <td>{t.revokedAt ? `revoked ${when(t.revokedAt)}` : <button type="button" class="danger small" aria-label={`Revoke the ${t.role} token of ${t.owner}`} onClick={() => revoke(t)}>Revoke</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
