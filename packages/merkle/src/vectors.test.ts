// Published RFC 6962 test vectors of the transparency-dev Merkle library
// (https://github.com/transparency-dev/merkle), copied verbatim as hex:
//
//   testonly/constants.go      @ 582a6ad190b6848f1d26f8bf08ddef29955d9db1
//       LeafInputs(), NodeHashes(), RootHashes(), CompactTrees(), EmptyRootHash()
//   proof/verify_test.go       @ 02194e9afb6c1d95b5381350007963aa70fff472
//       inclusionProofs, consistencyProofs, roots, TestVerifyInclusion(SingleEntry),
//       TestVerifyConsistency (a version from before the probes moved to testdata/*.json)
//   testonly/reference_test.go @ 141d627eab770a7e9a2514f46a8b6338e6d90874
//       TestRefInclusionProof, TestRefConsistencyProof
//   proof/proof_test.go        @ 02a3e2029520f515596d5238c54fb0ac9e19bff4
//       TestInclusion, TestConsistency (which node ids a proof reads, and what it rehashes)
//
// Nothing in this file is computed by us: every expected value is from those files.
import { fromHex, toHex } from '@civic-ledger/crypto';
import { describe, expect, it } from 'vitest';
import { CompactRange, newNodeBatch } from './compact-range.ts';
import { MerkleError, type MerkleErrorCode } from './errors.ts';
import { emptyRoot, hashLeaf } from './hash.ts';
import { MemoryNodeStore } from './memory-store.ts';
import { nodeId } from './node-id.ts';
import { planConsistency, planInclusion, type ProofPlan } from './plan.ts';
import { consistencyProof, inclusionProof, loadCompactRange, rootAt } from './store.ts';
import { verifyConsistency, verifyInclusion } from './verify.ts';

// testonly/constants.go LeafInputs()
const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];

// testonly/constants.go NodeHashes(): [level][index]
const NODE_HASHES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

// testonly/constants.go EmptyRootHash()
const EMPTY_ROOT_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// testonly/constants.go RootHashes(): index = tree size, from 0
const ROOT_HASHES = [
  EMPTY_ROOT_HASH,
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

// testonly/constants.go CompactTrees(): the border after each size, as [level, index] of NodeHashes
const COMPACT_TREES: Array<Array<[number, number]>> = [
  [],
  [[0, 0]],
  [[1, 0]],
  [
    [1, 0],
    [0, 2],
  ],
  [[2, 0]],
  [
    [2, 0],
    [0, 4],
  ],
  [
    [2, 0],
    [1, 2],
  ],
  [
    [2, 0],
    [1, 2],
    [0, 6],
  ],
  [[3, 0]],
];

// proof/verify_test.go inclusionProofs: {leaf (1-based), size, proof}. The {0, 0, nil}
// entry is the invalid path the Go test skips too.
const VERIFY_TEST_INCLUSION: Array<{ leaf: number; size: number; proof: string[] }> = [
  { leaf: 1, size: 1, proof: [] },
  {
    leaf: 1,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    leaf: 6,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { leaf: 3, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    leaf: 2,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

// proof/verify_test.go consistencyProofs: {size1, size2, proof}
const VERIFY_TEST_CONSISTENCY: Array<{ size1: number; size2: number; proof: string[] }> = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

// proof/verify_test.go roots: index = tree size - 1
const VERIFY_TEST_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

// proof/verify_test.go sha256SomeHash
const SOME_HASH = 'abacaba000000000000000000000000000000000000000000060061e00123456';

// testonly/reference_test.go TestRefInclusionProof: {index (0-based), size, want}
const REF_INCLUSION: Array<{ index: number; size: number; want: string[] }> = [
  { index: 0, size: 1, want: [] },
  { index: 0, size: 2, want: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7'] },
  { index: 1, size: 2, want: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'] },
  { index: 2, size: 3, want: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    want: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    index: 0,
    size: 8,
    want: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    want: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

// testonly/reference_test.go TestRefConsistencyProof: {size1, size2, want}
const REF_CONSISTENCY: Array<{ size1: number; size2: number; want: string[] }> = [
  { size1: 1, size2: 1, want: [] },
  {
    size1: 1,
    size2: 8,
    want: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 2,
    size2: 5,
    want: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    size1: 6,
    size2: 8,
    want: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

type IdPair = [level: number, index: number];
interface PlanVector {
  a: number;
  b: number;
  ids: IdPair[];
  rehash?: [begin: number, end: number];
}

// proof/proof_test.go TestInclusion: {size, index, want}, rewritten as {a: index, b: size}.
// `rehash(begin, end, ...)` there is `rehash` here; `nodes(...)` has no rehash.
const PLAN_INCLUSION: PlanVector[] = [
  { b: 1, a: 0, ids: [] },
  { b: 2, a: 0, ids: [[0, 1]] },
  { b: 2, a: 1, ids: [[0, 0]] },
  {
    b: 3,
    a: 1,
    ids: [
      [0, 0],
      [0, 2],
    ],
  },
  {
    b: 7,
    a: 0,
    rehash: [2, 4],
    ids: [
      [0, 1],
      [1, 1],
      [0, 6],
      [1, 2],
    ],
  },
  {
    b: 7,
    a: 1,
    rehash: [2, 4],
    ids: [
      [0, 0],
      [1, 1],
      [0, 6],
      [1, 2],
    ],
  },
  {
    b: 7,
    a: 2,
    rehash: [2, 4],
    ids: [
      [0, 3],
      [1, 0],
      [0, 6],
      [1, 2],
    ],
  },
  {
    b: 7,
    a: 3,
    rehash: [2, 4],
    ids: [
      [0, 2],
      [1, 0],
      [0, 6],
      [1, 2],
    ],
  },
  {
    b: 7,
    a: 4,
    ids: [
      [0, 5],
      [0, 6],
      [2, 0],
    ],
  },
  {
    b: 7,
    a: 5,
    ids: [
      [0, 4],
      [0, 6],
      [2, 0],
    ],
  },
  {
    b: 7,
    a: 6,
    ids: [
      [1, 2],
      [2, 0],
    ],
  },
  {
    b: 4,
    a: 2,
    ids: [
      [0, 3],
      [1, 0],
    ],
  },
  {
    b: 5,
    a: 3,
    ids: [
      [0, 2],
      [1, 0],
      [0, 4],
    ],
  },
  {
    b: 6,
    a: 3,
    ids: [
      [0, 2],
      [1, 0],
      [1, 2],
    ],
  },
  {
    b: 6,
    a: 4,
    ids: [
      [0, 5],
      [2, 0],
    ],
  },
  {
    b: 15,
    a: 10,
    rehash: [2, 4],
    ids: [
      [0, 11],
      [1, 4],
      [0, 14],
      [1, 6],
      [3, 0],
    ],
  },
  {
    b: 31,
    a: 24,
    rehash: [2, 4],
    ids: [
      [0, 25],
      [1, 13],
      [0, 30],
      [1, 14],
      [3, 2],
      [4, 0],
    ],
  },
  {
    b: 95,
    a: 81,
    rehash: [3, 6],
    ids: [
      [0, 80],
      [1, 41],
      [2, 21],
      [0, 94],
      [1, 46],
      [2, 22],
      [4, 4],
      [6, 0],
    ],
  },
];

// proof/proof_test.go TestInclusion error cases: {size, index}
const PLAN_INCLUSION_ERRORS: Array<[size: number, index: number]> = [
  [0, 0],
  [0, 1],
  [1, 2],
  [0, 3],
  [7, 8],
];

// proof/proof_test.go TestConsistency: {size1, size2, want}, as {a: size1, b: size2}
const PLAN_CONSISTENCY: PlanVector[] = [
  { a: 1, b: 2, ids: [[0, 1]] },
  {
    a: 1,
    b: 4,
    ids: [
      [0, 1],
      [1, 1],
    ],
  },
  {
    a: 1,
    b: 6,
    ids: [
      [0, 1],
      [1, 1],
      [1, 2],
    ],
  },
  { a: 2, b: 3, ids: [[0, 2]] },
  {
    a: 2,
    b: 8,
    ids: [
      [1, 1],
      [2, 1],
    ],
  },
  {
    a: 3,
    b: 7,
    rehash: [3, 5],
    ids: [
      [0, 2],
      [0, 3],
      [1, 0],
      [0, 6],
      [1, 2],
    ],
  },
  {
    a: 4,
    b: 7,
    rehash: [0, 2],
    ids: [
      [0, 6],
      [1, 2],
    ],
  },
  {
    a: 5,
    b: 7,
    ids: [
      [0, 4],
      [0, 5],
      [0, 6],
      [2, 0],
    ],
  },
  {
    a: 6,
    b: 7,
    ids: [
      [1, 2],
      [0, 6],
      [2, 0],
    ],
  },
  {
    a: 7,
    b: 8,
    ids: [
      [0, 6],
      [0, 7],
      [1, 2],
      [2, 0],
    ],
  },
  { a: 1, b: 1, ids: [] },
  { a: 2, b: 2, ids: [] },
  { a: 3, b: 3, ids: [] },
  { a: 4, b: 4, ids: [] },
  { a: 5, b: 5, ids: [] },
  { a: 7, b: 7, ids: [] },
  { a: 8, b: 8, ids: [] },
  { a: 2, b: 4, ids: [[1, 1]] },
  {
    a: 3,
    b: 5,
    ids: [
      [0, 2],
      [0, 3],
      [1, 0],
      [0, 4],
    ],
  },
  {
    a: 3,
    b: 6,
    ids: [
      [0, 2],
      [0, 3],
      [1, 0],
      [1, 2],
    ],
  },
  { a: 4, b: 6, ids: [[1, 2]] },
  {
    a: 1,
    b: 7,
    rehash: [2, 4],
    ids: [
      [0, 1],
      [1, 1],
      [0, 6],
      [1, 2],
    ],
  },
  {
    a: 10,
    b: 15,
    rehash: [2, 4],
    ids: [
      [1, 4],
      [1, 5],
      [0, 14],
      [1, 6],
      [3, 0],
    ],
  },
  {
    a: 24,
    b: 31,
    rehash: [1, 4],
    ids: [
      [3, 2],
      [0, 30],
      [1, 14],
      [2, 6],
      [4, 0],
    ],
  },
  {
    a: 81,
    b: 95,
    rehash: [4, 7],
    ids: [
      [0, 80],
      [0, 81],
      [1, 41],
      [2, 21],
      [0, 94],
      [1, 46],
      [2, 22],
      [4, 4],
      [6, 0],
    ],
  },
];

// proof/proof_test.go TestConsistency error cases: {size1, size2}
const PLAN_CONSISTENCY_ERRORS: Array<[size1: number, size2: number, code: MerkleErrorCode]> = [
  [5, 0, 'SIZE_ORDER'],
  [9, 8, 'SIZE_ORDER'],
];

const hex = (hs: readonly Uint8Array[]): string[] => hs.map(toHex);
const bytes = (hs: readonly string[]): Uint8Array[] => hs.map(fromHex);

function codeOf(f: () => unknown): MerkleErrorCode | 'no error' {
  try {
    f();
    return 'no error';
  } catch (err) {
    if (err instanceof MerkleError) return err.code;
    throw err;
  }
}

/** The 8-leaf reference tree, appended leaf by leaf into a memory store. */
function referenceTree(): MemoryNodeStore {
  const store = new MemoryNodeStore();
  const range = CompactRange.empty();
  for (const input of LEAF_INPUTS) store.putNodes(range.append(hashLeaf(fromHex(input)), newNodeBatch()));
  return store;
}

function planPairs(plan: ProofPlan): IdPair[] {
  return plan.ids.map((id) => {
    for (let level = 0; level < 53; level++) {
      const span = 2 ** level;
      if ((id + 1) % (2 * span) === span) return [level, (id + 1 - span) / (2 * span)];
    }
    throw new Error(`bad id ${id}`);
  });
}

describe('RFC 6962 reference tree (transparency-dev testonly/constants.go)', () => {
  it('hashes the 8 leaf inputs to NodeHashes()[0]', () => {
    expect(LEAF_INPUTS.map((l) => toHex(hashLeaf(fromHex(l))))).toEqual(NODE_HASHES[0]);
  });

  it('stores exactly the 15 perfect nodes of NodeHashes() after 8 appends', async () => {
    const store = referenceTree();
    expect(store.nodeCount).toBe(15);
    for (let level = 0; level < NODE_HASHES.length; level++) {
      const ids = NODE_HASHES[level]!.map((_, index) => nodeId(level, index));
      expect(hex((await store.getNodes(ids)) as Uint8Array[])).toEqual(NODE_HASHES[level]);
    }
  });

  it('has the empty root EmptyRootHash()', () => {
    expect(toHex(emptyRoot())).toBe(EMPTY_ROOT_HASH);
    expect(toHex(CompactRange.empty().root())).toBe(EMPTY_ROOT_HASH);
  });

  it('has RootHashes()[n] as the root of every size n in 0..8, while appending and from the store', async () => {
    const range = CompactRange.empty();
    const store = new MemoryNodeStore();
    expect(toHex(range.root())).toBe(ROOT_HASHES[0]);
    for (let n = 1; n <= 8; n++) {
      store.putNodes(range.append(hashLeaf(fromHex(LEAF_INPUTS[n - 1]!))));
      expect(toHex(range.root())).toBe(ROOT_HASHES[n]);
    }
    for (let n = 0; n <= 8; n++) expect(toHex(await rootAt(store, n))).toBe(ROOT_HASHES[n]);
    // proof/verify_test.go `roots` agrees with RootHashes()[1..8]
    expect(ROOT_HASHES.slice(1)).toEqual(VERIFY_TEST_ROOTS);
  });

  it('has the border CompactTrees()[n] for every size n in 0..8, while appending and from the store', async () => {
    const store = referenceTree();
    const range = CompactRange.empty();
    for (let n = 0; n <= 8; n++) {
      const want = COMPACT_TREES[n]!.map(([level, index]) => NODE_HASHES[level]![index]!);
      expect(hex(range.hashes)).toEqual(want);
      expect(hex((await loadCompactRange(store, n)).hashes)).toEqual(want);
      if (n < 8) range.append(hashLeaf(fromHex(LEAF_INPUTS[n]!)));
    }
  });
});

describe('inclusion proofs (proof/verify_test.go, testonly/reference_test.go)', () => {
  const cases = [
    ...VERIFY_TEST_INCLUSION.map((v) => ({
      index: v.leaf - 1,
      size: v.size,
      proof: v.proof,
      src: 'verify_test',
    })),
    ...REF_INCLUSION.map((v) => ({ index: v.index, size: v.size, proof: v.want, src: 'reference_test' })),
  ];
  it.each(cases)(
    '$src: leaf $index in size $size is generated and verifies',
    async ({ index, size, proof }) => {
      const store = referenceTree();
      expect(hex(await inclusionProof(store, index, size))).toEqual(proof);
      const leafHash = hashLeaf(fromHex(LEAF_INPUTS[index]!));
      expect(() =>
        verifyInclusion(leafHash, index, size, bytes(proof), fromHex(ROOT_HASHES[size]!)),
      ).not.toThrow();
    },
  );

  // TestVerifyInclusion: an empty proof for these (index, size) never verifies.
  it.each([
    [0, 0],
    [0, 1],
    [1, 0],
    [2, 1],
  ])('verify_test probe index %i size %i is refused', (index, size) => {
    const some = fromHex(SOME_HASH);
    const empty = fromHex(EMPTY_ROOT_HASH);
    expect(codeOf(() => verifyInclusion(some, index, size, [], new Uint8Array(0)))).not.toBe('no error');
    expect(codeOf(() => verifyInclusion(new Uint8Array(0), index, size, [], empty))).not.toBe('no error');
    expect(codeOf(() => verifyInclusion(some, index, size, [], empty))).not.toBe('no error');
  });

  // TestVerifyInclusionSingleEntry: the root of a one-leaf tree is its leaf hash.
  it('verify_test single entry: root == leaf hash, empty proof', () => {
    const hash = hashLeaf(new TextEncoder().encode('data'));
    const none = new Uint8Array(0);
    expect(codeOf(() => verifyInclusion(hash, 0, 1, [], hash))).toBe('no error');
    expect(codeOf(() => verifyInclusion(none, 0, 1, [], hash))).toBe('INVALID_HASH_SIZE');
    expect(codeOf(() => verifyInclusion(hash, 0, 1, [], none))).toBe('ROOT_MISMATCH');
    expect(codeOf(() => verifyInclusion(none, 0, 1, [], none))).toBe('INVALID_HASH_SIZE');
  });
});

describe('consistency proofs (proof/verify_test.go, testonly/reference_test.go)', () => {
  const cases = [
    ...VERIFY_TEST_CONSISTENCY.map((v) => ({ ...v, src: 'verify_test' })),
    ...REF_CONSISTENCY.map((v) => ({ size1: v.size1, size2: v.size2, proof: v.want, src: 'reference_test' })),
  ];
  it.each(cases)('$src: $size1 -> $size2 is generated and verifies', async ({ size1, size2, proof }) => {
    const store = referenceTree();
    expect(hex(await consistencyProof(store, size1, size2))).toEqual(proof);
    const root1 = fromHex(ROOT_HASHES[size1]!);
    const root2 = fromHex(ROOT_HASHES[size2]!);
    expect(() => verifyConsistency(size1, size2, bytes(proof), root1, root2)).not.toThrow();
  });

  // TestVerifyConsistency table. One deliberate difference: the Go table accepts
  // {0, 1, root1, root2, empty proof}; our spec refuses any consistency proof from size 0
  // to a larger tree (EMPTY_TREE_CONSISTENCY), as proof.Consistency does for generation.
  const r1 = new TextEncoder().encode("don't care 1");
  const r2 = new TextEncoder().encode("don't care 2");
  const e = fromHex(EMPTY_ROOT_HASH);
  const p2 = [e];
  it.each<[number, number, Uint8Array, Uint8Array, Uint8Array[], MerkleErrorCode | 'no error']>([
    [0, 0, r1, r2, [], 'ROOT_MISMATCH'],
    [1, 1, r1, r2, [], 'ROOT_MISMATCH'],
    [0, 0, r1, r1, [], 'no error'],
    [0, 1, r1, r2, [], 'EMPTY_TREE_CONSISTENCY'], // Go: accepted (wantErr false)
    [1, 1, r2, r2, [], 'no error'],
    [1, 0, r1, r2, [], 'SIZE_ORDER'],
    [2, 1, r1, r2, [], 'SIZE_ORDER'],
    [1, 2, r1, r2, [], 'WRONG_PROOF_SIZE'],
    [0, 0, e, r2, [], 'ROOT_MISMATCH'],
    [1, 1, e, r2, [], 'ROOT_MISMATCH'],
    [0, 0, e, e, p2, 'NONEMPTY_PROOF_FOR_EQUAL_SIZES'],
    [0, 1, e, e, p2, 'EMPTY_TREE_CONSISTENCY'],
    [1, 1, e, e, p2, 'NONEMPTY_PROOF_FOR_EQUAL_SIZES'],
  ])('verify_test table: %i -> %i gives %s', (size1, size2, root1, root2, proof, want) => {
    expect(codeOf(() => verifyConsistency(size1, size2, proof, root1, root2))).toBe(want);
  });
});

describe('proof planning (proof/proof_test.go)', () => {
  const expectPlan = (plan: ProofPlan, v: PlanVector): void => {
    expect(planPairs(plan)).toEqual(v.ids);
    const [begin, end] = v.rehash ?? [0, 0];
    expect([plan.rehashBegin, plan.rehashEnd]).toEqual([begin, end]);
  };
  it.each(PLAN_INCLUSION)('Inclusion(index $a, size $b)', (v) => expectPlan(planInclusion(v.a, v.b), v));
  it.each(PLAN_CONSISTENCY)('Consistency($a, $b)', (v) => expectPlan(planConsistency(v.a, v.b), v));
  it.each(PLAN_INCLUSION_ERRORS)('Inclusion refuses size %i index %i', (size, index) => {
    expect(codeOf(() => planInclusion(index, size))).toBe('INDEX_OUT_OF_RANGE');
  });
  it.each(PLAN_CONSISTENCY_ERRORS)('Consistency refuses %i -> %i', (size1, size2, code) => {
    expect(codeOf(() => planConsistency(size1, size2))).toBe(code);
  });
});
