// Private key files: the signer-key text and a newline, mode 0600, never overwritten
// silently, and refused on read when other users could read them (as ssh does).
import { constants, openSync, readFileSync, statSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { CryptoError } from './errors.ts';
import { formatSigningKey, parseSigningKey, type SigningKey } from './ed25519.ts';

export function writeSigningKeyFile(path: string, key: SigningKey, options?: { overwrite?: boolean }): void {
  const flags =
    constants.O_WRONLY | constants.O_CREAT | (options?.overwrite ? constants.O_TRUNC : constants.O_EXCL);
  let fd: number;
  try {
    fd = openSync(path, flags, 0o600);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CryptoError('KEY_FILE_EXISTS', `${path} already exists; refusing to overwrite a key`, {
        cause,
      });
    }
    throw cause;
  }
  try {
    writeSync(fd, `${formatSigningKey(key)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readSigningKeyFile(path: string): SigningKey {
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new CryptoError(
      'KEY_FILE_PERMISSIONS',
      `${path} is readable by other users; run: chmod 600 ${path}`,
    );
  }
  // The file is the key text and one final newline; the text itself is parsed exactly.
  return parseSigningKey(readFileSync(path, 'utf8').replace(/\r?\n$/, ''));
}
