import { APP_CONFIG, AppConfig, parseEncryptionKey } from '../config/config';
import { loadOrCreateKeyFile } from '../common/crypto';

/** The HMAC key of the event chain (32 bytes): LETHE_CHAIN_KEY, or a key file beside the data, never in the database. */
export const CHAIN_KEY = Symbol('CHAIN_KEY');

export const chainKeyProvider = {
  provide: CHAIN_KEY,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): Buffer =>
    config.chainKey ?? loadOrCreateKeyFile(config.chainKeyFile, (raw) => parseEncryptionKey(raw, config.chainKeyFile)),
};
