import 'reflect-metadata';
import type { Server } from 'node:http';
import { Logger } from '@nestjs/common';
import { createApp } from './app.module';
import { ConfigError, loadConfig } from './config/config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  // Clients keep idle connections open for a while (undici ~4 s, load balancers up to 60 s). A server that closes
  // an idle connection first races the client's next request on it, which then fails with "other side closed".
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  new Logger('Lethe').log(`GraphQL on ${await app.getUrl()}/graphql`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
