// The console's only way to the service: POST /graphql with the bearer token (and the report files the
// GraphQL API links to, with the same token). The token lives in sessionStorage: it is gone when the tab closes.
const TOKEN_KEY = 'lethe.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An error the API answered with: its code (extensions.code) and, for bad input, the field it names. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field: string | null,
  ) {
    super(message);
  }
}

/** What people read for the API's codes; the API's own message (which names the problem) follows it. */
const CODE_TEXT: Record<string, string> = {
  UNAUTHENTICATED: 'Not signed in or the token is no longer valid',
  FORBIDDEN: 'Your role may not do this',
  BAD_USER_INPUT: 'Check this value',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Not possible now',
  PAYLOAD_TOO_LARGE: 'Too large',
  INTERNAL_SERVER_ERROR: 'The service failed; try again',
  NETWORK: 'The service cannot be reached',
};

export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const lead = CODE_TEXT[error.code] ?? error.code.replace(/_/g, ' ').toLowerCase();
    return `${lead}: ${error.message} (${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}, token = storedToken()): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(err instanceof Error ? err.message : String(err), 'NETWORK', null);
  }
  const body = (await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}`, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }))) as {
    data?: T;
    errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>;
  };
  const [first] = body.errors ?? [];
  if (first) throw new ApiError(first.message, first.extensions?.code ?? 'INTERNAL_SERVER_ERROR', first.extensions?.field ?? null);
  return body.data as T;
}

/** A report file the GraphQL API links to (AuditReport.jsonUrl / htmlUrl), fetched with the token. */
export async function fetchReportFile(url: string): Promise<Blob> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${storedToken() ?? ''}` } });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string; code?: string } } | null;
    throw new ApiError(body?.error?.message ?? `HTTP ${response.status}`, body?.error?.code ?? 'INTERNAL_SERVER_ERROR', null);
  }
  return response.blob();
}

export type Role = 'REQUESTER' | 'OPERATOR' | 'AUDITOR';
export interface Viewer {
  role: Role;
  owner: string;
}

/** The names of every lineage (modelLineages; every role that files may read them), in name order. */
export async function listLineageNames(): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  do {
    const page: { modelLineages: { edges: { node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
      'query ($after: String) { modelLineages(first: 100, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }',
      { after },
    );
    names.push(...page.modelLineages.edges.map((e) => e.node.name));
    after = page.modelLineages.pageInfo.hasNextPage ? page.modelLineages.pageInfo.endCursor : null;
  } while (after);
  return names;
}
