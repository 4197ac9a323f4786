// The lineage contract on the MongoDB adapter, against a real server (FerretDB 1.24 here,
// MongoDB 7 where a container runs): the same answers as the index built from the same leaves.
import { randomUUID } from 'node:crypto';
import { MongoStore } from '@civic-ledger/storage-mongodb';
import { findService } from '@civic-ledger/test-services';
import { MongoClient } from 'mongodb';
import { describe } from 'vitest';
import { describeLineageStoreContract } from './store-contract.ts';

const url = await findService('mongodb');

describe.skipIf(url === undefined)('MongoStore lineage', () => {
  describeLineageStoreContract(
    'mongodb',
    async () => {
      const database = `cl_lineage_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      return {
        store: await MongoStore.connect(url!, database),
        cleanup: async () => {
          const admin = await new MongoClient(url!).connect();
          try {
            await admin.db(database).dropDatabase();
          } finally {
            await admin.close();
          }
        },
      };
    },
    {
      // FerretDB scans the collection for every lookup (~0.2 s each at this size), so fewer
      // starts, larger chunks, and no rebuild (writeDerived there takes minutes; the storage
      // contract covers it at a small size).
      starts: 4,
      depths: [20],
      chunk: 500,
      rebuild: false,
    },
  );
});
