'use strict';
/** The catalog copy, the generator and the triggers built from it. */
const fs = require('fs');
const os = require('os');
const path = require('path');
const zapier = require('zapier-platform-core');
const { buildCatalog, staleness, serialize } = require('../scripts/generate-catalog');

const FIXTURES = path.join(__dirname, 'fixtures', 'schemas');

describe('lib/catalog.json', () => {
  test('equals what ../schemas makes (run `npm run generate` when this fails)', () => {
    expect(staleness()).toBeNull();
  });

  test('staleness notices a changed copy', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billrun-zapier-catalog-'));
    try {
      const file = path.join(dir, 'catalog.json');
      const catalog = buildCatalog(FIXTURES);
      fs.writeFileSync(file, serialize(catalog));
      expect(staleness(FIXTURES, file)).toBeNull();
      catalog.events[0].title = 'Renamed';
      fs.writeFileSync(file, serialize(catalog));
      expect(staleness(FIXTURES, file)).toMatch(/stale/);
      fs.rmSync(file);
      expect(staleness(FIXTURES, file)).toMatch(/missing/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generator', () => {
  const catalog = buildCatalog(FIXTURES);
  const [created, group, family] = catalog.events;
  const field = (entry, key) => entry.outputFields.find((f) => f.key === key);

  test('keeps the catalog facts a trigger needs', () => {
    expect(created).toMatchObject({ key: 'subscribers_create', type: 'subscribers.create', kind: 'event', noun: 'Subscriber', important: true, groupTitle: 'Entity changes' });
    expect(group.expandsTo).toEqual(['subscribers.create']);
    expect(family).toMatchObject({ kind: 'family', actionPattern: '^[A-Za-z0-9_]+$', firedByBillrun: false });
  });

  test('takes the first example envelope as the sample', () => {
    expect(created.sample).toMatchObject({ id: 'evt_1', type: 'subscribers.create' });
    expect(family.sample.type).toBe('collection.send_reminder_sms');
  });

  test('turns properties.data into labelled, typed output fields across $ref, allOf and nullable branches', () => {
    expect(created.outputFields.slice(0, 3)).toEqual([
      { key: 'id', label: 'Event ID' },
      { key: 'type', label: 'Event Type' },
      { key: 'timestamp', label: 'Event Time', type: 'datetime' },
    ]);
    expect(field(created, 'data__after__aid')).toEqual({ key: 'data__after__aid', label: 'After Account ID', type: 'integer' });
    expect(field(created, 'data__before__plan_activation')).toEqual({ key: 'data__before__plan_activation', label: 'Before Plan Activation', type: 'datetime' });
    expect(field(created, 'data__after__in_collection').type).toBe('boolean');
    expect(field(created, 'data__after__emails')).toEqual({ key: 'data__after__emails', label: 'After Emails', list: true });
    expect(field(created, 'data__after__services[]quantity')).toEqual({ key: 'data__after__services[]quantity', label: 'After Services Quantity', type: 'number' });
    expect(field(created, 'data__modifiedUser').label).toBe('Modified User');
    expect(field(family, 'data__step__step_code').label).toBe('Step Code');
  });

  test('refuses a catalog whose key Zapier would reject, or whose schema is missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billrun-zapier-bad-'));
    try {
      fs.cpSync(FIXTURES, dir, { recursive: true });
      const file = path.join(dir, 'catalog.json');
      const original = JSON.parse(fs.readFileSync(file, 'utf8'));
      const withEntry = (patch) => {
        const copy = structuredClone(original);
        Object.assign(copy.events[0], patch);
        fs.writeFileSync(file, JSON.stringify(copy));
      };
      withEntry({ key: 'subscribers.create' });
      expect(() => buildCatalog(dir)).toThrow(/not a valid Zapier key/);
      withEntry({ schema: 'events/nope.json' });
      expect(() => buildCatalog(dir)).toThrow(/not found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the app', () => {
  const App = require('..');
  const catalog = require('../lib/catalog.json');

  test('passes the platform\'s own schema validation', async () => {
    const handler = zapier.createAppHandler(App);
    const response = await new Promise((resolve, reject) => {
      handler({ command: 'validate', bundle: {}, platformVersion: App.platformVersion }, {}, (error, result) => (error ? reject(error) : resolve(result)));
    });
    expect(response.results).toEqual([]);
  });

  test('has one REST-hook trigger per catalog entry, keyed by the catalog key', () => {
    expect(Object.keys(App.triggers).sort()).toEqual(catalog.events.map((e) => e.key).sort());
    for (const entry of catalog.events) {
      const trigger = App.triggers[entry.key];
      expect(trigger.key).toBe(entry.key);
      expect(trigger.noun).toBe(entry.noun);
      expect(trigger.display.description).toContain(entry.type);
      expect(trigger.operation).toMatchObject({ type: 'hook', sample: entry.sample, outputFields: entry.outputFields });
      for (const method of ['performSubscribe', 'performUnsubscribe', 'perform', 'performList']) {
        expect(typeof trigger.operation[method]).toBe('function');
      }
    }
  });

  test('covers every kind: concrete types, trackchanges groups, module wildcards and every event', () => {
    const kinds = new Set(catalog.events.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['all', 'event', 'group', 'module']);
    const family = catalog.events.find((e) => e.actionPattern);
    expect(App.triggers[family.key].operation.inputFields.map((f) => f.key)).toEqual(['step']);
  });

  test('lists the everyday triggers first, with clear names', () => {
    const important = catalog.events.filter((e) => e.important);
    expect(important.length).toBeGreaterThan(0);
    expect(important.length).toBeLessThanOrEqual(15);
    const first = Object.values(App.triggers).slice(0, important.length);
    expect(first.map((t) => t.key).sort()).toEqual(important.map((e) => e.key).sort());
    expect(first.map((t) => t.display.label)).toEqual(expect.arrayContaining([
      'New Subscriber', 'Subscriber Updated', 'Charge Succeeded', 'Payment Rejected', 'Invoice Confirmed', 'Customer Entered Collection',
    ]));
  });

  test('keeps the rest in catalog groups, every label unique and searchable by its BillRun type', () => {
    const groups = catalog.groups.map((g) => g.id);
    const byKey = Object.fromEntries(catalog.events.map((e) => [e.key, e]));
    const rest = Object.keys(App.triggers).map((key) => byKey[key]).filter((e) => !e.important);
    const ranks = rest.map((e) => groups.indexOf(e.group));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const labels = Object.values(App.triggers).map((t) => t.display.label);
    expect(new Set(labels).size).toBe(labels.length);
    for (const entry of catalog.events) {
      const { label, description } = App.triggers[entry.key].display;
      if (entry.firedByBillrun) {
        expect(description).toMatch(/^Triggers when /);
      } else {
        expect(label).toMatch(/Never Fired by BillRun/);
        expect(description).toMatch(/^Never triggers: /);
      }
    }
  });
});
