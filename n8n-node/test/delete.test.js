'use strict';
// delete runs at deactivation (and when a test listener ends): nothing stays on the URL.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { BillRunTrigger } = require('../dist/nodes/BillRunTrigger/BillRunTrigger.node.js');
const { WEBHOOK_URL, connectorHook, hookContext, listReply, requestLines } = require('./contexts');

const { delete: remove } = new BillRunTrigger().webhookMethods.default;
const HELD = {
	subscriptionId: 'hk_1',
	secret: 'whsec_held',
	secretIssuedAt: '2026-11-29T10:00:00+00:00',
};

describe('delete', () => {
	it('deletes every subscription on its URL and forgets its state', async () => {
		const context = hookContext({
			staticData: { ...HELD },
			replies: [
				listReply([connectorHook(), connectorHook({ id: 'hk_copy' })]),
				{ statusCode: 204, body: '' },
				{ statusCode: 204, body: '' },
			],
		});
		assert.equal(await remove.call(context), true);
		assert.deepEqual(context.calls[0].qs, { target_url: WEBHOOK_URL, limit: 100 });
		assert.deepEqual(requestLines(context), [
			'GET /api/v1/hooks',
			'DELETE /api/v1/hooks/hk_1',
			'DELETE /api/v1/hooks/hk_copy',
		]);
		assert.deepEqual(context.staticData, {});
	});

	it('deletes what a renamed trigger left, though its state is empty', async () => {
		const context = hookContext({
			staticData: {},
			replies: [listReply([connectorHook({ id: 'hk_old_name' })]), { statusCode: 204, body: '' }],
		});
		assert.equal(await remove.call(context), true);
		assert.deepEqual(requestLines(context), [
			'GET /api/v1/hooks',
			'DELETE /api/v1/hooks/hk_old_name',
		]);
	});

	it('takes 410 (already removed, e.g. expired) and 404 as done, without noise', async () => {
		const context = hookContext({
			staticData: { ...HELD },
			replies: [
				listReply([connectorHook(), connectorHook({ id: 'hk_2' })]),
				{ statusCode: 410, body: { error: { code: 'gone', message: 'expired' } } },
				{ statusCode: 404, body: { error: { code: 'not_found', message: 'no subscription' } } },
			],
		});
		assert.equal(await remove.call(context), true);
		assert.deepEqual(context.staticData, {});
		assert.deepEqual(context.logs, []);
	});

	it('also removes its earlier subscription on an old URL when this workflow made it', async () => {
		const context = hookContext({
			staticData: { ...HELD },
			replies: [
				listReply([]),
				{
					statusCode: 200,
					body: connectorHook({ target_url: 'http://old-host/webhook/6f1c/webhook' }),
				},
				{ statusCode: 204, body: '' },
			],
		});
		assert.equal(await remove.call(context), true);
		assert.deepEqual(requestLines(context), [
			'GET /api/v1/hooks',
			'GET /api/v1/hooks/hk_1',
			'DELETE /api/v1/hooks/hk_1',
		]);
	});

	it('logs and reports any other error', async () => {
		const context = hookContext({
			staticData: { ...HELD },
			replies: [
				listReply([connectorHook()]),
				{ statusCode: 503, body: { error: { code: 'unavailable', message: 'maintenance' } } },
			],
		});
		assert.equal(await remove.call(context), false);
		assert.equal(context.logs.length, 1);
		assert.equal(context.logs[0][0], 'error');
		assert.match(context.logs[0][1], /maintenance/);
		assert.match(context.logs[0][1], new RegExp(WEBHOOK_URL));
	});

	it('logs and reports a network failure', async () => {
		const context = hookContext({
			staticData: { ...HELD },
			replies: [new Error('connect ECONNREFUSED 127.0.0.1:9')],
		});
		assert.equal(await remove.call(context), false);
		assert.equal(context.logs[0][0], 'error');
		assert.equal(context.staticData.subscriptionId, 'hk_1');
	});

	it('asks only for the list when nothing is on its URL and it holds nothing', async () => {
		const context = hookContext({ replies: [listReply([])] });
		assert.equal(await remove.call(context), true);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks']);
	});
});
