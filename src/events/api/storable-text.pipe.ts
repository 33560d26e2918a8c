import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { assertStorable } from '../domain/storable-text';

/** GraphQL's parameter kinds (@nestjs/graphql GqlParamtype): only ARGS come from the client. */
const GQL_ARGS = 3;
const CLIENT_INPUT = new Set<unknown>([GQL_ARGS, 'body', 'query', 'param']);

/**
 * Global: every GraphQL argument (reasons, notes, legal basis, names, owners, policies) and HTTP
 * parameter is checked before any handler runs, so no client text reaches the event log in a form
 * Postgres would store differently from what was hashed. BAD_USER_INPUT names the field (e.g. input.note).
 */
@Injectable()
export class StorableTextPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (CLIENT_INPUT.has(metadata.type)) assertStorable(value, metadata.data ?? 'argument');
    return value;
  }
}
