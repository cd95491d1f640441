'use strict';
// The credential test itself runs in n8n (e2e/n8n.e2e.test.mjs tests it against a real
// connector and a server that is not one); this checks what the credential asks n8n to do.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { BillRunConnectorApi } = require('../dist/credentials/BillRunConnectorApi.credentials.js');

const { test, authenticate } = new BillRunConnectorApi();

/** What n8n 2.8 does with the rules: the message of the first whose key has the value. */
function verdict(body) {
	const get = (object, path) =>
		path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), object);
	const failed = test.rules.find(
		(rule) => get(body, rule.properties.key) === rule.properties.value,
	);
	return failed ? failed.properties.message : 'OK';
}

describe('credential test', () => {
	it('asks the connector who the key belongs to, reading every answer', () => {
		assert.equal(test.request.method, 'GET');
		assert.equal(test.request.url, '/api/v1/me');
		assert.equal(test.request.ignoreHttpStatusErrors, true);
		assert.equal(authenticate.properties.headers.Authorization, '=Bearer {{$credentials.apiKey}}');
		assert.ok(test.rules.every((rule) => rule.type === 'responseSuccessBody'));
	});

	it('passes when a tenant is named', () => {
		assert.equal(verdict({ tenant: { id: 1, name: 'acme' }, key: { label: 'n8n' } }), 'OK');
	});

	it("says what the connector's errors mean", () => {
		const error = (code) => ({ error: { code, message: '...' } });
		assert.match(verdict(error('unauthorized')), /refused the API key \(HTTP 401\)/);
		assert.match(verdict(error('not_found')), /without \/api\/v1/);
		assert.match(verdict(error('unavailable')), /HTTP 503/);
	});

	it('says the URL is not a connector when the answer names no tenant', () => {
		for (const body of [{ status: 'ok' }, '<html>404</html>', '', undefined]) {
			assert.match(verdict(body), /not as a billrun-connector/);
		}
	});
});
