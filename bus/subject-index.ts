import { assertSubject } from './subject-match.js';

/**
 * Subscription index for the in-memory bus: a token trie with '*' and '>' branches plus a match cache, the same idea
 * as nats-server's sublist. The cache matters: actor traffic hits a few thousand distinct subjects over and over.
 */
interface Node<T> {
  children: Map<string, Node<T>>;
  star?: Node<T>;
  full?: Set<T>; // subscribers of '...>' at this level
  here?: Set<T>; // subscribers whose pattern ends exactly here
}

const CACHE_MAX = 16_384;

function newNode<T>(): Node<T> {
  return { children: new Map() };
}

export class SubjectIndex<T> {
  private readonly root: Node<T> = newNode();
  private cache = new Map<string, T[]>();

  add(pattern: string, item: T): void {
    let node = this.root;
    const tokens = pattern.split('.');
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t === '>') {
        (node.full ??= new Set()).add(item);
        this.cache.clear();
        return;
      }
      if (t === '*') node = node.star ??= newNode();
      else {
        let next = node.children.get(t);
        if (!next) node.children.set(t, (next = newNode()));
        node = next;
      }
    }
    (node.here ??= new Set()).add(item);
    this.cache.clear();
  }

  remove(pattern: string, item: T): void {
    const tokens = pattern.split('.');
    const path: Array<[Node<T>, string]> = [];
    let node: Node<T> | undefined = this.root;
    for (let i = 0; i < tokens.length && node; i++) {
      const t = tokens[i]!;
      if (t === '>') {
        node.full?.delete(item);
        if (node.full?.size === 0) node.full = undefined;
        this.prune(path, node);
        this.cache.clear();
        return;
      }
      path.push([node, t]);
      node = t === '*' ? node.star : node.children.get(t);
    }
    if (!node) return;
    node.here?.delete(item);
    if (node.here?.size === 0) node.here = undefined;
    this.prune(path, node);
    this.cache.clear();
  }

  match(subject: string): T[] {
    const hit = this.cache.get(subject);
    if (hit) return hit;
    const out: T[] = [];
    this.collect(this.root, subject.split('.'), 0, out);
    if (this.cache.size >= CACHE_MAX) this.cache = new Map();
    this.cache.set(subject, out);
    return out;
  }

  private collect(node: Node<T>, tokens: string[], i: number, out: T[]): void {
    if (node.full && i < tokens.length) for (const s of node.full) out.push(s);
    if (i === tokens.length) {
      if (node.here) for (const s of node.here) out.push(s);
      return;
    }
    const exact = node.children.get(tokens[i]!);
    if (exact) this.collect(exact, tokens, i + 1, out);
    if (node.star) this.collect(node.star, tokens, i + 1, out);
  }

  private prune(path: Array<[Node<T>, string]>, leaf: Node<T>): void {
    let node = leaf;
    for (let i = path.length - 1; i >= 0; i--) {
      if (node.here || node.full || node.star || node.children.size > 0) return;
      const [parent, t] = path[i]!;
      if (t === '*') parent.star = undefined;
      else parent.children.delete(t);
      node = parent;
    }
  }
}

/**
 * Subscribers of a subject for the in-memory bus (bus/memory-bus.ts), found without the subject index's cache when that would miss: past its bound (16 k
 * subjects, cleared when full) every publish to a distinct subject split the subject, walked the trie and inserted
 * into a cache soon dropped (bench embedded, 100 k actors round-robin: ~1.1 µs of a ~19 µs tell, and the garbage).
 *
 * A subject's last token matters only when some pattern ends with that literal token (the trie's `*` and `>`
 * branches ignore the token itself). For any other last token the subscribers are those of `<parent>.` (an empty
 * last token, which no pattern can have: assertSubject), looked up once per parent. Subjects are also kept as they
 * come, up to EXACT_MAX and without eviction (a hot subject is then one lookup by a string whose hash V8 already
 * keeps; past the bound the parent lookup is cheap anyway). Both maps start over on every (un)subscription.
 *
 * Both are kept per publishing prefix and keyed by the subject as published (relative to it), so a publish needs no
 * absolute subject at all: it is built only for a subscriber on another prefix (and for the index on a miss). Before,
 * a client's checked-subject cache (4 096, started over when full) built it for every publish; past that bound,
 * round-robin over 100 k actors, the cache's misses and the absolute subject's lookups cost ~1 µs a tell.
 */
export interface PrefixRoutes<T> {
  readonly pre: string;
  exact: Map<string, T[]>;
  byParent: Map<string, T[]>;
}

export class SubscriberLookup<T> {
  /** Literal last tokens of the patterns subscribed, with how many patterns end with each. */
  private readonly lastTokens = new Map<string, number>();
  private readonly prefixes = new Map<string, PrefixRoutes<T>>();

  constructor(private readonly index: SubjectIndex<T>) {}

  /** The routes of one publishing prefix (its client keeps the object; its maps start over in place). */
  routes(pre: string): PrefixRoutes<T> {
    let r = this.prefixes.get(pre);
    if (r === undefined) this.prefixes.set(pre, (r = { pre, exact: new Map(), byParent: new Map() }));
    return r;
  }

  added(pattern: string): void {
    const t = lastToken(pattern);
    if (t !== '*' && t !== '>') this.lastTokens.set(t, (this.lastTokens.get(t) ?? 0) + 1);
    this.forget();
  }

  removed(pattern: string): void {
    const t = lastToken(pattern);
    const n = this.lastTokens.get(t);
    if (n === 1) this.lastTokens.delete(t);
    else if (n !== undefined) this.lastTokens.set(t, n - 1);
    this.forget();
  }

  /**
   * Subscribers of `<r.pre><rel>`. With `check`, `rel` is checked (assertSubject) unless it was kept, having been
   * checked then; a subject not checked (a reply subject, as before) is not kept either.
   */
  match(r: PrefixRoutes<T>, rel: string, check: boolean): T[] {
    let subs = r.exact.get(rel);
    if (subs !== undefined) return subs;
    if (check) assertSubject(rel, false);
    const dot = rel.lastIndexOf('.');
    if (this.lastTokens.has(rel.slice(dot + 1))) subs = this.index.match(r.pre + rel);
    else {
      const parent = rel.slice(0, dot + 1);
      subs = r.byParent.get(parent);
      if (subs === undefined) {
        if (r.byParent.size >= PARENTS_MAX) r.byParent = new Map();
        r.byParent.set(parent, (subs = this.index.match(r.pre + parent)));
      }
    }
    if (check && r.exact.size < EXACT_MAX) r.exact.set(rel, subs);
    return subs;
  }

  private forget(): void {
    for (const r of this.prefixes.values()) {
      if (r.exact.size) r.exact = new Map();
      if (r.byParent.size) r.byParent = new Map();
    }
  }
}

/** Subjects kept as they come (about 100 bytes each, so at most ~13 MB), as many as an ActorClient's subject cache. */
const EXACT_MAX = 131_072;
/** Parents kept: a node's shards times kinds, with room to spare. */
const PARENTS_MAX = 16_384;

const lastToken = (pattern: string) => pattern.slice(pattern.lastIndexOf('.') + 1);
