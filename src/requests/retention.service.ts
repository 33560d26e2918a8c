import { Injectable } from '@nestjs/common';
import { LineagesService } from '../lineages/lineages.service';
import { RetentionOutcome, shouldPurge } from './domain/retention';
import { ForgetSets } from './forget-sets.service';
import { DeletionRequestRepository } from './persistence/deletion-request.repository';

/** Applies the retention rule (domain/retention.ts) to the requests a step just finished. */
@Injectable()
export class Retention {
  constructor(
    private readonly lineages: LineagesService,
    private readonly requests: DeletionRequestRepository,
    private readonly forgetSets: ForgetSets,
  ) {}

  /** Purges the personal data of those of `requestIds` that reached `outcome` and need it no more; returns their ids. */
  async purgeFinished(lineage: string, outcome: RetentionOutcome, requestIds: readonly string[], actor: string): Promise<string[]> {
    const { strategy } = await this.lineages.get(lineage);
    const purged: string[] = [];
    for (const id of requestIds) {
      const request = await this.requests.findById(id);
      if (!request || !shouldPurge(outcome, request, strategy)) continue;
      await this.forgetSets.purge(id, actor, `retention: request ${outcome} on a ${strategy} lineage`);
      purged.push(id);
    }
    return purged;
  }
}
