'use strict';
// The connector signs with the standardwebhooks reference library; this checks our verifier
// against that library when the project's Python environment is present.
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { describe, it } = require('node:test');

const { TOLERANCE_SECONDS, verify } = require('../dist/nodes/BillRunTrigger/signature.js');
const { secretFor } = require('./contexts');

const PYTHON = join(__dirname, '..', '..', '.venv', 'bin', 'python');
const SECRET = secretFor('reference');

describe('signature', () => {
	it(
		'verifies what the standardwebhooks library signs',
		{ skip: !existsSync(PYTHON) && 'no .venv' },
		() => {
			const body = '{"id":"evt_1","type":"subscribers.update","data":{"name":"Ünïcode"}}';
			const timestamp = Math.floor(Date.now() / 1000);
			const script = [
				'import sys, datetime, standardwebhooks',
				'wh = standardwebhooks.Webhook(sys.argv[1])',
				'when = datetime.datetime.fromtimestamp(int(sys.argv[3]), tz=datetime.timezone.utc)',
				'print(wh.sign(sys.argv[2], when, sys.stdin.read()))',
			].join('\n');
			const signature = execFileSync(PYTHON, ['-c', script, SECRET, 'evt_1', String(timestamp)], {
				input: body,
				encoding: 'utf8',
			}).trim();
			const request = {
				id: 'evt_1',
				timestamp: String(timestamp),
				signature,
				rawBody: Buffer.from(body),
			};
			assert.deepEqual(verify(request, SECRET), { valid: true });
			assert.equal(verify({ ...request, id: 'evt_2' }, SECRET).valid, false);
		},
	);

	it('refuses missing headers, non-numeric and out-of-window timestamps', () => {
		const rawBody = Buffer.from('{}');
		const now = 1_800_000_000;
		assert.equal(
			verify({ id: 'e', timestamp: undefined, signature: 'v1,x', rawBody }, SECRET, now).valid,
			false,
		);
		assert.equal(
			verify({ id: 'e', timestamp: '12a', signature: 'v1,x', rawBody }, SECRET, now).valid,
			false,
		);
		const future = String(now + TOLERANCE_SECONDS + 1);
		assert.match(
			verify({ id: 'e', timestamp: future, signature: 'v1,x', rawBody }, SECRET, now).reason,
			/timestamp/,
		);
	});

	it('ignores signatures of other versions and malformed entries', () => {
		const rawBody = Buffer.from('{}');
		const now = String(Math.floor(Date.now() / 1000));
		const result = verify({ id: 'e', timestamp: now, signature: 'v2,abc v1 v1,', rawBody }, SECRET);
		assert.deepEqual(result, {
			valid: false,
			reason: 'no signature matches the secret this trigger holds',
			mismatch: true,
		});
	});
});
