'use strict';
/** The triggers a Zap user meets: how many, their names, what they subscribe to, their output fields. */
const zapier = require('zapier-platform-core');
const App = require('..');
const appCatalog = require('../lib/catalog.json');
const { flattenKeys } = require('./support/zapier');
const { repositoryCatalog, examplesOf } = require('./support/schemas');

const appTester = zapier.createAppTester(App);
const catalog = repositoryCatalog();
const triggers = Object.values(App.triggers);
const visible = triggers.filter((trigger) => !trigger.display.hidden);
const dedicated = appCatalog.everyday.map((entry) => ({ entry, trigger: App.triggers[entry.key] }));
const general = App.triggers.new_event;
const neverFired = catalog.events.filter((event) => !event.fired_by_billrun).map((event) => event.type);

/** Keys of `records` (flattened as the Zap editor shows them) that no field labels. */
const unlabelled = (fields, records) => {
  const keys = new Set(fields.map((field) => field.key));
  return [...new Set(records.flatMap(flattenKeys))].filter((key) => !keys.has(key));
};

/** Problems with a trigger's field labels: missing, not human, or shared by two fields. */
const labelProblems = (fields) => {
  const problems = fields.filter((field) => !/^[A-Z0-9]/.test(field.label || '') || /__|\[\]/.test(field.label)).map((field) => `${field.key}: "${field.label}"`);
  const labels = fields.map((field) => field.label);
  problems.push(...labels.filter((label, index) => labels.indexOf(label) !== index).map((label) => `"${label}" twice`));
  return problems;
};

const generalFields = (types) => appTester(general.operation.outputFields[0], { inputData: { event_types: types } });

describe('the app', () => {
  test('passes the platform\'s own schema validation', async () => {
    const handler = zapier.createAppHandler(App);
    const response = await new Promise((resolve, reject) => {
      handler({ command: 'validate', bundle: {}, platformVersion: App.platformVersion }, {}, (error, result) => (error ? reject(error) : resolve(result)));
    });
    expect(response.results).toEqual([]);
  });

  test('shows at most 25 triggers: one per everyday entry of the catalog and the general one', () => {
    expect(visible.length).toBeLessThanOrEqual(25);
    expect(visible.map((t) => t.key).sort()).toEqual([...catalog.everyday.map((e) => e.key), 'new_event'].sort());
    expect(triggers.filter((t) => t.display.hidden).map((t) => t.key)).toEqual(['event_type_choices']);
  });

  test('has no trigger per catalog type any more', () => {
    const typeKeys = new Set(catalog.events.map((event) => event.key));
    expect(Object.keys(App.triggers).filter((key) => typeKeys.has(key))).toEqual([]);
  });

  test('offers a dedicated trigger for each everyday event a billing team automates', () => {
    const byType = {};
    dedicated.forEach(({ entry }) => entry.events.forEach((type) => { byType[type] = entry.label; }));
    expect(byType).toMatchObject({
      'subscribers.create': 'New Subscriber',
      'subscribers.update': 'Updated Subscriber',
      'accounts.create': 'New Account',
      'accounts.update': 'Updated Account',
      'bills.afterChargeSuccess': 'New Payment',
      'bills.afterRefundSuccess': 'New Refund',
      'bills.afterRejection': 'Rejected Payment',
      'bills.afterInvoiceConfirmed': 'New Invoice',
      'balances.afterBalanceUpdate': 'Updated Balance',
      'collection.in_collection': 'New Customer in Collection',
      'collection.out_of_collection': 'Customer Out of Collection',
      'collection.*': 'New Collection Step',
    });
  });

  test('names every visible trigger in Zapier\'s style, each label unique, each description "Triggers when ..."', () => {
    const labels = visible.map((t) => t.display.label.toLowerCase());
    expect(new Set(labels).size).toBe(labels.length);
    for (const { display, noun } of visible) {
      expect(display.label).toMatch(/^[A-Z][a-z]+( ([A-Z][A-Za-z]+|in|of))*$/);
      expect(display.description).toMatch(/^Triggers when \S.*\.$/);
      expect(display.description).not.toMatch(/\ban [^aeiouAEIOU\s]|\ba [aeiouAEIOU]|billapi|trackchanges/);
      expect(noun.length).toBeGreaterThanOrEqual(2);
    }
  });

  test('never subscribes to a type BillRun never fires', () => {
    expect(neverFired.length).toBeGreaterThan(0);
    for (const { entry } of dedicated) {
      expect(entry.events.filter((type) => neverFired.includes(type))).toEqual([]);
    }
    expect(appCatalog.types.map((t) => t.type).filter((type) => neverFired.includes(type))).toEqual([]);
  });
});

describe('output fields', () => {
  test.each(dedicated.map(({ entry, trigger }) => [entry.label, entry, trigger]))(
    '%s labels every key of its sample and of every example of its types, each label once',
    (label, entry, trigger) => {
      const examples = entry.events.flatMap((type) => examplesOf(catalog, type));
      expect(unlabelled(trigger.operation.outputFields, [trigger.operation.sample, ...examples])).toEqual([]);
      expect(labelProblems(trigger.operation.outputFields)).toEqual([]);
    },
  );

  test('New BillRun Event with one type chosen labels every key of that type\'s examples, each label once', async () => {
    const offered = appCatalog.types.filter((t) => t.type !== '*');
    expect(offered.length).toBeGreaterThan(100);
    for (const { type } of offered) {
      const fields = await generalFields([type]);
      expect([type, unlabelled(fields, examplesOf(catalog, type))]).toEqual([type, []]);
      expect([type, labelProblems(fields)]).toEqual([type, []]);
    }
  });

  test('New BillRun Event labels its sample once a type is chosen, and the envelope for "every event"', async () => {
    const { sample } = general.operation;
    expect(unlabelled(await generalFields([sample.type]), [sample])).toEqual([]);
    expect(await generalFields(['*'])).toEqual(appCatalog.envelopeFields);
    expect(await generalFields([])).toEqual(appCatalog.envelopeFields);
  });

  test('New BillRun Event with several types labels the envelope and the payload fields they share', async () => {
    const fields = await generalFields(['subscribers.create', 'subscribers.update']);
    expect(fields.slice(0, 3)).toEqual(appCatalog.envelopeFields);
    expect(fields.map((f) => f.key)).toEqual(expect.arrayContaining(['data__after__firstname', 'data__modifiedUser']));
    expect(labelProblems(fields)).toEqual([]);
    const unrelated = await generalFields(['subscribers.update', 'bills.afterChargeSuccess']);
    expect(unrelated.map((f) => f.key)).not.toContain('data__after__firstname');
    expect(unrelated.slice(0, 3)).toEqual(appCatalog.envelopeFields);
    expect(await generalFields(['subscribers.update', '*'])).toEqual(appCatalog.envelopeFields);
  });
});
