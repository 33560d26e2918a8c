import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { canonicalJson, DataCipher, Sealed } from '../common/crypto';
import { Db } from '../database/sql';
import { EventLog } from '../events/event-log.service';
import { DeletionRequest } from './domain/deletion-request';
import { ForgetSet, ForgetSetContent } from './domain/forget-set';
import { RequestError } from './domain/request-error';
import { ForgetSetRepository, ForgetSetRow } from './persistence/forget-set.repository';

/** A forget set ready to store: only ciphertext and the plaintext's digest. */
export interface SealedForgetSet {
  requestId: string;
  sealed: Sealed;
  digest: string;
}

/** Personal data of requests: sealed with AES-256-GCM bound to the request id, opened only when needed. */
@Injectable()
export class ForgetSets {
  constructor(
    private readonly dataSource: DataSource,
    private readonly forgetSets: ForgetSetRepository,
    private readonly cipher: DataCipher,
    private readonly eventLog: EventLog,
  ) {}

  /** Encrypts a request's personal data, before any transaction: sealing large images must not hold one open. */
  seal(requestId: string, content: ForgetSetContent): SealedForgetSet {
    const plaintext = Buffer.from(canonicalJson(content));
    return { requestId, sealed: this.cipher.seal(plaintext, requestId), digest: this.cipher.digest(plaintext) };
  }

  async store(tx: Db, sealed: readonly SealedForgetSet[]): Promise<void> {
    await this.forgetSets.insertMany(tx, sealed);
  }

  private open(row: ForgetSetRow): ForgetSet {
    const content = row.sealed ? (JSON.parse(this.cipher.open(row.sealed, row.requestId).toString('utf8')) as ForgetSetContent) : null;
    return { requestId: row.requestId, content, digest: row.digest, purgedAt: row.purgedAt };
  }

  async load(requestId: string): Promise<ForgetSet> {
    const row = await this.forgetSets.find(requestId);
    if (!row) throw new RequestError('NOT_FOUND', `no forget set for request ${requestId}`);
    return this.open(row);
  }

  /** In the order of `requestIds`. */
  async loadMany(requestIds: readonly string[], db?: Db): Promise<ForgetSet[]> {
    const byId = new Map((await this.forgetSets.findMany([...requestIds], db)).map((row) => [row.requestId, row]));
    return requestIds.map((id) => {
      const row = byId.get(id);
      if (!row) throw new RequestError('NOT_FOUND', `no forget set for request ${id}`);
      return this.open(row);
    });
  }

  /** The name to show: the dataset subject's, else the (decrypted) profile's; null once purged. */
  async subjectName(request: DeletionRequest): Promise<string | null> {
    if (request.datasetSubjectName !== null) return request.datasetSubjectName;
    return (await this.load(request.id)).content?.name ?? null;
  }

  async note(request: DeletionRequest): Promise<string | null> {
    return (await this.load(request.id)).content?.note ?? null;
  }

  /** Erases a request's personal data for good (the digest stays), with its event. false when it was already purged (or kept past `onlyIfKeptUntilBy`). */
  async purgeIn(tx: Db, requestId: string, actor: string, reason: string, onlyIfKeptUntilBy?: Date): Promise<boolean> {
    const purged = await this.forgetSets.purge(tx, requestId, onlyIfKeptUntilBy);
    if (purged) await this.eventLog.append(tx, { actor, type: 'forget_set.purged', entityType: 'request', entityId: requestId, reason });
    return purged;
  }

  /** Keeps a completed request's personal data until `until` for a rollback (the retention sweep purges it then), with its event. */
  async keepForRollback(requestId: string, until: Date, actor: string, reason: string): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      if (await this.forgetSets.keepUntil(tx, requestId, until)) {
        await this.eventLog.append(tx, { actor, type: 'forget_set.kept', entityType: 'request', entityId: requestId, reason, data: { until: until.toISOString() } });
      }
    });
  }

  /** The requests whose personal data was kept for a rollback until `now` or earlier and is not purged yet. */
  keptUntil(now: Date): Promise<string[]> {
    return this.forgetSets.listKeptUntil(now);
  }

  /** purgeIn, in its own transaction. */
  purge(requestId: string, actor: string, reason: string): Promise<boolean> {
    return this.dataSource.transaction((tx) => this.purgeIn(tx, requestId, actor, reason));
  }
}
