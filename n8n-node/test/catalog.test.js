'use strict';
const assert = require('node:assert/strict');
const { describe, it, before } = require('node:test');

const {
	eventOptions,
	isCovered,
	resolveSubscription,
	subtitleExpression,
} = require('../dist/nodes/BillRunTrigger/catalogOptions.js');

describe('generated catalog copy', () => {
	let generator;
	before(async () => {
		generator = await import('../scripts/generate-catalog.mjs');
	});

	it('matches schemas/catalog.json (run npm run catalog:generate when this fails)', () => {
		assert.ok(generator.isFresh(), `${generator.generatedPath} is stale`);
	});

	it('is detected as stale when the catalog changes', () => {
		const catalog = generator.loadCatalog();
		catalog.events[0] = { ...catalog.events[0], title: `${catalog.events[0].title} (renamed)` };
		const { readFileSync } = require('node:fs');
		assert.notEqual(generator.render(catalog), readFileSync(generator.generatedPath, 'utf8'));
	});

	it('names options from the catalog, entity first', () => {
		const { optionName } = generator;
		assert.equal(optionName({ kind: 'event', title: 'Plan Created' }, 'Plan'), 'Plan: Created');
		assert.equal(
			optionName({ kind: 'event', title: 'Payment Denied' }, 'Bill'),
			'Bill: Payment Denied',
		);
		assert.equal(
			optionName({ kind: 'module', title: 'Any Plan Event' }, 'Plan'),
			'All Plan Changes',
		);
		assert.equal(optionName({ kind: 'all', title: 'Any BillRun Event' }, 'Event'), 'All Events');
	});

	it('refuses a catalog without the documented fields', () => {
		assert.throws(() => generator.render({ groups: [], events: [{ type: 'x.y' }] }), /kind|key/);
		assert.throws(() => generator.render({ version: 1 }), /groups/);
	});
});

describe('event options', () => {
	const options = eventOptions();
	const catalog = require('../../schemas/catalog.json');
	const byValue = new Map(options.map((option) => [option.value, option.name]));
	const kindOf = new Map(catalog.events.map((event) => [event.type, event.kind]));

	it('offers every catalog type once, the type as value', () => {
		assert.equal(options.length, catalog.events.length);
		assert.deepEqual(
			options.map((option) => option.value).sort(),
			catalog.events.map((event) => event.type).sort(),
		);
	});

	it('names each option with its entity first, and no two alike', () => {
		assert.equal(byValue.get('*'), 'All Events');
		assert.equal(byValue.get('subscribers.*'), 'All Subscriber Changes');
		assert.equal(byValue.get('subscribers.trackchanges'), 'Subscriber: Any Tracked Change');
		assert.equal(byValue.get('subscribers.update'), 'Subscriber: Updated');
		assert.equal(byValue.get('bills.afterChargeSuccess'), 'Bill: Charge Succeeded');
		assert.equal(
			byValue.get('collection.in_collection'),
			'Collection: Customer Entered Collection',
		);
		assert.equal(new Set(byValue.values()).size, options.length);
	});

	it('lists All Events, then every module, then the trackchanges groups, then single types', () => {
		const kinds = options.map((option) => kindOf.get(option.value));
		assert.equal(kinds[0], 'all');
		const firstOf = (kind) => kinds.indexOf(kind);
		const lastOf = (kind) => kinds.lastIndexOf(kind);
		assert.ok(lastOf('all') < firstOf('module'));
		assert.ok(lastOf('module') < firstOf('group'));
		assert.ok(lastOf('group') < firstOf('event'));
		const modules = new Set(catalog.events.map((event) => event.module).filter((m) => m !== '*'));
		assert.equal(kinds.filter((kind) => kind === 'module').length, modules.size);
	});

	it('puts the everyday entries (catalog "important") first in their block', () => {
		for (const kind of ['group', 'event']) {
			const block = options.filter((option) => kindOf.get(option.value) === kind);
			const important = new Set(
				catalog.events.filter((event) => event.kind === kind && event.important).map((e) => e.type),
			);
			assert.ok(important.size > 0, kind);
			assert.deepEqual(
				new Set(block.slice(0, important.size).map((option) => option.value)),
				important,
				kind,
			);
		}
		const values = options.map((option) => option.value);
		assert.ok(values.indexOf('plans.create') < values.indexOf('plans.update'), 'catalog order');
	});

	it('says which documented events BillRun never fires', () => {
		const never = options.find((option) => option.value === 'balances.afterBalanceCreation');
		assert.match(never.description, /never fires/);
	});
});

describe('subtitle', () => {
	const { Workflow } = require('n8n-workflow');
	const { BillRunTrigger } = require('../dist/nodes/BillRunTrigger/BillRunTrigger.node.js');
	const expression = subtitleExpression();

	it("is the node's subtitle", () => {
		assert.equal(new BillRunTrigger().description.subtitle, expression);
	});

	/** Evaluates the subtitle the way n8n does, with n8n's own expression engine. */
	function subtitleFor(events) {
		const node = {
			id: 'n',
			name: 'BillRun Trigger',
			type: 'CUSTOM.billRunTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: { events },
		};
		const trigger = new BillRunTrigger();
		const nodeTypes = {
			getByName: () => trigger,
			getByNameAndVersion: () => trigger,
			getKnownTypes: () => ({}),
		};
		const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
		return workflow.expression.getSimpleParameterValue(node, expression, 'internal', {});
	}

	it('shows the names of one or two selected events', () => {
		assert.equal(subtitleFor(['*']), 'All Events');
		assert.equal(
			subtitleFor(['subscribers.update', 'bills.afterChargeSuccess']),
			'Subscriber: Updated, Bill: Charge Succeeded',
		);
		assert.equal(subtitleFor(['collection.send_sms']), 'collection.send_sms');
	});

	it('shows a count for more', () => {
		assert.equal(subtitleFor(['accounts.create', 'accounts.update', 'plans.*']), '3 events');
	});

	it('is empty before anything is selected', () => {
		assert.equal(subtitleFor([]), '');
	});
});

describe('subscription events', () => {
	it('sorts and de-duplicates the selection', () => {
		assert.deepEqual(resolveSubscription(['b.x', 'a.y', 'b.x'], []).events, ['a.y', 'b.x']);
	});

	it('covers a type through its trackchanges group, not through another entity', () => {
		assert.equal(isCovered('accounts.close', ['accounts.trackchanges']), true);
		assert.equal(isCovered('subscribers.close', ['accounts.trackchanges']), false);
	});

	it('covers any type, known to the catalog or not, through * and <module>.*', () => {
		assert.equal(isCovered('warehouse.restock', ['*']), true);
		assert.equal(isCovered('accounts.archive', ['accounts.*']), true);
		assert.equal(isCovered('accounts.create', ['accounts.*']), true);
		assert.equal(isCovered('subscribers.create', ['accounts.*']), false);
	});

	it('offers one "any event" entry per module, before its single events', () => {
		const values = eventOptions().map((option) => option.value);
		for (const module of ['accounts', 'charges', 'reports', 'collection']) {
			assert.ok(values.includes(`${module}.*`), module);
		}
		assert.ok(values.indexOf('plans.*') < values.indexOf('plans.create'));
	});
});
