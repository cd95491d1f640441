'use strict';
// The credential test itself runs in n8n (e2e/n8n.e2e.test.mjs tests it against a real
// connector and a server that is not one); this checks what the credential asks n8n to do.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const {
	BillRunConnectorApi,
} = require('../dist/credentials/BillRunConnectorApi.credentials.js');

const credential = new BillRunConnectorApi();

describe('credential test', () => {
	it('asks the connector who the key belongs to', () => {
		assert.equal(credential.test.request.method, 'GET');
		assert.equal(credential.test.request.url, '/api/v1/me');
		assert.equal(
			credential.authenticate.properties.headers.Authorization,
			'=Bearer {{$credentials.apiKey}}',
		);
	});

	it('says what a 401 and a 404 mean', () => {
		const byStatus = new Map(
			credential.test.rules
				.filter((rule) => rule.type === 'responseCode')
				.map((rule) => [rule.properties.value, rule.properties.message]),
		);
		assert.match(byStatus.get(401), /API key/);
		assert.match(byStatus.get(404), /Connector URL/);
	});

	it('fails a 2xx answer that names no tenant: the URL is not a connector', () => {
		const rule = credential.test.rules.find((entry) => entry.type === 'responseSuccessBody');
		assert.equal(rule.properties.key, 'tenant.name');
		assert.equal(rule.properties.value, undefined);
		assert.match(rule.properties.message, /not as a billrun-connector/);
	});
});
