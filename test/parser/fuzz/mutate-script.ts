import type { SeededRandom } from '../../../src/zoo/seeded-random';
import { KEYWORDS } from '../../../src/parser/index';

/**
 * Byte-level damage to a valid script: characters inserted, deleted or replaced, tokens swapped,
 * duplicated or dropped, the text cut short, odd Unicode (astral characters, lone surrogates, NUL,
 * zero-width and right-to-left marks), very long names and numbers, and deep or unbalanced nesting
 * of parentheses. Returns the damaged text and what was done, for the failure message.
 */
export function mutateScript(random: SeededRandom, text: string): { text: string; mutations: string[] } {
  const mutations: string[] = [];
  let current = text;
  const count = random.weighted([[1, 5], [2, 3], [3, 2], [6, 1]] as const);
  for (let i = 0; i < count; i++) {
    const mutation = random.weighted(MUTATIONS.map((m) => [m, m.weight] as const));
    const at = random.int(0, current.length);
    current = mutation.apply(random, current, at);
    mutations.push(`${mutation.name}@${at}`);
  }
  return { text: current, mutations };
}

interface Mutation {
  readonly name: string;
  readonly weight: number;
  readonly apply: (random: SeededRandom, text: string, at: number) => string;
}

const ODD_CHARACTERS = [
  '\u0000', '\u200b', '\u200f', '\ufeff', '\u00a0', '\u2028', '\r', '\ud800', '\udfff', '😀', '𝔘', 'é', 'ß', '中', '×', 'İ',
  '\u0301', '\\', '`', '@', '#', '~', '^', '|', '&', '!', '?', '{', '}', '[', ']', '<', '>', '=', ':', '+',
];
const SYNTAX_CHARACTERS = ["'", '"', '$', '$$', '(', ')', ';', ',', '.', '-', '--', '/*', '*/', '%', '>=', 'x', ' ', '\n', 'E\''];

function randomCharacter(random: SeededRandom): string {
  const kind = random.weighted<string>([['syntax', 4], ['odd', 3], ['ascii', 3], ['digit', 2]]);
  if (kind === 'syntax') return random.pick(SYNTAX_CHARACTERS);
  if (kind === 'odd') return random.pick(ODD_CHARACTERS);
  if (kind === 'digit') return String(random.int(0, 9));
  return String.fromCharCode(random.int(32, 126));
}

/** Runs of letters, digits, quoted strings and names, or single symbols; with the spaces between. */
function tokens(text: string): string[] {
  return text.match(/'(?:[^']|'')*'?|"(?:[^"]|"")*"?|[A-Za-z_\u00c0-\uffff][\w$\u00c0-\uffff]*|\d+(?:\.\d*)?|\s+|[^\s]/g) ?? [];
}

function onTokens(text: string, change: (parts: string[]) => void): string {
  const parts = tokens(text);
  if (parts.length === 0) return text;
  change(parts);
  return parts.join('');
}

const MUTATIONS: readonly Mutation[] = [
  { name: 'insert', weight: 6, apply: (random, text, at) => text.slice(0, at) + randomCharacter(random) + text.slice(at) },
  { name: 'delete', weight: 5, apply: (random, text, at) => text.slice(0, at) + text.slice(at + random.int(1, 3)) },
  { name: 'deleteRange', weight: 2, apply: (random, text, at) => text.slice(0, at) + text.slice(at + random.int(4, 40)) },
  { name: 'replace', weight: 5, apply: (random, text, at) => text.slice(0, at) + randomCharacter(random) + text.slice(at + 1) },
  { name: 'truncate', weight: 3, apply: (_random, text, at) => text.slice(0, at) },
  {
    name: 'swapTokens',
    weight: 3,
    apply: (random, text) => onTokens(text, (parts) => {
      const i = random.int(0, parts.length - 1);
      const j = random.int(0, parts.length - 1);
      [parts[i], parts[j]] = [parts[j], parts[i]];
    }),
  },
  {
    name: 'duplicateToken',
    weight: 2,
    apply: (random, text) => onTokens(text, (parts) => {
      const i = random.int(0, parts.length - 1);
      parts.splice(i, 0, parts[i], ' ');
    }),
  },
  {
    name: 'dropToken',
    weight: 3,
    apply: (random, text) => onTokens(text, (parts) => { parts.splice(random.int(0, parts.length - 1), 1); }),
  },
  {
    name: 'keyword',
    weight: 3,
    apply: (random, text, at) => `${text.slice(0, at)} ${random.pick(KEYWORDS)} ${text.slice(at)}`,
  },
  {
    name: 'longName',
    weight: 1,
    apply: (random, text) => onTokens(text, (parts) => {
      const names = parts.map((p, i) => (/^[A-Za-z_]/.test(p) ? i : -1)).filter((i) => i >= 0);
      const long = random.chance(0.5) ? 'n'.repeat(random.int(1000, 20000)) : `"${'q'.repeat(random.int(1000, 20000))}"`;
      if (names.length > 0) parts[random.pick(names)] = long;
      else parts.push(' ', long);
    }),
  },
  {
    name: 'longNumber',
    weight: 2,
    apply: (random, text) => onTokens(text, (parts) => {
      const numbers = parts.map((p, i) => (/^\d/.test(p) ? i : -1)).filter((i) => i >= 0);
      const long = random.pick([
        '9'.repeat(random.int(20, 5000)),
        `0.${'0'.repeat(random.int(300, 400))}1`,
        '1e999', '1e-999', '1e308', '4294967297', '9007199254740993', '0x10', '1_000', '00016', '.e5', '1.e',
      ]);
      if (numbers.length > 0) parts[random.pick(numbers)] = long;
      else parts.push(' ', long);
    }),
  },
  {
    name: 'deepNesting',
    weight: 2,
    apply: (random, text) => {
      const depth = random.pick([10, 100, 1000, 5000]);
      const balanced = random.chance(0.7);
      const open = text.search(/\(\s*(SELECT|VALUES|WITH|FROM)\b/i);
      const inner = open >= 0 ? text.slice(open) : '(SELECT 1)';
      const before = open >= 0 ? text.slice(0, open) : `${text} `;
      return `${before}${'('.repeat(depth)}${inner}${balanced ? ')'.repeat(depth) : ''}`;
    },
  },
  {
    name: 'repeatClause',
    weight: 2,
    apply: (random, text) => {
      const clauses = text.match(/\b(?:COLOR|REGION|QUALITY|TUNE|RETUNE|VERIFY|STRATEGY|RENDER|INTO|INPUT|CHANNELS|SCALE|NORMALIZE|LABELS|OUTPUT)\b[^;]*?(?=\b[A-Z]{4,}\b|;|$)/gi);
      if (!clauses) return text;
      const clause = random.pick(clauses);
      const end = text.search(/;|$/);
      return `${text.slice(0, end)} ${clause}${text.slice(end)}`;
    },
  },
  {
    name: 'unicodeCase',
    weight: 1,
    apply: (_random, text) => text.replace(/i/g, 'ı').replace(/S/g, 'ſ'),
  },
  {
    name: 'flipCase',
    weight: 1,
    apply: (random, text) => [...text].map((c) => (random.chance(0.3) ? (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) : c)).join(''),
  },
];
