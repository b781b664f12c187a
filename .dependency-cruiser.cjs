/**
 * The import rules `npm test` checks (dependency-cruiser): no cycle between files, and no import against the layer
 * order below. docs/ARCHITECTURE.md draws the same picture and says where new code goes.
 *
 * A folder may import its own layer's code only from itself (cluster and gateway do not know each other), and any
 * folder of a lower layer. Tests, benchmarks and dev tooling sit on top and may import anything; production code never
 * imports them.
 */
const layers = [
  ['common'],
  ['bus', 'protocol'],
  ['config'],
  ['actors'],
  ['node-api'],
  ['cluster', 'gateway', 'client'],
  ['chat', 'lobby'],
  ['server'],
  ['bin'],
];
const production = layers.flat();
const tooling = ['dev', 'test', 'bench'];

const forbidden = [
  {
    name: 'no-cycle',
    comment: 'Import cycles between files make modules that cannot be read, tested or loaded alone.',
    severity: 'error',
    from: {},
    to: { circular: true },
  },
  {
    name: 'no-tooling-in-production',
    comment: 'dev/, test/ and bench/ are not part of the production build.',
    severity: 'error',
    from: { path: `^(${production.join('|')})/` },
    to: { path: `^(${tooling.join('|')})/` },
  },
];

layers.forEach((layer, i) => {
  const above = layers.slice(i + 1).flat();
  for (const folder of layer) {
    const siblings = layer.filter((f) => f !== folder);
    const banned = [...above, ...siblings];
    if (banned.length === 0) continue;
    forbidden.push({
      name: `layer-${folder}`,
      comment: `${folder}/ may not import ${banned.join(', ')} (layer order: ${layers.map((l) => l.join('+')).join(' → ')})`,
      severity: 'error',
      from: { path: `^${folder}/` },
      to: { path: `^(${banned.join('|')})/` },
    });
  }
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|web)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
