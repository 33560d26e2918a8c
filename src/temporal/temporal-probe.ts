import type { Client } from '@temporalio/client';

/**
 * Whether the Temporal frontend answers on the client's connection (GetSystemInfo: cheap, needs no namespace), within
 * `timeoutMs`. The SDK reconnects by itself, so a server that comes back answers again.
 */
export async function temporalAnswers(client: Client, timeoutMs: number): Promise<boolean> {
  try {
    await client.connection.withDeadline(Date.now() + timeoutMs, () => client.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}
