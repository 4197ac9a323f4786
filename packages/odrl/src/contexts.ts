// The JSON-LD contexts, shipped in the package, and a document loader that serves only
// them. A JSON-LD processor otherwise fetches every context URL it meets; this one never
// fetches anything: a URL it does not ship is refused with CONTEXT_NOT_LOCAL.
import civicLedgerContext from './contexts/civic-ledger.json' with { type: 'json' };
import odrlContextDocument from './contexts/odrl.json' with { type: 'json' };
import { OdrlError } from './errors.ts';

/** The official URL of the W3C ODRL 2.2 JSON-LD context: the first entry of every policy's `@context`. */
export const ODRL_CONTEXT_URL = 'http://www.w3.org/ns/odrl.jsonld';

/**
 * Our copy of the ODRL 2.2 context: a faithful subset of the W3C document (every term the
 * export writes, and the core structure), each definition as the W3C context has it.
 */
export const ODRL_CONTEXT_DOCUMENT: { readonly '@context': Readonly<Record<string, unknown>> } =
  odrlContextDocument;

/**
 * The second entry of every policy's `@context`, inline (so there is no URL to resolve):
 * the DPV namespaces and our profile's prefix `cl`, with the IRI coercion of the DPV,
 * Dublin Core, SKOS and profile properties the export uses. DPV publishes its vocabulary,
 * not a JSON-LD context document, so there is no official DPV context URL to reference.
 */
export type CivicLedgerContext = typeof civicLedgerContext;
export const CIVIC_LEDGER_CONTEXT: CivicLedgerContext = civicLedgerContext;

/** What a JSON-LD document loader answers (jsonld.js's `RemoteDocument`). */
export interface LocalRemoteDocument {
  contextUrl: undefined;
  documentUrl: string;
  document: Record<string, unknown>;
}

// The W3C serves the same document over https; producers use either spelling.
const LOCAL_DOCUMENTS: ReadonlyMap<string, Record<string, unknown>> = new Map([
  [ODRL_CONTEXT_URL, odrlContextDocument],
  ['https://www.w3.org/ns/odrl.jsonld', odrlContextDocument],
]);

/** The URLs `localDocumentLoader` serves. */
export const LOCAL_CONTEXT_URLS: readonly string[] = [...LOCAL_DOCUMENTS.keys()];

/**
 * A JSON-LD document loader (jsonld.js `documentLoader`) that answers the contexts shipped
 * here and refuses every other URL with an OdrlError CONTEXT_NOT_LOCAL: nothing is fetched.
 * Each answer is a fresh copy, so a processor can never alter the shipped context.
 */
export async function localDocumentLoader(url: string): Promise<LocalRemoteDocument> {
  const document = LOCAL_DOCUMENTS.get(url);
  if (document === undefined) {
    throw new OdrlError(
      'CONTEXT_NOT_LOCAL',
      'url',
      `${JSON.stringify(url)} is not a context shipped with @civic-ledger/odrl (it serves ${LOCAL_CONTEXT_URLS.join(', ')}); nothing is ever fetched`,
    );
  }
  return { contextUrl: undefined, documentUrl: url, document: structuredClone(document) };
}
