// Test helpers (not exported): leaf text edits for the verifier's property tests, and the
// JSON value mutations of @civic-ledger/schemas/fuzz (re-exported).
import fc from 'fast-check';

export {
  hasSurrogate,
  mutated,
  mutation,
  nastyString,
  sortedJson,
  type Mutation,
} from '@civic-ledger/schemas/fuzz';

/** Edits of a leaf's text that keep it JSON but may make it non-canonical, or break it. */
export const textEdit: fc.Arbitrary<(t: string) => string> = fc.oneof(
  // Whitespace somewhere.
  fc.tuple(fc.nat(), fc.constantFrom(' ', '\n', '\t')).map(([at, w]) => (t: string) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + w + t.slice(i);
  }),
  // A character written as an escape, or \/ for /.
  fc.nat().map((at) => (t: string) => {
    const strings = [...t.matchAll(/"([^"\\]+)"/g)];
    if (strings.length === 0) return t;
    const m = strings[at % strings.length]!;
    const i = m.index! + 1 + (at % m[1]!.length);
    const c = t[i]!;
    const esc = c === '/' ? '\\/' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    return t.slice(0, i) + esc + t.slice(i + 1);
  }),
  // A number in another form.
  fc.tuple(fc.nat(), fc.constantFrom('.0', 'e0', 'E+0', '0')).map(([at, form]) => (t: string) => {
    const nums = [...t.matchAll(/:(\d+)[,}]/g)];
    if (nums.length === 0) return t;
    const m = nums[at % nums.length]!;
    const end = m.index! + 1 + m[1]!.length;
    return form === '0'
      ? t.slice(0, m.index! + 1) + '0' + t.slice(m.index! + 1)
      : t.slice(0, end) + form + t.slice(end);
  }),
  // A member written twice.
  fc.nat().map((at) => (t: string) => {
    const members = [...t.matchAll(/,("[a-zA-Z]+":(?:\d+|"[^"\\]*"))/g)];
    if (members.length === 0) return t;
    const m = members[at % members.length]!;
    const end = m.index! + m[0].length;
    return t.slice(0, end) + ',' + m[1] + t.slice(end);
  }),
  // Two adjacent members swapped.
  fc.nat().map((at) => (t: string) => {
    const members = [
      ...t.matchAll(/([{,])("[a-zA-Z]+":(?:\d+|"[^"\\]*")),("[a-zA-Z]+":(?:\d+|"[^"\\]*"))(?=[,}])/g),
    ];
    if (members.length === 0) return t;
    const m = members[at % members.length]!;
    return t.slice(0, m.index!) + m[1] + m[3] + ',' + m[2] + t.slice(m.index! + m[0].length);
  }),
  // A character replaced, inserted or removed anywhere.
  fc
    .tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 2 }), fc.nat(2))
    .map(([at, s, del]) => (t: string) => {
      const i = at % (t.length + 1);
      return t.slice(0, i) + s + t.slice(i + del);
    }),
);
