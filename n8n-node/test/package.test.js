'use strict';
// What gets installed and published: exact tool versions, and a tarball with only what n8n loads.
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { describe, it } = require('node:test');

const packageDir = join(__dirname, '..');
const manifest = require('../package.json');

describe('package', () => {
	it('pins every development tool to an exact version', () => {
		for (const [name, version] of Object.entries(manifest.devDependencies)) {
			assert.match(version, /^\d+\.\d+\.\d+$/, `${name}@${version}`);
		}
	});

	it('installs with plain npm: the tooling install scripts that cannot run are skipped', () => {
		const npmrc = readFileSync(join(packageDir, '.npmrc'), 'utf8');
		assert.match(npmrc, /^ignore-scripts=true$/m);
	});

	it('publishes the built node, its codex and icons, and nothing else', () => {
		const [pack] = JSON.parse(
			execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
				cwd: packageDir,
				encoding: 'utf8',
				stdio: ['ignore', 'pipe', 'pipe'],
			}),
		);
		const files = pack.files.map((file) => file.path).sort();
		for (const path of files) {
			assert.ok(
				['package.json', 'README.md'].includes(path) ||
					/^dist\/(nodes|credentials)\/.+\.(js|node\.json|svg)$/.test(path),
				`${path} is not something n8n loads`,
			);
		}
		for (const needed of [...manifest.n8n.nodes, ...manifest.n8n.credentials]) {
			assert.ok(files.includes(needed), `${needed} is missing from the package`);
		}
		assert.ok(files.includes('dist/nodes/BillRunTrigger/BillRunTrigger.node.json'));
	});
});
