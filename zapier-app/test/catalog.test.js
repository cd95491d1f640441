'use strict';
/** The generator of lib/catalog.json and the staleness check CI runs on the committed copy. */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { buildCatalog, staleness, serialize } = require('../scripts/generate-catalog');
const { flattenKeys } = require('./support/zapier');

const FIXTURES = path.join(__dirname, 'fixtures', 'schemas');

/** A copy of the fixture schemas with the catalog changed by `patch`. */
const withCatalog = (patch, run) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billrun-zapier-bad-'));
  try {
    fs.cpSync(FIXTURES, dir, { recursive: true });
    const file = path.join(dir, 'catalog.json');
    const catalog = JSON.parse(fs.readFileSync(file, 'utf8'));
    patch(catalog);
    fs.writeFileSync(file, JSON.stringify(catalog));
    run(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

describe('lib/catalog.json', () => {
  test('equals what ../schemas makes (run `npm run generate` when this fails)', () => {
    expect(staleness()).toBeNull();
  });

  test('staleness notices a changed or missing copy', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billrun-zapier-catalog-'));
    try {
      const file = path.join(dir, 'catalog.json');
      const catalog = buildCatalog(FIXTURES);
      fs.writeFileSync(file, serialize(catalog));
      expect(staleness(FIXTURES, file)).toBeNull();
      catalog.everyday[0].label = 'Renamed';
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
  const everyday = Object.fromEntries(catalog.everyday.map((entry) => [entry.key, entry]));
  const types = Object.fromEntries(catalog.types.map((entry) => [entry.type, entry]));
  const field = (fields, key) => fields.find((f) => f.key === key);

  test('keeps the everyday triggers with their types, the first example as sample, and the step pattern', () => {
    expect(everyday.new_subscriber).toMatchObject({
      label: 'New Subscriber', noun: 'Subscriber', description: 'Triggers when a subscriber is created.', events: ['subscribers.create'],
    });
    expect(everyday.new_subscriber.sample).toMatchObject({ id: 'evt_1', type: 'subscribers.create' });
    expect(everyday.changed_subscriber.sample.type).toBe('subscribers.update');
    expect(everyday.new_collection_step.actionPattern).toBe('^[A-Za-z0-9_]+$');
  });

  test('lists every fired type, of every kind, and leaves out what BillRun never fires', () => {
    expect(Object.keys(types)).toEqual(['subscribers.create', 'subscribers.update', 'subscribers.trackchanges', 'subscribers.*', 'collection.*', '*']);
  });

  test('labels and types output fields from the schema across $ref, allOf and nullable branches', () => {
    const fields = everyday.new_subscriber.outputFields;
    expect(fields.slice(0, 3)).toEqual([
      { key: 'id', label: 'Event ID' },
      { key: 'type', label: 'Event Type' },
      { key: 'timestamp', label: 'Event Time', type: 'datetime' },
    ]);
    expect(field(fields, 'data__after__aid')).toEqual({ key: 'data__after__aid', label: 'After Account ID', type: 'integer' });
    expect(field(fields, 'data__before__plan_activation')).toEqual({ key: 'data__before__plan_activation', label: 'Before Plan Activation', type: 'datetime' });
    expect(field(fields, 'data__after__in_collection').type).toBe('boolean');
    expect(field(fields, 'data__after__emails')).toEqual({ key: 'data__after__emails', label: 'After Emails', list: true });
    expect(field(fields, 'data__after__services[]quantity')).toEqual({ key: 'data__after__services[]quantity', label: 'After Services Quantity', type: 'number' });
    expect(field(fields, 'data__modifiedUser').label).toBe('Modified User');
    expect(field(everyday.new_collection_step.outputFields, 'data__step__step_code').label).toBe('Step Code');
  });

  test('gives "an object or its text" (anyOf) both: the text and the object\'s fields', () => {
    const fields = everyday.new_subscriber.outputFields;
    expect(field(fields, 'data__after__card')).toEqual({ key: 'data__after__card', label: 'After Card' });
    expect(field(fields, 'data__after__card__last_four_digits')).toEqual({
      key: 'data__after__card__last_four_digits', label: 'After Card Last Four Digits',
    });
  });

  test('covers every key of the examples: map entries, undeclared and deeply nested keys', () => {
    const fields = everyday.new_subscriber.outputFields;
    expect(field(fields, 'data__after__balances__GOLD_DATA__usagev')).toEqual({
      key: 'data__after__balances__GOLD_DATA__usagev', label: 'After Balances GOLD DATA Usage Volume', type: 'number',
    });
    expect(field(fields, 'data__after__custom__a__b__c__d').label).toBe('After Custom A B C D');
    expect(field(fields, 'data__after__flag')).toMatchObject({ type: 'boolean' });
    expect(field(fields, 'data__before')).toEqual({ key: 'data__before', label: 'Before' });
    const keys = new Set(fields.map((f) => f.key));
    expect(flattenKeys(everyday.new_subscriber.sample).filter((key) => !keys.has(key))).toEqual([]);
  });

  test('gives a module wildcard whose schema leaves the payload open the fields of its types, and * the envelope', () => {
    const fields = types['subscribers.*'].outputFields;
    expect(fields.map((f) => f.key)).toEqual(expect.arrayContaining(['data__after__firstname', 'data__after__balances__GOLD_DATA__usagev']));
    expect(types['*'].outputFields).toEqual(catalog.envelopeFields);
  });

  test('keeps labels unique: a payload label that repeats another takes its full name', () => {
    withCatalog(() => {}, (dir) => {
      const file = path.join(dir, 'events', 'subscribers.create.json');
      const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
      schema.examples[0].data.event = { type: 'x' };
      fs.writeFileSync(file, JSON.stringify(schema));
      const fields = buildCatalog(dir).everyday[0].outputFields;
      expect(field(fields, 'type').label).toBe('Event Type');
      expect(field(fields, 'data__event__type').label).toBe('Data Event Type');
      const labels = fields.map((f) => f.label);
      expect(new Set(labels).size).toBe(labels.length);
    });
  });

  test('refuses a catalog whose key Zapier would reject, whose schema is missing, or whose trigger names a never-fired type', () => {
    withCatalog((catalog) => { catalog.events[0].key = 'subscribers.create'; }, (dir) => {
      expect(() => buildCatalog(dir)).toThrow(/not a valid Zapier key/);
    });
    withCatalog((catalog) => { catalog.events[0].schema = 'events/nope.json'; }, (dir) => {
      expect(() => buildCatalog(dir)).toThrow(/not found/);
    });
    withCatalog((catalog) => { catalog.everyday[0].events = ['balances.afterBalanceCreation']; }, (dir) => {
      expect(() => buildCatalog(dir)).toThrow(/not a type BillRun fires/);
    });
    withCatalog((catalog) => { catalog.everyday[1].key = 'new_subscriber'; }, (dir) => {
      expect(() => buildCatalog(dir)).toThrow(/valid, unique Zapier key/);
    });
  });
});
