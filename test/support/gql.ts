// A tiny GraphQL-over-HTTP client for tests.
export interface GqlError {
  message: string;
  extensions?: { code?: string; field?: string };
}

export interface GqlResponse<T> {
  status: number;
  data?: T | null;
  errors?: GqlError[];
}

export class GqlClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | null,
  ) {}

  withToken(token: string | null): GqlClient {
    return new GqlClient(this.baseUrl, token);
  }

  async request<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<GqlResponse<T>> {
    const response = await fetch(`${this.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: GqlError[] };
    return { status: response.status, data: body.data, errors: body.errors };
  }

  /** Expects success and returns data. */
  async ok<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const result = await this.request<T>(query, variables);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data as T;
  }

  /** Expects exactly one error and returns its code and field. */
  async fails(query: string, variables: Record<string, unknown> = {}): Promise<{ code: string | undefined; field: string | undefined; message: string }> {
    const result = await this.request(query, variables);
    if (!result.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
    const [error] = result.errors;
    return { code: error.extensions?.code, field: error.extensions?.field, message: error.message };
  }
}
