// The decrypted forget-set files the GPU worker trains on (contracts/forget-set.schema.json). They
// are the only plaintext copy of personal data outside the database, so they live no longer than
// the step that needs them:
// - written when the step runs, and only while a GPU worker polls: none is written to wait for a
//   worker that is down (one that dies later in the step leaves the file until the step ends),
// - one directory per step or pass, named from its inputs, so a retried write replaces the copy,
// - deleted when the step ends, whatever the outcome (the workflow calls discardForgetSetFile),
// - and swept at worker start: a directory whose step no longer runs is an orphan of a crash.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DeletionRequest } from '../requests/domain/deletion-request';
import type { ForgetSet } from '../requests/domain/forget-set';
import { ActivityRefusal } from './domain/orchestration-error';
import type { FileRef, ForgetSetFile } from '../common/gpu-contracts';

/** Whether a GPU worker is polling for unlearning tasks right now. */
export interface GpuWorkerPresence {
  isPolling(): Promise<boolean>;
}

/** The step a forget-set directory belongs to (its `step.json`: ids only, no personal data). */
export interface ForgetSetOwner {
  lineage: string;
  requestIds: string[];
}

/** Retryable: the activity is retried until a GPU worker polls, and only then is the plaintext written. */
export class GpuWorkerAbsent extends Error {
  constructor() {
    super('no GPU worker is polling the gpu queue; the forget set is written once one is');
    this.name = 'GpuWorkerAbsent';
  }
}

const OWNER_FILE = 'step.json';
const FORGET_SET_FILE = 'forget-set.json';

export class ForgetSetFiles {
  readonly root: string;

  constructor(
    artifactsDir: string,
    private readonly gpu: GpuWorkerPresence,
  ) {
    this.root = path.resolve(artifactsDir, 'forget-sets');
  }

  /** Refuses (retryably) while no GPU worker polls: a written file would wait on disk for it. */
  async requireGpuWorker(): Promise<void> {
    if (!(await this.gpu.isPolling())) throw new GpuWorkerAbsent();
  }

  /** The directory of a step's own forget set: the same inputs name the same directory. */
  static stepDir(owner: ForgetSetOwner): string {
    return `step-${crypto.createHash('sha256').update(JSON.stringify([owner.lineage, owner.requestIds])).digest('hex').slice(0, 24)}`;
  }

  /** The directory of a re-forget pass's forget set: one per candidate it continues. */
  static passDir(lineage: string, version: number): string {
    return `reforget-${lineage}-v${version}`;
  }

  /**
   * Writes the forget set of `requests` and its images into `dirName` (replacing whatever a retry left
   * there), after checking a GPU worker is polling. A purged request can only be redone as a dataset subject.
   */
  async write(dirName: string, owner: ForgetSetOwner, requests: readonly DeletionRequest[], forgetSets: readonly ForgetSet[]): Promise<FileRef> {
    await this.requireGpuWorker();
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const dir = path.join(this.root, dirName);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(owner), { mode: 0o600 });
    const file: ForgetSetFile = { subjects: [] };
    requests.forEach((request, i) => {
      const content = forgetSets[i].content;
      if (!content) {
        if (!request.datasetSubjectId) {
          throw new ActivityRefusal('FORGET_SET_PURGED', `forgetSet: request ${request.id}'s personal data was purged; it cannot be unlearned again`);
        }
        file.subjects.push({ requestId: request.id, name: request.datasetSubjectName ?? request.datasetSubjectId, datasetSubjectId: request.datasetSubjectId, images: [], facts: [] });
        return;
      }
      const images = content.images.map((image, j) => {
        const imagePath = path.join(dir, `${request.id}-${j}.${image.format === 'jpeg' ? 'jpg' : 'png'}`);
        fs.writeFileSync(imagePath, Buffer.from(image.data, 'base64'), { mode: 0o600 });
        return imagePath;
      });
      file.subjects.push({ requestId: request.id, name: content.name, datasetSubjectId: content.datasetSubjectId, images, facts: content.facts });
    });
    const bytes = Buffer.from(JSON.stringify(file));
    const filePath = path.join(dir, FORGET_SET_FILE);
    fs.writeFileSync(filePath, bytes, { mode: 0o600 });
    return { path: filePath, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
  }

  /** Deletes a forget-set file's directory; only ever one directly under the root. */
  discard(file: string): void {
    const dir = path.dirname(path.resolve(file));
    if (path.dirname(dir) !== this.root) throw new ActivityRefusal('BAD_INPUT', `path: ${file} is not a forget-set file of this service`);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  /** Removes every directory whose step no longer runs (or that names none); returns their names. */
  async sweep(isRunning: (owner: ForgetSetOwner) => Promise<boolean>): Promise<string[]> {
    if (!fs.existsSync(this.root)) return [];
    const removed: string[] = [];
    for (const entry of fs.readdirSync(this.root, { withFileTypes: true })) {
      const dir = path.join(this.root, entry.name);
      const owner = entry.isDirectory() ? readOwner(dir) : null;
      if (owner && (await isRunning(owner))) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(entry.name);
    }
    return removed;
  }
}

function readOwner(dir: string): ForgetSetOwner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as Partial<ForgetSetOwner>;
    return typeof owner.lineage === 'string' && Array.isArray(owner.requestIds) ? { lineage: owner.lineage, requestIds: owner.requestIds.map(String) } : null;
  } catch {
    return null;
  }
}
