/* Import directions of ../shared/DESIGN.md, checked in CI (`npm run deps`). */
const allow = {
  shared: [],
  spec: ['shared'],
  qmp: ['shared'],
  drivers: ['spec', 'shared', 'qmp', 'interchange'], // interchange: drivers/libvirt serves libvirt domain XML as an interchange format with its own mapping (one mapping, not two)
  storage: ['spec', 'shared'],
  network: ['spec', 'shared'], // host plumbing of virtual networks: bridges, taps, dnsmasq, nftables; its types are the contract lifecycle and api use
  store: ['spec', 'shared'],
  interchange: ['spec', 'shared', 'storage'], // foreign VM formats: pure readers/writers, and the import/export steps around them (disk conversion through storage/)
  lifecycle: ['spec', 'shared', 'drivers', 'storage', 'store', 'network'],
  migration: ['spec', 'shared', 'qmp', 'drivers', 'storage', 'store', 'lifecycle', 'network'],
  backup: ['spec', 'shared', 'qmp', 'drivers', 'storage', 'store', 'lifecycle'],
  cluster: ['spec', 'shared', 'qmp', 'drivers', 'storage', 'store', 'lifecycle', 'migration', 'network'],
  metrics: ['shared'],
  history: ['shared', 'spec'], // resource history rings and their file; the daemon feeds it readings
  secrets: ['shared'], // the secrets store; the daemon wires it, api/ sees it through an interface
  doctor: ['spec', 'shared', 'qmp', 'drivers', 'storage', 'store', 'lifecycle', 'network'],
  endpoints: ['spec', 'shared', 'drivers', 'storage', 'store', 'lifecycle'], // named connections to other hypervisors, their inventory, moves in and out
  stack: ['spec', 'shared', 'lifecycle', 'storage', 'network', 'store'], // declarative stacks: the pure planner, and apply through the existing services
  api: ['spec', 'shared', 'storage', 'lifecycle', 'migration', 'backup', 'cluster', 'metrics', 'history', 'doctor', 'drivers', 'store', 'endpoints', 'network', 'interchange', 'stack'],
  client: ['shared', 'spec'],
  release: ['shared'], // release artefacts: SHA256SUMS and its Ed25519 signature, checked locally by `polyvisor release verify`
  cli: ['client', 'spec', 'shared', 'release'], // release: the local release check, no daemon involved
  web: ['client', 'spec', 'shared'],
  daemon: null, // composition root: anything
};
const forbidden = [];
for (const [from, targets] of Object.entries(allow)) {
  if (targets === null) continue;
  const ok = [from, ...targets].join('|');
  forbidden.push({
    name: `${from}-imports-only-${targets.join('-') || 'nothing'}`,
    severity: 'error',
    from: { path: `^src/${from}/` },
    to: { path: '^src/', pathNot: `^src/(${ok})/` },
  });
}
forbidden.push(
  { name: 'concrete-backends-only-in-daemon', severity: 'error',
    comment: 'Only daemon/ names a concrete driver (drivers/qemu, libvirt, vsphere, proxmox) or store backend.',
    from: { path: '^src/', pathNot: '^src/(daemon|drivers/(qemu|libvirt|vsphere|proxmox|hyperv)|store/sqlite|store/etcd)/' },
    to: { path: '^src/(drivers/(qemu|libvirt|vsphere|proxmox|hyperv)|store/sqlite|store/etcd)/' } },
  { name: 'lifecycle-uses-interfaces-only', severity: 'error',
    from: { path: '^src/lifecycle/' }, to: { path: '^src/(drivers|store|network)/', pathNot: '^src/(drivers|store|network)/index\\.ts$' } },
  { name: 'stack-uses-interfaces-only', severity: 'error',
    from: { path: '^src/stack/' }, to: { path: '^src/(store|network)/', pathNot: '^src/(store|network)/index\\.ts$' } },
  { name: 'stack-planner-is-pure', severity: 'error',
    comment: 'The stack file, its variables, graph and planner import only spec/ and shared/ (and each other).',
    from: { path: '^src/stack/(schema|variables|resolve|graph|plan|ownership)\\.ts$' }, to: { path: '^src/', pathNot: '^src/(spec|shared)/|^src/stack/(schema|variables|resolve|graph|plan|ownership)\\.ts$' } },
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  { name: 'not-to-test', severity: 'error', from: { path: '^src/' }, to: { path: '\\.test\\.ts$|^test/' } },
  { name: 'web-ui-imports-only-client-spec-shared', severity: 'error',
    comment: 'The web UI (web/src, bundled for the browser) talks to the daemon over its public API: it may use the types of spec/, shared/ and client/, nothing of the server.',
    from: { path: '^web/' }, to: { path: '^src/', pathNot: '^src/(client|spec|shared)/' } },
);
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
  },
};
