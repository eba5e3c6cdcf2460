// A package registry on 127.0.0.1 serving the packed tarballs of a folder, so that npm, pnpm and
// bun install @luaipc packages as from npmjs.org: resolving each package's optional per-platform
// packages and choosing by os, cpu and libc themselves. Only what installing needs: a packument
// per package (every manifest in the tarball, with dist.tarball and integrity) and the tarballs.
//   node registry.mjs <folder of .tgz>   prints its URL, serves until stdin closes
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const dir = process.argv[2];
const packuments = new Map();
const files = new Map();
let base = '';

for (const file of readdirSync(dir).filter((f) => f.endsWith('.tgz'))) {
  const data = readFileSync(join(dir, file));
  const manifest = JSON.parse(
    execFileSync('tar', ['xzf', join(dir, file), '-O', 'package/package.json'], {
      encoding: 'utf8',
    }),
  );
  files.set(file, data);
  const doc = packuments.get(manifest.name) ?? {
    name: manifest.name,
    'dist-tags': {},
    versions: {},
  };
  doc['dist-tags'].latest = manifest.version;
  doc.versions[manifest.version] = {
    ...manifest,
    _id: `${manifest.name}@${manifest.version}`,
    dist: {
      tarball: file, // made absolute per request, once the port is known
      integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
      shasum: createHash('sha1').update(data).digest('hex'),
    },
  };
  packuments.set(manifest.name, doc);
}

const server = createServer((req, res) => {
  const url = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
  if (url.startsWith('/-/')) {
    const data = files.get(url.slice(3));
    if (data) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(data);
      return;
    }
  }
  const doc = packuments.get(url.slice(1));
  if (!doc) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
    return;
  }
  const versions = Object.fromEntries(
    Object.entries(doc.versions).map(([v, m]) => [
      v,
      { ...m, dist: { ...m.dist, tarball: `${base}-/${m.dist.tarball}` } },
    ]),
  );
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ...doc, versions }));
});

server.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}/`;
  console.log(base);
});
// The test that started it ends it by closing our stdin, or by dying.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
