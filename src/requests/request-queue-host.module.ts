import { DynamicModule, Global, Module, Type } from '@nestjs/common';

/**
 * Makes the RequestQueue (REQUEST_QUEUE) of the given module available to every feature without
 * the features importing the orchestration: the app passes OrchestrationModule (Temporal), and
 * the orchestration can import the control-plane modules without an import cycle.
 */
@Global()
@Module({})
export class RequestQueueHostModule {
  static use(source: Type | DynamicModule): DynamicModule {
    return { module: RequestQueueHostModule, imports: [source], exports: [source] };
  }
}
