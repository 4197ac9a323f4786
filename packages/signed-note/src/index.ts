export { SignedNoteError, isSignedNoteError } from './errors.ts';
export type { SignedNoteErrorCode } from './errors.ts';
export { decodeBase64, encodeBase64, isValidKeyName } from './encoding.ts';
export { ed25519Signer, ed25519Verifier, signerFromKeyText, verifierFromKeyText } from './keys.ts';
export type { Ed25519NoteSigner, Ed25519NoteVerifier, NoteSigner, NoteVerifier } from './keys.ts';
export {
  DEFAULT_MAX_NOTE_BYTES,
  DEFAULT_MAX_SIGNATURES,
  SIGNATURE_PREFIX,
  formatNote,
  formatSignatureLine,
  openNote,
  parseNote,
  signNote,
} from './note.ts';
export type { Note, NoteLimits, NoteSignature, OpenedNote, SignNoteOptions } from './note.ts';
export {
  ROOT_HASH_BYTES,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from './checkpoint.ts';
export type { Checkpoint, OpenCheckpointOptions, VerifiedCheckpoint } from './checkpoint.ts';
