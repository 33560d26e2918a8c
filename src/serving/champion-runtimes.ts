// Open runtimes of the versions that answered lately, keyed by export and adapter sha256. The champion is read
// per request (ServingService), so a promotion or rollback changes the answering version on the next request;
// this cache only spares reopening the graphs for the versions that keep answering.
import { Generation, GenerationInput, DecodingOptions, OnnxLlavaScorer, openScorer } from '../audits/runtime';

interface OpenRuntime {
  runtime: Promise<OnnxLlavaScorer>;
  /** Generations run one at a time per runtime: the sessions are shared, and a 2-core host gains nothing from overlap. */
  tail: Promise<unknown>;
}

export interface RuntimeKey {
  exportDir: string;
  modelDir: string;
  adapter: { path: string; sha256: string } | null;
}

/** The champion and the one before: a rollback goes back to a version that was just open. */
const KEPT_OPEN = 2;

export class ChampionRuntimes {
  private readonly open = new Map<string, OpenRuntime>();

  async generate(key: RuntimeKey, input: GenerationInput, options: DecodingOptions, onText?: (delta: string) => void): Promise<Generation> {
    const entry = this.entry(key);
    const run = entry.tail.then(async () => (await entry.runtime).generate(input, options, onText));
    entry.tail = run.catch(() => undefined);
    return run;
  }

  async closeAll(): Promise<void> {
    const entries = [...this.open.values()];
    this.open.clear();
    await Promise.all(entries.map((e) => this.close(e)));
  }

  private entry(key: RuntimeKey): OpenRuntime {
    const id = JSON.stringify([key.exportDir, key.modelDir, key.adapter?.sha256 ?? null]);
    let entry = this.open.get(id);
    if (entry) {
      // Most recently used last.
      this.open.delete(id);
      this.open.set(id, entry);
      return entry;
    }
    // The adapter's sha256 is checked against the version record before any tensor in it is used (adapter.ts).
    const runtime = openScorer({ exportDir: key.exportDir, modelDir: key.modelDir, adapter: key.adapter });
    entry = { runtime, tail: runtime.catch(() => undefined) };
    // A runtime that failed to open is not kept: the next request tries again (the export may be written by then).
    runtime.catch(() => this.open.get(id) === entry && this.open.delete(id));
    this.open.set(id, entry);
    while (this.open.size > KEPT_OPEN) {
      const [oldest, value] = this.open.entries().next().value!;
      this.open.delete(oldest);
      void this.close(value);
    }
    return entry;
  }

  /** After the generations already queued on it. */
  private async close(entry: OpenRuntime): Promise<void> {
    await entry.tail;
    const runtime = await entry.runtime.catch(() => null);
    await runtime?.close();
  }
}
