'use strict';
const assert = require('node:assert/strict');
const { describe, it, before } = require('node:test');

const {
	eventOptions,
	isCovered,
	resolveSubscription,
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

	it('refuses a catalog without the documented fields', () => {
		assert.throws(() => generator.render({ groups: [], events: [{ type: 'x.y' }] }), /kind|key/);
		assert.throws(() => generator.render({ version: 1 }), /groups/);
	});
});

describe('event options', () => {
	const options = eventOptions();
	const catalog = require('../../schemas/catalog.json');

	it('offers every catalog type once, with the catalog title as name and the type as value', () => {
		assert.equal(options.length, catalog.events.length);
		assert.deepEqual(
			options.map((option) => option.value).sort(),
			catalog.events.map((event) => event.type).sort(),
		);
		const byValue = new Map(options.map((option) => [option.value, option.name]));
		assert.equal(byValue.get('subscribers.update'), 'Subscriber Updated');
		assert.equal(byValue.get('bills.afterChargeSuccess'), 'Charge Succeeded');
	});

	it('lists "every event" first, then the everyday events', () => {
		assert.equal(options[0].value, '*');
		const important = catalog.events.filter((event) => event.important).length;
		assert.ok(important > 0);
		const first = new Set(options.slice(1, important + 1).map((option) => option.value));
		for (const event of catalog.events.filter((entry) => entry.important)) {
			assert.ok(first.has(event.type), `${event.type} is not among the first options`);
		}
	});

	it('puts an entity\'s "any change" entry before its single events', () => {
		const values = options.map((option) => option.value);
		assert.ok(values.indexOf('plans.trackchanges') < values.indexOf('plans.create'));
		assert.ok(values.indexOf('plans.create') < values.indexOf('plans.update'));
	});

	it('says which documented events BillRun never fires', () => {
		const never = options.find((option) => option.value === 'balances.afterBalanceCreation');
		assert.match(never.description, /never fires/);
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
