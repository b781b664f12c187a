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
