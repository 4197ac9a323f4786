export { LineageExportError, type LineageExportErrorCode } from './errors.ts';
export { checkEntries, type LedgerEntry, type LedgerEntryInput, type EntryCheckOptions } from './entries.ts';
export {
  toProvJson,
  DEFAULT_PROV_NAMESPACE,
  provDatasetId,
  provCopyId,
  provActivityId,
  provOrgId,
  provKeyId,
  type ProvDocument,
  type ProvExportOptions,
  type ProvAttributes,
  type ProvLiteral,
  type ProvTypedLiteral,
} from './prov.ts';
export {
  toOpenLineage,
  runIdOf,
  ledgerEntryRunFacetSchema,
  LINEAGE_EXPORT_VERSION,
  DEFAULT_PRODUCER,
  DEFAULT_OPENLINEAGE_NAMESPACE,
  DEFAULT_FACET_SCHEMA_BASE,
  RUN_EVENT_SCHEMA_URL,
  FACET_SCHEMA_URLS,
  LEDGER_ENTRY_FACET_KEY,
  type OpenLineageExportOptions,
  type OpenLineageRunEvent,
  type OpenLineageDataset,
  type OpenLineageFacet,
} from './openlineage.ts';
