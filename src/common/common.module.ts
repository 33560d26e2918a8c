import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig, parseEncryptionKey } from '../config/config';
import { DataCipher, loadOrCreateKeyFile } from './crypto';

@Global()
@Module({
  providers: [
    {
      provide: DataCipher,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new DataCipher(config.encryptionKey ?? loadOrCreateKeyFile(config.encryptionKeyFile, (raw) => parseEncryptionKey(raw, config.encryptionKeyFile))),
    },
  ],
  exports: [DataCipher],
})
export class CommonModule {}
