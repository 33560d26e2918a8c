import 'reflect-metadata';
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
  new Logger('Lethe').log(`GraphQL on ${await app.getUrl()}/graphql`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
