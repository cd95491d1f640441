'use strict';
/**
 * "New BillRun Event": the general trigger. Its required input picks one or more event types from
 * the connector's catalog (single types, `<entity>.trackchanges`, `<module>.*`, `*`); a type the
 * dropdown does not list (a custom collection step, `collection.<step name>`) may be typed in.
 */
const catalog = require('../lib/catalog.json');
const choices = require('./eventTypeChoices');
const { hookTrigger } = require('../lib/trigger');

const LABEL = 'New BillRun Event';
const fieldsByType = new Map(catalog.types.map((entry) => [entry.type, entry.outputFields]));

/** The chosen types, trimmed, each once; the connector names any it does not accept. */
const chosenTypes = (bundle) => {
  const raw = (bundle.inputData || {}).event_types;
  const list = (Array.isArray(raw) ? raw : String(raw || '').split(',')).map((type) => String(type).trim()).filter(Boolean);
  return [...new Set(list)];
};

const eventsOf = (bundle) => {
  const types = chosenTypes(bundle);
  if (!types.length) {
    throw new Error('Choose at least one event type in "Event Types".');
  }
  return types;
};

/**
 * One chosen type: its own labelled fields. Several: the envelope's and the payload fields every
 * chosen type shares (none for "every event"); other payload keys keep Zapier's own names.
 */
const outputFields = (z, bundle) => {
  const lists = chosenTypes(bundle).map((type) => fieldsByType.get(type) || catalog.envelopeFields);
  if (lists.length === 1) {
    return lists[0];
  }
  if (!lists.length) {
    return catalog.envelopeFields;
  }
  const shared = (field) => lists.every((list) => list.some((other) => other.key === field.key && other.label === field.label));
  return lists[0].filter(shared);
};

module.exports = hookTrigger({
  key: 'new_event',
  noun: 'Event',
  label: LABEL,
  description: 'Triggers when BillRun sends an event of the types you choose: one kind of event, every change to a '
    + 'kind of record, every event of one area, or every event BillRun sends.',
  inputFields: [{
    key: 'event_types',
    label: 'Event Types',
    type: 'string',
    required: true,
    list: true,
    dynamic: `${choices.key}.id.label`,
    helpText: 'The BillRun events that start this Zap. Pick one or more: a single event (such as "Subscriber Updated"), '
      + '"Any ... Change" for every change to a kind of record, "Any ... Event" for every event of one area, or '
      + '"Any BillRun Event" for everything, including event types added to BillRun later. A custom collection step '
      + 'can be typed in as `collection.<step name>`.',
  }],
  eventsOf,
  sample: catalog.everyEventSample,
  outputFields: [outputFields],
});
